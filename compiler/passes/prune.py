"""Pruning: magnitude pruning of weights, and removal of neurons that never fire.

``prune{sparsity=0.5,scope=global}`` zeroes the smallest-magnitude weights of every Affine,
Linear and convolution, ranked over the whole graph (``global``) or per node (``layer``), until
that fraction of each ranked set is zero. Biases are kept.

``prune-inactive`` simulates the calibration input and removes the neurons of every spiking
population that never fired, with the matrix rows that feed them and the columns they feed. A
neuron that never fires contributes nothing downstream, so on the calibration input the output
is unchanged; only populations fed and read by Affine/Linear nodes, and not read by an Output,
can shrink. A population that never fires at all is reported, not removed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.errors import OptionError
from snnc.ir import Graph, synapse_count
from snnc.ir import nodes as n

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult

WEIGHTED = (n.Affine, n.Linear, n.Conv1d, n.Conv2d)


@dataclass(frozen=True)
class Prune(Pass):
    name: ClassVar[str] = "prune"
    sparsity: float = 0.5
    scope: str = "global"

    def __post_init__(self) -> None:
        if not 0 <= self.sparsity < 1:
            raise OptionError(f"sparsity must be in [0, 1), got {self.sparsity}")
        if self.scope not in ("global", "layer"):
            raise OptionError(f"scope must be 'global' or 'layer', got '{self.scope}'")

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        weighted = {k: v for k, v in graph.nodes.items() if isinstance(v, WEIGHTED)}
        groups = [list(weighted)] if self.scope == "global" else [[k] for k in weighted]
        nodes = dict(graph.nodes)
        for group in groups:
            for name, weight in _prune_group({k: weighted[k].weight for k in group},
                                             self.sparsity).items():
                nodes[name] = dataclasses.replace(weighted[name], weight=weight)
        pruned = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
        report = {"synapses_before": synapse_count(graph), "synapses_after": synapse_count(pruned),
                  "weights_zero": {k: float(np.mean(nodes[k].weight == 0)) for k in weighted}}
        return PassResult(pruned, {**report, **fidelity(graph, pruned, ctx)})


def _prune_group(weights: dict[str, np.ndarray], sparsity: float) -> dict[str, np.ndarray]:
    """Zero the ceil(sparsity * total) smallest |w| of the group (ties broken by position)."""
    flat = np.concatenate([np.abs(w).ravel() for w in weights.values()]) if weights else np.empty(0)
    count = int(np.ceil(sparsity * flat.size))
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[:count]] = False
    out, start = {}, 0
    for name, weight in weights.items():
        mask = keep[start:start + weight.size].reshape(weight.shape)
        out[name] = np.where(mask, weight, 0).astype(weight.dtype)
        start += weight.size
    return out


@dataclass(frozen=True)
class PruneInactive(Pass):
    name: ClassVar[str] = "prune-inactive"

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        if ctx.calibration is None:
            raise OptionError("prune-inactive needs calibration input (--calibration)")
        nodes, removed, silent = dict(graph.nodes), {}, []
        for name, counts in _spike_counts(graph, ctx).items():
            keep = counts > 0
            if not keep.any():  # a silent population stays: removing it would cut the graph
                silent.append(name)
            elif not keep.all() and _shrinkable(graph, name):
                _shrink(graph, nodes, name, keep)
                removed[name] = int((~keep).sum())
        pruned = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
        report = {"neurons_removed": removed, "silent_populations": silent,
                  "synapses_before": synapse_count(graph), "synapses_after": synapse_count(pruned)}
        return PassResult(pruned, {**report, **fidelity(graph, pruned, ctx)})


def _spike_counts(graph: Graph, ctx: PassContext) -> dict[str, np.ndarray]:
    """Spikes per neuron over all steps and samples, for every spiking population."""
    from snnc.backends import get_target

    simulate = get_target("reference").simulate
    spiking = [k for k, v in graph.nodes.items() if getattr(v, "spiking", False)]
    probe = Graph(nodes={**graph.nodes, **{f"{k}.probe": n.Output(shape=graph.shapes[k])
                                           for k in spiking}},
                  edges=(*graph.edges, *((k, f"{k}.probe") for k in spiking)))
    outputs = simulate(probe, ctx.calibration, ctx.options).outputs
    return {k: outputs[f"{k}.probe"].sum(axis=(0, 1)) for k in spiking}


def _shrinkable(graph: Graph, name: str) -> bool:
    """A 1-d population whose every input is a matrix feeding only it, and whose every reader
    is a matrix reading only it: then rows and columns can go."""
    node = graph.nodes[name]
    feeders = graph.predecessors(name)
    readers = graph.successors(name)
    return (len(node.shape) == 1
            and all(isinstance(graph.nodes[f], n.MATRICES) and graph.successors(f) == [name]
                    for f in feeders)
            and all(isinstance(graph.nodes[r], n.MATRICES) and graph.predecessors(r) == [name]
                    for r in readers))


def _shrink(graph: Graph, nodes: dict[str, n.Node], name: str, keep: np.ndarray) -> None:
    population = nodes[name]
    nodes[name] = dataclasses.replace(population, **{
        k: getattr(population, k)[keep] for k in population.arrays})
    for feeder in graph.predecessors(name):  # rows that drive removed neurons
        matrix = nodes[feeder]
        rows = {"weight": matrix.weight[keep]}
        if isinstance(matrix, n.Affine):
            rows["bias"] = matrix.bias[keep]
        nodes[feeder] = dataclasses.replace(matrix, **rows)
    for reader in graph.successors(name):  # columns that read removed neurons
        nodes[reader] = dataclasses.replace(nodes[reader], weight=nodes[reader].weight[:, keep])
