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
from snnc.ir.shapes import conv_pads
from snnc.ir import nodes as n

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
    """The layer as a dense matrix: entry (output, input) is the one kernel weight (or pool
    factor) that connects them, zero where no window tap does.

    Built by index arithmetic, not by running the layer on an identity matrix (that took
    seconds per conv layer). Within one window every tap reads a different input, so each
    entry is a single weight: the values equal the identity construction's bit for bit."""
    rows, cols, values, out_size = _window_entries(node, in_shape)
    dtype = node.weight.dtype if hasattr(node, "weight") else np.float64
    matrix = np.zeros((out_size, math.prod(in_shape)), dtype)
    matrix[rows, cols] = values
    if hasattr(node, "bias") and node.bias.any():
        per_output = np.repeat(node.bias, out_size // node.bias.size)  # C-order outputs
        return n.Affine(weight=matrix, bias=per_output.astype(dtype))
    return n.Linear(weight=matrix)


def _window_entries(node: n.Node, in_shape: tuple[int, ...]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Row (flat output), column (flat input) and value of every synapse, and the output size."""
    spatial = in_shape[1:]
    if isinstance(node, n._Conv):
        kernel, stride, dilation, pads = (node.kernel_size, node.stride, node.dilation,
                                          conv_pads(node))
    else:  # pools: no dilation, symmetric zero padding
        kernel, stride, dilation = node.kernel_size, node.stride, (1,) * len(spatial)
        pads = [(p, p) for p in node.padding]
    out, out_idx, in_idx, inside = _taps(spatial, kernel, stride, dilation, pads)
    o, c_in, values = _channels(node, in_shape[0], len(spatial))
    full = np.broadcast_shapes(o.shape, c_in.shape, values.shape, (1, 1, *inside.shape))
    keep = np.broadcast_to(inside, full)
    rows = np.broadcast_to(o * math.prod(out) + out_idx, full)[keep]
    cols = np.broadcast_to(c_in * math.prod(spatial) + in_idx, full)[keep]
    return rows, cols, np.broadcast_to(values, full)[keep], o.size * math.prod(out)


def _channels(node: n.Node, channels: int, dims: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output channel, input channel and value per (channel pair, *out, *kernel), broadcastable:
    a conv reads every channel of its group with its own weight, a pool its own channel."""
    if isinstance(node, n._Conv):
        c_out, c_group = node.weight.shape[:2]
        o = np.arange(c_out).reshape(-1, 1, *[1] * 2 * dims)
        c = np.arange(c_group).reshape(1, -1, *[1] * 2 * dims)
        c_in = o // (c_out // node.groups) * c_group + c  # the group's input channels
        return o, c_in, node.weight.reshape(c_out, c_group, *[1] * dims, *node.kernel_size)
    o = np.arange(channels).reshape(-1, 1, *[1] * 2 * dims)
    # the reference divides a float64 sum by the window size: the same rounding here
    divisor = math.prod(node.kernel_size) if isinstance(node, n.AvgPool2d) else 1
    return o, o, np.full((1,) * (2 + 2 * dims), np.float64(1) / np.float64(divisor))


def _taps(size, kernel, stride, dilation, pads
          ) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]:
    """For every output position and kernel tap, arrays shaped (*out, *kernel): the flat output
    index, the flat input index it reads, and whether that input lies inside (not padding).
    Same window arithmetic as the reference kernels' ``windows``."""
    dims = len(size)
    out = tuple((s + lo + hi - d * (k - 1) - 1) // st + 1
                for s, k, st, d, (lo, hi) in zip(size, kernel, stride, dilation, pads))
    out_idx, in_idx = np.zeros((1,) * 2 * dims, np.int64), np.zeros((1,) * 2 * dims, np.int64)
    inside = np.ones((1,) * 2 * dims, bool)
    for i in range(dims):
        axis = [1] * 2 * dims
        axis[i] = out[i]
        position = np.arange(out[i]).reshape(axis)
        axis[i], axis[dims + i] = 1, kernel[i]
        tap = np.arange(kernel[i]).reshape(axis)
        read = position * stride[i] - pads[i][0] + tap * dilation[i]
        inside = inside & (read >= 0) & (read < size[i])
        out_idx = out_idx * out[i] + position  # C order: earlier dims vary slowest
        in_idx = in_idx * size[i] + read  # garbage where outside; masked by `inside`
    shape = (*out, *kernel)
    return (out, *(np.broadcast_to(a, shape) for a in (out_idx, in_idx, inside)))


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
