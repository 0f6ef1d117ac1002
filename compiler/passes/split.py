"""split-populations: per-neuron thresholds and decays in populations that share them.

Lava shares du, dv and vth per LIF process, while training (snnTorch ``learn_beta``,
heterogeneous time constants, learned thresholds) gives every neuron its own. This pass makes
each spiking population (1-d, fed and read only by Affine/Linear matrices) fit:

1. thresholds are folded into the neuron's constants: with s = v_threshold - v_reset, the
   neuron v' = (v - v_reset) / s has r' = r / s, v_leak' = (v_leak - v_reset) / s, v_reset' = 0
   and v_threshold' = 1; its spikes are the same (up to float rounding of the scaled sums).
   A subtract reset (v -= v_threshold, snnTorch's) folds as v' = v / v_threshold instead
   (s = v_threshold, v_reset' = v_reset / s), since it subtracts v_threshold, not s;
2. neurons with equal time constants are grouped into one population each ("name.g0", ...):
   the matrices feeding it are split by rows, the matrices it feeds by columns (their outputs
   are summed where they meet, as NIR sums fan-in). Lossless; more processes.

``split-populations{groups=K}`` first clusters each time constant of a population to at most K
values (1-d k-means over the neurons' values, started at quantiles): lossy, fewer processes;
``clustered`` reports each changed population's largest relative change of a time constant,
and the fidelity on calibration input measures the cost. ``groups=0`` (the default) keeps every
distinct value (lossless).

Step 1 is local and always applies; populations whose decays still differ but cannot be split
(a conv or Output neighbour, recurrence onto themselves, more than 1 dimension) are listed in
the report under ``kept`` with the reason (Loihi then refuses them, naming the parameter). Report: ``split`` (population -> number of groups), ``folded``
(populations whose thresholds were folded), and fidelity on calibration input.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult

DECAYS = ("tau", "tau_mem", "tau_syn")
SUBTRACTS = ("subtract", "subtract_next")  # resets by v -= v_threshold
MATRICES = (n.Affine, n.Linear)


@dataclass(frozen=True)
class SplitPopulations(Pass):
    name: ClassVar[str] = "split-populations"
    groups: int = 0  # at most this many values per time constant (0: every distinct one)

    def __post_init__(self) -> None:
        if self.groups < 0:
            raise OptionError(f"groups must be >= 0 (0: no clustering), got {self.groups}")

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        current = graph
        report: dict = {"folded": [], "clustered": {}, "split": {}, "kept": {}}
        for name, node in graph.nodes.items():
            reset = getattr(node, "reset", None) or ctx.options.reset
            if not (isinstance(node, n.Neuron) and node.spiking and _varies(node, reset)):
                continue
            nodes, edges = dict(current.nodes), list(current.edges)
            if self.groups:
                node, change = _clustered(node, self.groups)
                if change:
                    report["clustered"][name] = round(change, 6)
            folded = _fold_threshold(node, reset)
            if folded is not node:
                report["folded"].append(name)
                nodes[name] = folded
            groups = _groups(folded, reset)
            problem = _unsplittable(current, name, folded) if len(groups) > 1 else None
            if problem:
                report["kept"][name] = problem
            elif len(groups) > 1:
                _split(current, nodes, edges, name, folded, groups)
                report["split"][name] = len(groups)
            current = Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata)
        changed = report["folded"] or report["split"]
        report = {k: (v or "-") for k, v in report.items()}
        return PassResult(current, {**report, **(fidelity(graph, current, ctx) if changed else {})})


def _clustered(node: n.Neuron, k: int) -> tuple[n.Neuron, float]:
    """Each time constant replaced by the mean of its cluster (at most k clusters)."""
    changes, worst = {}, 0.0
    for decay in (d for d in DECAYS if hasattr(node, d)):
        values = np.asarray(getattr(node, decay), np.float64)
        if np.unique(values).size <= k:
            continue
        centres = np.quantile(values, (np.arange(k) + 0.5) / k)
        for _ in range(50):  # Lloyd's iterations in 1-d converge in a few
            labels = np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1)
            updated = np.array([values[labels == j].mean() if np.any(labels == j) else centres[j]
                                for j in range(k)])
            if np.array_equal(updated, centres):
                break
            centres = updated
        changes[decay] = centres[labels]
        worst = max(worst, float(np.max(np.abs(changes[decay] - values) / values)))
    return (dataclasses.replace(node, **changes) if changes else node), worst


def _varies(node: n.Neuron, reset: str) -> bool:
    values = [getattr(node, k) for k in DECAYS if hasattr(node, k)]
    values.append(node.v_threshold - (0.0 if reset in SUBTRACTS else node.v_reset))
    return any(np.ptp(v) > 0 for v in values)


def _unsplittable(graph: Graph, name: str, node: n.Neuron) -> str | None:
    if len(node.shape) != 1:
        return f"shape {node.shape} is not 1-d"
    for other in graph.predecessors(name) + graph.successors(name):
        if not isinstance(graph.nodes[other], MATRICES):
            return f"'{other}' ({graph.nodes[other].type_name}) is not an Affine/Linear"
    for later in graph.successors(name):
        if graph.predecessors(later) != [name]:
            return f"'{later}' also sums other inputs"
    for before in graph.predecessors(name):
        if before in graph.successors(name) or graph.successors(before) != [name]:
            return f"'{before}' also feeds other nodes (or is recurrent)"
    return None


def _fold_threshold(node: n.Neuron, reset: str) -> n.Neuron:
    """v' = (v - v_reset) / s, s = v_threshold - v_reset; a subtract reset takes v_threshold
    itself off v, so there v' = v / v_threshold (v_reset / s stays its initial and
    reset value, by which a subtract does not go)."""
    subtracts = reset in SUBTRACTS
    origin = 0.0 if subtracts else node.v_reset
    scale = np.asarray(node.v_threshold - origin, dtype=np.float64)
    if np.ptp(scale) == 0 or np.any(scale <= 0):
        return node
    changes = {"r": node.r / scale, "v_threshold": np.ones(node.shape),
               "v_reset": node.v_reset / scale if subtracts else np.zeros(node.shape)}
    if hasattr(node, "v_leak"):
        changes["v_leak"] = (node.v_leak - origin) / scale
    return dataclasses.replace(node, **changes)


def _groups(node: n.Neuron, reset: str) -> list[np.ndarray]:
    """Neuron indices with equal time constants and thresholds, in order of first neuron (a
    subtract reset's v_reset is only an initial value, which a Lava process keeps per neuron)."""
    shared = (*DECAYS, "v_threshold", *(() if reset in SUBTRACTS else ("v_reset",)))
    keys = np.stack([np.broadcast_to(np.asarray(getattr(node, k), np.float64), node.shape)
                     .reshape(-1) for k in shared if hasattr(node, k)], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [np.flatnonzero(inverse.reshape(-1) == g) for g in order]


def _split(graph: Graph, nodes: dict, edges: list, name: str, node: n.Neuron,
           groups: list[np.ndarray]) -> None:
    before, after = graph.predecessors(name), graph.successors(name)
    del nodes[name]
    for matrix in before + after:
        del nodes[matrix]
    edges[:] = [e for e in edges if name not in e and not set(e) & set(before + after)]
    for j, idx in enumerate(groups):
        part = f"{name}.g{j}"
        nodes[part] = dataclasses.replace(node, **{k: getattr(node, k)[idx] for k in node.arrays})
        for matrix in before:
            source = graph.nodes[matrix]
            rows = {"weight": source.weight[idx]}
            if isinstance(source, n.Affine):
                rows["bias"] = source.bias[idx]
            nodes[f"{matrix}.g{j}"] = dataclasses.replace(source, **rows)
            edges += [(src, f"{matrix}.g{j}") for src in graph.predecessors(matrix)]
            edges.append((f"{matrix}.g{j}", part))
        for matrix in after:
            target = graph.nodes[matrix]
            columns = target.weight[:, idx]
            keep_bias = isinstance(target, n.Affine) and j == 0  # the bias once
            nodes[f"{matrix}.g{j}"] = (n.Affine(weight=columns, bias=target.bias,
                                                metadata=target.metadata) if keep_bias
                                       else n.Linear(weight=columns, metadata=target.metadata))
            edges.append((part, f"{matrix}.g{j}"))
            edges += [(f"{matrix}.g{j}", dst) for dst in graph.successors(matrix)]
