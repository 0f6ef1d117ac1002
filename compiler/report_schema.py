"""The versioned JSON schema of ``snnc report --format json`` (schemas/report.v1.schema.json)
and a validator: ``jsonschema`` where it is installed, else the small one here, which knows the
keywords that schema uses (type, enum, required, properties, additionalProperties, items,
minItems/maxItems, minimum/maximum/exclusiveMinimum, anyOf, local $ref)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schemas") / "report.v1.schema.json"
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def validate(document: Any, schema: dict | None = None) -> list[str]:
    """Every place where ``document`` breaks the schema (empty: valid); numbers must be
    finite as well (JSON has no NaN or infinity)."""
    schema = load_schema() if schema is None else schema
    problems = [f"{where}: {value} is not finite" for where, value in _numbers(document, "$")
                if not math.isfinite(value)]
    try:
        import jsonschema
    except ModuleNotFoundError:
        return problems + list(_check(document, schema, schema, "$"))
    validator = jsonschema.Draft202012Validator(schema)
    return problems + [f"${''.join(f'[{p!r}]' for p in e.absolute_path)}: {e.message}"
                       for e in validator.iter_errors(document)]


def _numbers(value: Any, where: str):
    if isinstance(value, float):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _numbers(item, f"{where}[{k}]")


def _check(value: Any, schema: dict, root: dict, where: str):
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        yield from _check(value, node, root, where)
        return
    if "type" in schema and not _is_type(value, schema["type"]):
        yield f"{where}: {value!r} is not of type {schema['type']}"
        return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{where}: {value!r} is not one of {schema['enum']}"
    if "anyOf" in schema and not any(not list(_check(value, s, root, where))
                                     for s in schema["anyOf"]):
        yield f"{where}: matches none of the allowed forms"
    if _is_number(value):
        yield from _bounds(value, schema, where)
    if isinstance(value, dict):
        yield from _object(value, schema, root, where)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e18):
            yield f"{where}: {len(value)} items, outside the allowed count"
        for k, item in enumerate(value):
            if "items" in schema:
                yield from _check(item, schema["items"], root, f"{where}[{k}]")


def _object(value: dict, schema: dict, root: dict, where: str):
    for key in schema.get("required", ()):
        if key not in value:
            yield f"{where}: '{key}' is a required property"
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key in properties:
            yield from _check(item, properties[key], root, f"{where}[{key!r}]")
        elif isinstance(schema.get("additionalProperties"), dict):
            yield from _check(item, schema["additionalProperties"], root, f"{where}[{key!r}]")


def _bounds(value: float, schema: dict, where: str):
    if "minimum" in schema and value < schema["minimum"]:
        yield f"{where}: {value} is less than the minimum of {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        yield f"{where}: {value} is greater than the maximum of {schema['maximum']}"
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        yield f"{where}: {value} is not greater than {schema['exclusiveMinimum']}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_type(value: Any, expected) -> bool:
    for name in [expected] if isinstance(expected, str) else expected:
        if name == "number" and _is_number(value):
            return True
        if name == "integer" and _is_number(value) and float(value).is_integer():
            return True
        if name in TYPES and isinstance(value, TYPES[name]):
            return True
    return False
