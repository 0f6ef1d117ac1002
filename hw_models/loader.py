"""Read a chip TOML file into a ``Chip``, rejecting anything the schema does not describe.

Each problem is one line naming the file and the dotted key, so a typo in a chip file reads like
``loihi1.toml: core.neurons_per_cor: unknown key (did you mean neurons_per_core?)``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import fields
from typing import Optional

try:  # Python 3.11+; snnc supports 3.10, where the same parser is the tomli package
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib

from .schema import (EVIDENCE, KIND_PATTERN, NAMED_SECTIONS, SECTIONS, STEP_SEMANTICS, Chip,
                     ChipModelError, Sourced, frozen_mapping)

_SI = {"": 0, "k": 3, "M": 6, "G": 9, "m": -3, "u": -6, "µ": -6, "n": -9, "p": -12, "f": -15,
       "a": -18, "z": -21}


def _prefixed(base: str) -> dict[str, tuple[int, int]]:
    # Exact (multiplier, divisor) pairs: 23.6 pJ -> 23.6 / 10**12 J with one correctly rounded
    # division, where 23.6 * 1e-12 would not be.
    return {p + base: (10 ** e, 1) if e >= 0 else (1, 10 ** -e) for p, e in _SI.items()}


# Units a file may write for each canonical unit, as (multiplier, divisor) to the canonical one.
# Physical units take SI prefixes; counts must be written exactly as the schema names them.
CONVERSIONS: dict[str, dict[str, tuple[int, int]]] = {
    **{base: _prefixed(base) for base in ("J", "s", "W", "Hz", "A", "V", "S", "spikes/s")},
    "bits": {"bits": (1, 1), "Kibit": (1024, 1), "Mibit": (1024 ** 2, 1),
             "bytes": (8, 1), "KiB": (8 * 1024, 1), "MiB": (8 * 1024 ** 2, 1)},
    "op/J": {"op/J": (1, 1), "GOPS/W": (10 ** 9, 1), "TOPS/W": (10 ** 12, 1)},
}
QUANTITY_KEYS = {"value", "unit", "source", "evidence"}


def parse_chip(text: str, origin: str) -> Chip:
    """Parse the TOML ``text`` of a chip file; ``origin`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ChipModelError(f"{origin}: not valid TOML: {e}") from None
    _check_keys(doc, {"chip", *SECTIONS, *NAMED_SECTIONS}, "", origin)
    sources: dict[str, Sourced] = {}
    identity = _identity(doc.get("chip"), origin)
    sections = {name: _section(cls, doc.get(name, {}), name, origin, sources)
                for name, cls in SECTIONS.items()}
    named = {}
    for name, cls in NAMED_SECTIONS.items():
        table = _table(doc.get(name, {}), name, origin)
        named[name] = frozen_mapping({entry: _section(cls, sub, f"{name}.{entry}", origin, sources)
                                      for entry, sub in table.items()})
    _check_events_from(named["energy"], origin)
    model = identity["energy_model"]
    if model is not None and model not in named["energy"]:
        raise ChipModelError(f"{origin}: chip.energy_model: '{model}' is not an [energy.*] table "
                             f"(have: {', '.join(named['energy']) or 'none'})")
    return Chip(**identity, **sections, **named, sources=frozen_mapping(sources), origin=origin)


def _check_events_from(models, origin: str) -> None:
    """Each ``events_from`` must name another [energy.*] table that does not refer back."""
    for name, model in models.items():
        base = model.events_from
        if not base:
            continue
        if base == name or base not in models:
            raise ChipModelError(f"{origin}: energy.{name}.events_from: '{base}' is not another "
                                 f"[energy.*] table (have: {', '.join(models)})")
        if models[base].events_from:
            raise ChipModelError(f"{origin}: energy.{name}.events_from: '{base}' has its own "
                                 "events_from; chains are not allowed")


def _identity(table, origin: str) -> dict:
    """The [chip] table: plain text naming the chip, so no sources."""
    if table is None:
        raise ChipModelError(f"{origin}: chip: missing [chip] table (name, description, kind, "
                             "step_semantics)")
    table = _table(table, "chip", origin)
    keys = {"name", "description", "kind", "step_semantics", "energy_model"}
    _check_keys(table, keys, "chip.", origin)
    out = {}
    for key in sorted(keys):
        value = table.get(key)
        if value is None and key != "energy_model":
            raise ChipModelError(f"{origin}: chip.{key}: missing")
        if value is not None and not isinstance(value, str):
            raise ChipModelError(f"{origin}: chip.{key}: expected a string, got {value!r}")
        out[key] = value
    if out["step_semantics"] not in STEP_SEMANTICS:
        raise ChipModelError(f"{origin}: chip.step_semantics: '{out['step_semantics']}' is not "
                             f"one of {', '.join(STEP_SEMANTICS)}")
    if not re.fullmatch(KIND_PATTERN, out["kind"]):
        raise ChipModelError(f"{origin}: chip.kind: '{out['kind']}' is not a family name "
                             "(lower-case letters, digits, _)")
    return out


def _section(cls, table, prefix: str, origin: str, sources: dict):
    """Fill dataclass ``cls`` from one TOML table, recording each value's source."""
    table = _table(table, prefix, origin)
    spec = {f.name: f for f in fields(cls)}
    _check_keys(table, spec, prefix + ".", origin)
    values = {}
    for key, raw in table.items():
        where = f"{origin}: {prefix}.{key}"
        meta = spec[key].metadata
        if meta.get("plain"):
            if not isinstance(raw, str):
                raise ChipModelError(f"{where}: expected a string, got {raw!r}")
            values[key] = raw
            continue
        values[key], sources[f"{prefix}.{key}"] = _quantity(raw, meta, where)
    return cls(**values)


def _quantity(raw, meta, where: str):
    """Check one ``{ value, unit, source, evidence }`` table; return (canonical value, Sourced)."""
    if not isinstance(raw, dict):
        raise ChipModelError(f"{where}: bare value {raw!r}; write "
                             "{ value = ..., unit = ..., source = \"...\", evidence = \"...\" }")
    _check_keys(raw, QUANTITY_KEYS, "", where, what="key in quantity")
    for key in ("value", "source", "evidence"):
        if key not in raw:
            raise ChipModelError(f"{where}: missing '{key}'")
    source, evidence = raw["source"], raw["evidence"]
    if not isinstance(source, str) or not source.strip():
        raise ChipModelError(f"{where}: 'source' must be a non-empty string")
    if evidence not in EVIDENCE:
        raise ChipModelError(f"{where}: evidence {evidence!r} is not one of {', '.join(EVIDENCE)}")
    value = _typed(raw["value"], meta, where)
    unit, (mult, div) = _unit(raw.get("unit"), meta["unit"], where)
    if (mult, div) != (1, 1):
        if meta["type"] is int:
            if value * mult % div:
                raise ChipModelError(f"{where}: {raw['value']} {raw['unit']} is not a whole "
                                     f"number of {unit}")
            value = value * mult // div
        else:
            value = value * mult / div
    given = f"{raw['value']} {raw.get('unit', '')}".strip()
    return value, Sourced(value, unit, source, evidence, given)


def _typed(value, meta, where: str):
    """Check the value against the field's type (bool is never a number) and choices."""
    kind = meta["type"]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise ChipModelError(f"{where}: expected {_TYPE_NAMES[kind]}, got {value!r}")
    if meta["choices"] and value not in meta["choices"]:
        raise ChipModelError(f"{where}: {value!r} is not one of {', '.join(meta['choices'])}")
    return value


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _unit(given: Optional[str], canonical: Optional[str], where: str):
    """The canonical unit and the (multiplier, divisor) that convert ``given`` to it."""
    if canonical is None:
        if given not in (None, ""):
            raise ChipModelError(f"{where}: takes no unit, got '{given}'")
        return None, (1, 1)
    if given is None:
        raise ChipModelError(f"{where}: missing 'unit' (expected {canonical})")
    accepted = CONVERSIONS.get(canonical, {canonical: (1, 1)})
    if given not in accepted:
        raise ChipModelError(f"{where}: wrong unit '{given}' (expected {', '.join(accepted)})")
    return canonical, accepted[given]


def _table(value, prefix: str, origin: str) -> dict:
    if not isinstance(value, dict):
        raise ChipModelError(f"{origin}: {prefix}: expected a table, got {value!r}")
    return value


def _check_keys(table: dict, allowed, prefix: str, where: str, what: str = "key") -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            sep = ": " if where else ""
            raise ChipModelError(f"{where}{sep}{prefix}{key}: unknown {what}{hint}")
