"""lower: convolutions and pools become synapse matrices, and every population becomes 1-d, for
targets that have no convolution engine.

- Conv1d / Conv2d / SumPool2d / AvgPool2d -> Affine / Linear whose matrix is the layer applied
  to each unit input (exactly the layer's connectivity; zeros where no synapse), so
  y = M x + b with x and y flattened in C order;
- every other node's parameters are flattened to match, Flatten nodes disappear (a 1-d graph
  needs no index map), the Input keeps its shape and is followed by one Flatten, and Output
  nodes become 1-d (values in C order).

Float sums run in a different order than the convolution's, so values match to rounding; the
tests check that reference spikes are identical (float64).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.ir import Graph, flatten, synapse_count
from snnc.ir import nodes as n
from snnc.options import SimOptions

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult

WINDOWED = (n.Conv1d, n.Conv2d, n.SumPool2d, n.AvgPool2d)


@dataclass(frozen=True)
class Lower(Pass):
    name: ClassVar[str] = "lower"

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        original = graph if graph.is_flat else flatten(graph)
        shapes = original.shapes
        nodes, edges = {}, _without_flattens(original)
        for name, node in original.nodes.items():
            if isinstance(node, WINDOWED):
                nodes[name] = _as_matrix(node, shapes[original.predecessors(name)[0]])
            elif not isinstance(node, n.Flatten):
                nodes[name] = _flattened(node, shapes[name])
        for name, node in original.nodes.items():  # the user's input keeps its layout
            if isinstance(node, n.Input) and len(node.shape) > 1:
                nodes[f"{name}.flat"] = n.Flatten(start_dim=0)
                edges = [(f"{name}.flat" if s == name else s, d) for s, d in edges]
                edges.append((name, f"{name}.flat"))
        lowered = Graph(nodes=nodes, edges=tuple(edges), metadata=original.metadata)
        report = {"lowered": [k for k, v in original.nodes.items() if isinstance(v, WINDOWED)],
                  "synapses_before": synapse_count(original),
                  "synapses_after": synapse_count(lowered)}
        return PassResult(lowered, {**report, **fidelity(original, lowered, ctx)})


def _without_flattens(graph: Graph) -> list[tuple[str, str]]:
    """The edges with every Flatten bypassed: in a 1-d graph they change nothing."""
    edges = list(graph.edges)
    for name, node in graph.nodes.items():
        if isinstance(node, n.Flatten):
            source = [s for s, d in edges if d == name][0]
            readers = [d for s, d in edges if s == name]
            edges = [(s, d) for s, d in edges if name not in (s, d)]
            edges += [(source, reader) for reader in readers]
    return edges


def _as_matrix(node: n.Node, in_shape: tuple[int, ...]) -> n.Node:
    """The layer applied to every unit input: column j of M is the response to input j."""
    from snnc.backends.reference.kernels import STATELESS

    size = math.prod(in_shape)
    kernel = STATELESS[type(node)](_without_bias(node), SimOptions(dtype="float64"), in_shape)
    matrix = kernel.apply(np.eye(size).reshape(size, *in_shape)).reshape(size, -1).T
    dtype = node.weight.dtype if hasattr(node, "weight") else np.float64
    if hasattr(node, "bias") and node.bias.any():
        per_output = np.repeat(node.bias, matrix.shape[0] // node.bias.size)  # C-order outputs
        return n.Affine(weight=matrix.astype(dtype), bias=per_output.astype(dtype))
    return n.Linear(weight=matrix.astype(dtype))


def _without_bias(node: n.Node) -> n.Node:
    if hasattr(node, "bias"):
        return dataclasses.replace(node, bias=np.zeros_like(node.bias))
    return node


ELEMENTWISE = {n.Scale: "scale", n.Threshold: "threshold", n.Delay: "delay"}


def _flattened(node: n.Node, shape: tuple[int, ...]) -> n.Node:
    """The node with its per-element parameters in C order over a 1-d population."""
    size = (math.prod(shape),)
    if isinstance(node, n.Output):
        return dataclasses.replace(node, shape=size)
    if isinstance(node, n.Neuron):
        return dataclasses.replace(node, **{k: getattr(node, k).reshape(size) for k in node.arrays})
    field = ELEMENTWISE.get(type(node))
    if field:
        value = np.broadcast_to(getattr(node, field), shape).reshape(size)
        return dataclasses.replace(node, **{field: value})
    return node
