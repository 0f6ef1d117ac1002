"""Mapping artefacts on disk: versioned JSON, schema-checked when read back.

Each file is ``{"format": "snnc-<kind>", "version": VERSION, ...}``; its records are the
fields of one frozen dataclass, every field of the type it declares. A file that is not what
it says (another format or version, a missing or unknown key, a value of the wrong type)
raises ``MappingError`` naming the file and the key, so a program directory from another
snnc version, or edited by hand, is refused rather than misread.
"""
from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from snnc.errors import MappingError

VERSION = 1
TYPES = {"int": int, "str": str, "bool": bool}


def dump(kind: str, data: dict[str, Any]) -> str:
    return json.dumps({"format": f"snnc-{kind}", "version": VERSION, **data}, indent=1)


def load(kind: str, text: str, origin: str) -> dict[str, Any]:
    """The file's data, checked for its format and version."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise MappingError(f"{origin}: not JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != f"snnc-{kind}":
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise MappingError(f"{origin}: not an snnc {kind} file (format {found!r})")
    if data.get("version") != VERSION:
        raise MappingError(f"{origin}: {kind} format version {data.get('version')!r}; this "
                           f"snnc reads version {VERSION} (compile the model again)")
    return data


def field(data: dict, key: str, kind: type, origin: str) -> Any:
    """One top-level value of the declared type."""
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MappingError(f"{origin}: {key}: expected {kind.__name__}, got {value!r}")
    return value


def records(cls: type, items: Any, origin: str, key: str) -> tuple:
    """``cls`` instances from a list of JSON objects, each with exactly its fields."""
    if not isinstance(items, list):
        raise MappingError(f"{origin}: {key}: expected a list")
    spec = {f.name: TYPES[f.type] for f in fields(cls)}
    out = []
    for i, item in enumerate(items):
        where = f"{origin}: {key}[{i}]"
        if not isinstance(item, dict) or set(item) != set(spec):
            got = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise MappingError(f"{where}: expected keys {sorted(spec)}, got {got}")
        for name, kind in spec.items():
            field(item, name, kind, where)
        out.append(cls(**item))
    return tuple(out)
