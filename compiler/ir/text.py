"""The deterministic text form of a graph, printed by ``snnc inspect``.

Nodes appear in execution order; a parameter is shown as one value when uniform, else as
min..max, so the same graph always prints the same text.
"""
from __future__ import annotations


import numpy as np

from . import nodes as n
from .graph import Graph, flatten, population_count, synapse_count


def format_value(array: np.ndarray) -> str:
    if array.size == 0:
        return "[]"
    low, high = float(array.min()), float(array.max())
    return f"{low:.6g}" if low == high else f"{low:.6g}..{high:.6g}"


def describe(node: n.Node) -> str:
    """One line of the node's parameters."""
    parts = []
    for name, value in node.params().items():
        if name == "shape" or value is None:
            continue
        if isinstance(value, np.ndarray):
            is_matrix = name == "weight" or value.ndim > 1 and not isinstance(node, n.Neuron)
            shown = f"{tuple(value.shape)} {format_value(value)}" if is_matrix else format_value(value)
        else:
            shown = str(value).replace(" ", "")
        parts.append(f"{name}={shown}")
    return " ".join(parts)


def format_graph(graph: Graph, title: str = "graph") -> str:
    flat = graph if graph.is_flat else flatten(graph)
    shapes = flat.shapes
    lines = [f"{title}: {len(flat.nodes)} nodes, {len(flat.edges)} edges, "
             f"{population_count(flat)} neurons, {synapse_count(flat)} synapses"]
    width = max(len(name) for name in flat.nodes)
    for name in flat.order:
        node = flat.nodes[name]
        shape = "x".join(map(str, shapes[name])) or "scalar"
        lines.append(f"  {name:<{width}}  {node.type_name:<9} {shape:<12} {describe(node)}".rstrip())
    lines.append("edges:")
    recurrent = flat.recurrent_edges
    for src, dst in sorted(flat.edges, key=lambda e: (flat.order.index(e[0]), e[1])):
        mark = "  (recurrent: previous step)" if (src, dst) in recurrent else ""
        lines.append(f"  {src} -> {dst}{mark}")
    repairs = [f"{prefix}{note}" for prefix, sub in _graphs(graph)
               for note in sub.metadata.get("repairs", ())]
    if repairs:
        lines.append("repaired on import:")
        lines.extend(f"  {note}" for note in repairs)
    approximations = graph.metadata.get("approximations", ())
    if approximations:  # lossy conversions the user opted into (e.g. snnTorch max_pool=)
        lines.append("approximated on import (opted in):")
        lines.extend(f"  {note}" for note in approximations)
    return "\n".join(lines)


def _graphs(graph: Graph):
    yield "", graph
    for name, node in graph.walk():
        if isinstance(node, Graph):
            yield f"{name}: ", node


__all__ = ["format_graph", "describe", "format_value"]
