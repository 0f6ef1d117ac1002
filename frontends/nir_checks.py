"""Structural checks of NIR's plain-dict form (``{"type": ..., field: value}``), before any node
is built: what each field must be, said in one line naming the node and the field.

Values (positive time constants, real numbers, shapes that agree) are checked by the IR nodes
themselves (``snnc.ir.nodes``), for every frontend; the importer adds the node's name.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from snnc.errors import GraphError
from snnc.ir.values import short

MAX_NESTING = 64  # graphs inside graphs; NIR files in circulation nest one or two
EDGES_FORM = "NIR stores edges as an (N, 2) array of node names"


def decode(value: Any) -> Any:
    """Bytes and 0-d string arrays as str; anything else unchanged."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO" and value.ndim == 0:
        return decode(value.item())
    return value


def node_type(name: str, raw: Any) -> str:
    """The node's ``type`` field; the node must be a group of fields."""
    if not isinstance(raw, dict):
        raise GraphError(f"node '{name}': stored as a single value, not a group of fields")
    kind = decode(raw.get("type"))
    if kind is None:
        raise GraphError(f"node '{name}': has no 'type' field")
    if not isinstance(kind, str):
        raise GraphError(f"node '{name}', field 'type': {short(kind)} is not a type name")
    return kind


def node_fields(name: str, kind: str, raw: dict[str, Any], fields: set[str]) -> None:
    """Each of the node type's ``fields`` is a value, metadata a group."""
    for key in fields & raw.keys():
        if isinstance(raw[key], dict):
            raise GraphError(f"node '{name}' ({kind}), field '{key}': a group, not a value")
    if not isinstance(raw.get("metadata", {}), dict):
        raise GraphError(f"node '{name}' ({kind}), field 'metadata': a value, not a group")


def graph_nodes(raw: dict[str, Any]) -> dict[str, Any]:
    nodes = raw.get("nodes", {})
    if not isinstance(nodes, dict):
        raise GraphError("field 'nodes': a value, not a group of nodes")
    return {str(k): v for k, v in nodes.items()}


def edge_list(value: Any) -> list[tuple[str, str]]:
    """A graph's ``edges`` field as (source, destination) name pairs."""
    if value is None:
        return []
    if isinstance(value, dict):
        raise GraphError(f"field 'edges': a group; {EDGES_FORM}")
    try:
        array = np.asarray(value, dtype=object)
    except ValueError:  # ragged lists from memory
        raise GraphError(f"field 'edges': ragged; {EDGES_FORM}") from None
    if array.size == 0:
        return []
    if array.ndim != 2 or array.shape[1] != 2:
        raise GraphError(f"field 'edges': shape {array.shape}; {EDGES_FORM}")
    names = [decode(v) for v in array.ravel()]
    wrong = next((v for v in names if not isinstance(v, str)), None)
    if wrong is not None:
        raise GraphError(f"field 'edges': {short(wrong)} is not a node name; {EDGES_FORM}")
    return list(zip(names[::2], names[1::2]))


def graph_metadata(raw: dict[str, Any]) -> dict[str, Any]:
    """The graph's metadata, decoded; a ``dt`` (seconds) must be a positive normal number."""
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        raise GraphError("field 'metadata': a value, not a group")
    metadata = {k: decode(v) for k, v in metadata.items()}
    if "dt" in metadata:
        metadata["dt"] = _seconds("metadata/dt", metadata["dt"])
    return metadata


def _seconds(field: str, value: Any) -> float:
    try:
        if np.iscomplexobj(value):
            raise TypeError("complex")
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise GraphError(f"field '{field}': {short(value)} is not a number of seconds") from None
    if array.size != 1:
        raise GraphError(f"field '{field}': holds {array.size} values, not one number of seconds")
    seconds = float(array.reshape(()))
    if not (math.isfinite(seconds) and seconds >= np.finfo(np.float64).tiny):
        raise GraphError(f"field '{field}': {seconds:g} is not a positive number of seconds")
    return seconds


def is_graph(raw: Any) -> bool:
    """Whether a plain-dict node is a NIRGraph (its type may be anything in a bad file)."""
    kind = decode(raw.get("type")) if isinstance(raw, dict) else None
    return isinstance(kind, str) and kind == "NIRGraph"


def require_output(kinds: dict[str, str]) -> None:
    """A model without an Output node computes nothing anyone can see."""
    if kinds and "Output" not in kinds.values():
        raise GraphError("graph has no Output node")
