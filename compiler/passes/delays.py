"""map-delays: delays become whole timesteps within the target's range.

1. A NIR ``Delay`` node that feeds only a matrix folds into that matrix's per-synapse delays
   (y_i = sum_j W_ij x_j[t - d_j - D_ij]), since chips delay synapses, not populations. So does
   a Delay that only a Linear (or an Affine without bias) feeds: delaying its output i by d_i
   is delaying each synapse into i by d_i. (An Affine's bias would appear d_i steps early.)
2. Every per-synapse delay is rounded to a multiple of dt; the report counts the delays that
   moved and by how much (none do when delays are exact multiples of dt).
3. With a limit — ``max_delay`` in steps, else the ``chip`` option's or the target's chip model
   (``delays.max_steps``: Loihi 1 62, Loihi 2 63, SpiNNaker 288 with delay extensions) — longer
   synapses go through relay neurons: hop h copies the
   source spikes through an IF population (v += x, spike if v > 0.5, reset to zero), each hop
   delayed by max_delay, and the synapse leaves from the hop that leaves at most max_delay to go.
   IF relays pass binary spikes unchanged in the same step, so the reference output is identical;
   this needs the matrix's input to be spikes (a spiking population or a spike Input).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.errors import GraphError, OptionError, ResourceExceededError
from snnc.ir import Graph, flatten
from snnc.ir import nodes as n
from snnc.ir.shapes import check_memory

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult, chip_for

MATRIX = n.MATRICES
MAX_RELAY_HOPS = 1024  # relay hops per synapse matrix, 3 graph nodes each


@dataclass(frozen=True)
class MapDelays(Pass):
    name: ClassVar[str] = "map-delays"
    max_delay: int = 0  # longest synaptic delay supported, in steps; 0: the chip's, or no limit
    chip: str = ""  # a chip model (name or TOML path) whose delays.max_steps is the limit

    def __post_init__(self) -> None:
        if self.max_delay < 0:
            raise OptionError(f"max_delay must be >= 0 steps, got {self.max_delay}")

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        original = graph = graph if graph.is_flat else flatten(graph)
        dt, limit = ctx.options.dt, self._limit(ctx)
        graph, folded = _fold_delay_nodes(graph)
        graph, rounding = _round_delays(graph, dt)
        relays = {}
        if limit:
            for name in [k for k, v in graph.nodes.items() if _too_long(v, dt, limit)]:
                graph, relays[name] = _relay(graph, name, dt, limit)
        report = {"delay_nodes_folded": folded, **rounding, "limit_steps": limit,
                  "relay_neurons": relays, "max_delay_steps": _longest(graph, dt)}
        return PassResult(graph, {**report, **fidelity(original, graph, ctx)})


    def _limit(self, ctx: PassContext) -> int:
        if self.max_delay:
            return self.max_delay
        chip = chip_for(self.chip, ctx)
        return int(chip.delays.max_steps or 0) if chip is not None else 0


def _steps(node: n.Node, dt: float) -> np.ndarray:
    return np.rint(node.delay / dt).astype(np.int64)


def _too_long(node: n.Node, dt: float, limit: int) -> bool:
    return isinstance(node, MATRIX) and node.delay is not None and _steps(node, dt).max() > limit


def _longest(graph: Graph, dt: float) -> int:
    return max([int(_steps(v, dt).max()) for v in graph.nodes.values()
                if isinstance(v, MATRIX) and v.delay is not None], default=0)


def _fold_delay_nodes(graph: Graph) -> tuple[Graph, int]:
    folded = 0
    for name in list(graph.order):
        node = graph.nodes.get(name)
        readers = graph.successors(name) if node is not None else []
        if not isinstance(node, n.Delay) or len(readers) != 1 or len(graph.predecessors(name)) != 1:
            continue
        matrix = graph.nodes[readers[0]]
        if not isinstance(matrix, MATRIX) or graph.predecessors(readers[0]) != [name]:
            continue
        own = matrix.delay if matrix.delay is not None else np.zeros(matrix.weight.shape)
        delay = own + np.broadcast_to(node.delay, matrix.weight.shape[1:])[None, :]
        source = graph.predecessors(name)[0]
        nodes = {k: v for k, v in graph.nodes.items() if k != name}
        nodes[readers[0]] = dataclasses.replace(matrix, delay=delay)
        edges = [(s, d) for s, d in graph.edges if name not in (s, d)] + [(source, readers[0])]
        graph, folded = Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata), folded + 1
    return _fold_delays_after_matrices(graph, folded)


def _fold_delays_after_matrices(graph: Graph, folded: int) -> tuple[Graph, int]:
    for name in list(graph.order):
        node, sources = graph.nodes.get(name), graph.predecessors(name)
        if not isinstance(node, n.Delay) or len(sources) != 1:
            continue
        matrix = graph.nodes[sources[0]]
        if (not isinstance(matrix, MATRIX) or graph.successors(sources[0]) != [name]
                or (isinstance(matrix, n.Affine) and np.any(matrix.bias))):
            continue
        own = matrix.delay if matrix.delay is not None else np.zeros(matrix.weight.shape)
        delay = own + np.broadcast_to(node.delay, matrix.weight.shape[:1])[:, None]
        nodes = {k: v for k, v in graph.nodes.items() if k != name}
        nodes[sources[0]] = dataclasses.replace(matrix, delay=delay)
        edges = [(s, d) for s, d in graph.edges if name not in (s, d)]
        edges += [(sources[0], reader) for reader in graph.successors(name)]
        graph, folded = Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata), folded + 1
    return graph, folded


def _round_delays(graph: Graph, dt: float) -> tuple[Graph, dict]:
    nodes, moved, worst, total = dict(graph.nodes), 0, 0.0, 0
    for name, node in graph.nodes.items():
        if isinstance(node, MATRIX) and node.delay is not None:
            exact = node.delay / dt
            error = np.abs(exact - np.rint(exact))
            moved += int(np.count_nonzero(error > 1e-6))
            worst = max(worst, float(error.max()))
            total += node.delay.size
            nodes[name] = dataclasses.replace(node, delay=np.rint(exact) * dt)
    graph = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
    return graph, {"delays": total, "delays_rounded": moved, "max_rounding_steps": worst}


def _relay(graph: Graph, name: str, dt: float, limit: int) -> tuple[Graph, int]:
    """Split matrix ``name`` into taps leaving from relay hops; returns the relay neuron count."""
    matrix = graph.nodes[name]
    source = graph.predecessors(name)
    if len(source) != 1 or not _emits_spikes(graph.nodes[source[0]]):
        raise GraphError(f"node '{name}': delays over {limit} steps need relays, which need "
                         "spike input from one spiking population or Input")
    steps = _steps(matrix, dt)
    hops = np.maximum(0, -(-(steps - limit) // limit))  # ceil((k - limit) / limit), at least 0
    size = matrix.weight.shape[1]
    if hops.max() > MAX_RELAY_HOPS:  # each hop is three graph nodes: bound them before building
        raise ResourceExceededError(
            f"node '{name}': a delay of {int(steps.max())} steps (dt {dt:g} s) needs "
            f"{int(hops.max())} relay hops of {limit} steps, more than the {MAX_RELAY_HOPS} "
            "map-delays builds; shorten the delay or use a coarser dt",
            resource="relay hops", need=int(hops.max()), limit=MAX_RELAY_HOPS, node=name)
    check_memory(lambda: f"node '{name}': relay hops of {size} neurons", int(hops.max())
                 * (2 * size * size + 8 * size) * 8)  # two size x size matrices per hop
    relay = n.IF(r=np.ones(size), v_threshold=np.full(size, 0.5), v_reset=np.zeros(size),
                 reset="zero")
    nodes, edges = dict(graph.nodes), list(graph.edges)
    readers = graph.successors(name)
    previous = source[0]
    for hop in range(int(hops.max()) + 1):
        mask = hops == hop
        delay = np.where(mask, steps - hop * limit, 0) * dt
        weight = np.where(mask, matrix.weight, 0)
        if hop == 0:
            nodes[name] = dataclasses.replace(matrix, weight=weight, delay=delay)
            continue
        link, population, tap = f"{name}.hop{hop}", f"{name}.relay{hop}", f"{name}.from{hop}"
        nodes[link] = n.Linear(weight=np.eye(size), delay=np.full((size, size), limit * dt))
        nodes[population] = relay
        nodes[tap] = n.Linear(weight=weight, delay=delay)
        edges += [(previous, link), (link, population), (population, tap)]
        edges += [(tap, reader) for reader in readers]
        previous = population
    return Graph(nodes=nodes, edges=tuple(edges), metadata=graph.metadata), int(hops.max()) * size


def _emits_spikes(node: n.Node) -> bool:
    return isinstance(node, n.Input) or getattr(node, "spiking", False)
