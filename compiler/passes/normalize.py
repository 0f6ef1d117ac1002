"""normalize: rewrites that fewer node types and fewer nodes make easier to map, each exact in
real arithmetic (folded parameters are computed in float64):

- AvgPool2d -> SumPool2d followed by Scale(1 / window), as hardware has no division;
- a Scale moves past a Flatten after it, and folds into the matrix or convolution next to it:
  into the one before it (rows scaled: W' = diag(s) W, b' = s b) or, failing that, the one
  after it (columns scaled: W' = W diag(s); for a convolution, s must be uniform within each
  channel);
- two consecutive Affine/Linear nodes merge into one (W = W2 W1, b = W2 b1 + b2) when the
  first feeds only the second;
- identities go: Scale of ones, zero Delay, a Flatten that changes no shape.

Nodes with several inputs or outputs are left alone where a rewrite would change what the
other edges see. A run of identities, and a chain of matrices, goes in one rewrite (one graph
rebuild), so long chains normalize in linear time. Float rounding differs from the original
graph by about one unit in the last place; the tests check that reference spikes stay
identical.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.ir import Graph, flatten
from snnc.ir import nodes as n

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult

MATRIX = n.MATRICES
CONV = (n.Conv1d, n.Conv2d)


@dataclass(frozen=True)
class Normalize(Pass):
    name: ClassVar[str] = "normalize"
    avgpool: bool = True
    fold_scale: bool = True
    merge_linear: bool = True

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        original = graph = graph if graph.is_flat else flatten(graph)
        counts = {"avgpool_split": 0, "scale_moved": 0, "scale_folded": 0, "linear_merged": 0,
                  "identity_removed": 0}
        rewrites = [("identity_removed", _remove_identity)]
        if self.avgpool:
            rewrites.append(("avgpool_split", _split_avgpool))
        if self.fold_scale:
            rewrites += [("scale_moved", _scale_past_flatten), ("scale_folded", _fold_scale)]
        if self.merge_linear:
            rewrites.append(("linear_merged", _merge_linear))
        changed = True
        while changed:  # apply rewrites until none matches
            changed = False
            for key, rewrite in rewrites:
                for name in list(graph.order):
                    if name in graph.nodes:
                        rewritten = rewrite(graph, name)
                        if rewritten is not None:  # a chain merge removes several nodes
                            counts[key] += max(1, len(graph.nodes) - len(rewritten.nodes))
                            graph, changed = rewritten, True
        report = {**counts, "nodes_before": len(original.nodes), "nodes_after": len(graph.nodes)}
        return PassResult(graph, {**report, **fidelity(original, graph, ctx)})


def _only(items: list[str]) -> str | None:
    return items[0] if len(items) == 1 else None


def _bypass(graph: Graph, name: str, replacements: dict[str, n.Node]) -> Graph:
    """Remove ``name`` (one input), wiring its input to its readers; replace other nodes."""
    source = graph.predecessors(name)[0]
    edges = [(s, d) for s, d in graph.edges if name not in (s, d)]
    edges += [(source, d) for d in graph.successors(name) if (source, d) not in edges]
    nodes = {k: replacements.get(k, v) for k, v in graph.nodes.items() if k != name}
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _remove_identity(graph: Graph, name: str) -> Graph | None:
    """Bypass ``name`` if it is an identity, with the identities that follow it in a run (one
    graph rebuild for the run, not one per node)."""
    if not _is_identity(graph, name) or not _only(graph.predecessors(name)):
        return None
    run = [name]
    while (after := _only(graph.successors(run[-1]))) and _is_identity(graph, after) \
            and _only(graph.predecessors(after)):
        run.append(after)
    source, gone = graph.predecessors(name)[0], set(run)
    edges = [(s, d) for s, d in graph.edges if s not in gone and d not in gone]
    edges += [(source, d) for d in graph.successors(run[-1]) if (source, d) not in edges]
    nodes = {k: v for k, v in graph.nodes.items() if k not in gone}
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _is_identity(graph: Graph, name: str) -> bool:
    node = graph.nodes[name]
    return ((isinstance(node, n.Scale) and bool(np.all(node.scale == 1)))
            or (isinstance(node, n.Delay) and bool(np.all(node.delay == 0)))
            or (isinstance(node, n.Flatten) and bool(graph.predecessors(name))
                and graph.shapes[name] == graph.shapes[graph.predecessors(name)[0]]))


def _split_avgpool(graph: Graph, name: str) -> Graph | None:
    node = graph.nodes[name]
    if not isinstance(node, n.AvgPool2d):
        return None
    pooled = f"{name}.sum"
    shape = graph.shapes[name]
    scale = n.Scale(scale=np.full(shape, 1.0 / np.prod(node.kernel_size)))
    nodes = {**{k: v for k, v in graph.nodes.items() if k != name},
             pooled: n.SumPool2d(kernel_size=node.kernel_size, stride=node.stride,
                                 padding=node.padding),
             name: scale}
    edges = [(s, pooled if d == name else d) for s, d in graph.edges] + [(pooled, name)]
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _fold_scale(graph: Graph, name: str) -> Graph | None:
    node = graph.nodes[name]
    source = _only(graph.predecessors(name))
    if not isinstance(node, n.Scale) or source is None:
        return None
    scale = np.broadcast_to(node.scale.astype(np.float64), graph.shapes[name])
    before = graph.nodes[source]
    foldable = isinstance(before, MATRIX) or (isinstance(before, CONV)
                                              and _per_channel(scale) is not None)
    if foldable and graph.successors(source) == [name]:
        return _bypass(graph, name, {source: _scale_rows(before, scale)})
    readers = graph.successors(name)
    if readers and all(_scalable_columns(graph, r, name, scale) for r in readers):
        return _bypass(graph, name, {r: _scale_columns(graph.nodes[r], scale) for r in readers})
    return None


def _scale_past_flatten(graph: Graph, name: str) -> Graph | None:
    """Scale -> Flatten becomes Flatten -> Scale, so the scale can reach the matrix after it."""
    node = graph.nodes[name]
    reader = _only(graph.successors(name))
    if not isinstance(node, n.Scale) or reader is None or _only(graph.predecessors(name)) is None:
        return None
    flat = graph.nodes[reader]
    if not isinstance(flat, n.Flatten) or graph.predecessors(reader) != [name]:
        return None
    source = graph.predecessors(name)[0]
    scale = np.broadcast_to(node.scale, graph.shapes[name]).reshape(graph.shapes[reader])
    readers = graph.successors(reader)
    old = {(source, name), (name, reader), *((reader, r) for r in readers)}
    edges = [e for e in graph.edges if e not in old]
    edges += [(source, reader), (reader, name), *((name, r) for r in readers)]
    nodes = {**graph.nodes, name: dataclasses.replace(node, scale=scale)}
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _scale_rows(node: n.Node, scale: np.ndarray) -> n.Node:
    """diag(s) (W x + b): for a convolution s is uniform per output channel."""
    per_row = scale if isinstance(node, MATRIX) else _per_channel(scale)
    w = node.weight.astype(np.float64) * per_row.reshape(-1, *[1] * (node.weight.ndim - 1))
    changes = {"weight": w.astype(node.weight.dtype)}
    if hasattr(node, "bias"):
        changes["bias"] = (node.bias.astype(np.float64) * per_row).astype(node.bias.dtype)
    return dataclasses.replace(node, **changes)


def _scalable_columns(graph: Graph, reader: str, scale_node: str, scale: np.ndarray) -> bool:
    node = graph.nodes[reader]
    if graph.predecessors(reader) != [scale_node]:
        return False
    return isinstance(node, MATRIX) or (isinstance(node, CONV) and _per_channel(scale) is not None)


def _scale_columns(node: n.Node, scale: np.ndarray) -> n.Node:
    """W (s x): scale input columns (input channels for a convolution, groups respected)."""
    w = node.weight.astype(np.float64)
    if isinstance(node, MATRIX):
        w = w * scale[None, :]
    else:
        per_channel = _per_channel(scale)  # (C_in,)
        c_group = w.shape[1]
        out_group = w.shape[0] // node.groups
        for group in range(node.groups):
            rows = slice(group * out_group, (group + 1) * out_group)
            channels = per_channel[group * c_group:(group + 1) * c_group]
            w[rows] = w[rows] * channels.reshape(1, -1, *[1] * (w.ndim - 2))
    return dataclasses.replace(node, weight=w.astype(node.weight.dtype))


def _per_channel(scale: np.ndarray) -> np.ndarray | None:
    """The per-channel factors of a (C, ...) scale, or None if it varies within a channel."""
    flat = scale.reshape(scale.shape[0], -1)
    return flat[:, 0] if np.all(flat == flat[:, :1]) else None


def _merge_linear(graph: Graph, name: str) -> Graph | None:
    """Merge the whole chain of matrices through ``name`` (each feeding only the next) at
    once, so a long chain is one rewrite, not one graph rebuild per pair."""
    if not _mergeable(graph, name):
        return None
    chain = [name]
    while _mergeable(graph, chain[0]):
        chain.insert(0, graph.predecessors(chain[0])[0])
    while (len(graph.successors(chain[-1])) == 1
           and _mergeable(graph, graph.successors(chain[-1])[0])):
        chain.append(graph.successors(chain[-1])[0])
    merged = graph.nodes[chain[0]]
    for later in chain[1:]:
        merged = _merged(merged, graph.nodes[later])
    source, last, inner = graph.predecessors(chain[0])[0], chain[-1], set(chain[:-1])
    nodes = {k: (merged if k == last else v) for k, v in graph.nodes.items() if k not in inner}
    edges = [(source, last)] + [(s, d) for s, d in graph.edges
                                if s not in inner and d not in inner]
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)


def _mergeable(graph: Graph, name: str) -> bool:
    """Whether ``name`` is a matrix whose one input is a matrix that feeds only it and has
    one input itself."""
    source = _only(graph.predecessors(name))
    if not isinstance(graph.nodes[name], MATRIX) or source is None:
        return False
    first = graph.nodes[source]
    return (isinstance(first, MATRIX) and graph.successors(source) == [name]
            and _only(graph.predecessors(source)) is not None)


def _merged(first: n.Node, second: n.Node) -> n.Node:
    """second(first(x)) as one matrix: W = W2 W1, b = W2 b1 + b2, in float64, then in the
    weights' dtype (as merging the pairs one by one did)."""
    w1, w2 = first.weight.astype(np.float64), second.weight.astype(np.float64)
    dtype = np.result_type(first.weight, second.weight)
    bias = np.zeros(w2.shape[0])
    if isinstance(first, n.Affine):
        bias = bias + w2 @ first.bias.astype(np.float64)
    if isinstance(second, n.Affine):
        bias = bias + second.bias
    weight = (w2 @ w1).astype(dtype)
    return (n.Affine(weight=weight, bias=bias.astype(dtype), metadata=second.metadata)
            if isinstance(first, n.Affine) or isinstance(second, n.Affine)
            else n.Linear(weight=weight, metadata=second.metadata))
