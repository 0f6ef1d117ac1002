"""The graph as a chip target sees it: populations, the matrices between them, and how far each
population runs behind the reference.

Every chip target here lowers the same shape of graph (after ``lower`` and ``quantize``):
Inputs and neuron populations, each matrix reading one of them and feeding one population,
Flatten nodes as index maps, every Output reading one population. A chip delivers a matrix's
spikes no sooner than its least latency (Lava's Dense: 1 step; sPyNNaker: a delay of at
least 1), while the reference delivers them in the same step, so each population runs ``lags``
steps behind, and its synapses get the delays that keep every arrival in step.
"""
from __future__ import annotations

import functools
import weakref
from typing import Callable

import numpy as np

from snnc.errors import GraphError, OptionError, UnsupportedNodeError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import downstream, upstream


def lowered_once(lower: Callable) -> Callable:
    """``lower(graph, *args, **kwargs)`` built once per graph and arguments for as long as the
    graph lives: the batch slices of one ``simulate`` (and an ``emit`` beside it) reuse the
    lowered network instead of rebuilding it. Graphs are immutable and networks are not
    changed by a run (each run starts its own runners), so the reuse is exact."""
    built: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @functools.wraps(lower)
    def cached(graph: Graph, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        per_graph = built.setdefault(graph, {})
        if key not in per_graph:
            per_graph[key] = lower(graph, *args, **kwargs)
        return per_graph[key]

    return cached


def check_nodes(graph: Graph, family, chip: str, fmt: str, pipeline: str, what: str) -> None:
    """Every node a type the family runs, every weight and population quantized in ``fmt``
    (the ``what`` format), every Output reading one population."""
    for name, node in graph.nodes.items():
        if type(node) not in family.supported:
            raise UnsupportedNodeError(name, type(node).__name__, chip, list(family.node_types))
    unquantized = [name for name, node in graph.nodes.items()
                   if isinstance(node, (*n.MATRICES, n.Neuron)) and node.hw.get("format") != fmt]
    if unquantized:
        raise OptionError(f"target {chip} needs a graph quantized for {what}: compile with "
                          f"-p '{pipeline}' (not quantized: {', '.join(unquantized[:5])})")
    for name in graph.outputs:
        reads(graph, name)


def reads(graph: Graph, output: str) -> str:
    """The one population an Output reads (through Flatten nodes)."""
    pops = upstream(graph, output)
    if len(pops) != 1 or not isinstance(graph.nodes[pops[0]], n.Neuron):
        raise GraphError(f"Output '{output}' must read one neuron population, got {pops}")
    return pops[0]


def ends(graph: Graph, matrix: str, chip: str) -> tuple[str, str]:
    """The matrix's one source (an Input or a spiking population) and one target population."""
    sources, targets = upstream(graph, matrix), downstream(graph, matrix)
    if (len(sources) != 1 or not isinstance(graph.nodes[sources[0]], (n.Input, n.Neuron))
            or len(targets) != 1 or not isinstance(graph.nodes[targets[0]], n.Neuron)):
        raise GraphError(f"matrix '{matrix}' must read one Input or population and feed one "
                         f"population (reads {sources}, feeds {targets})")
    source = graph.nodes[sources[0]]
    if isinstance(source, n.Neuron) and not source.spiking:  # chips send spikes, never v
        raise GraphError(f"matrix '{matrix}' reads readout '{sources[0]}' ({source.type_name}), "
                         f"whose value is its membrane; {chip} populations send spikes only")
    return sources[0], targets[0]


def recurrent(graph: Graph, source: str, target: str) -> bool:
    """Whether the reference delivers source -> target one step late: the target runs first
    (execution order), so a back edge on the way carries the previous step."""
    return graph.order.index(target) <= graph.order.index(source)


def back_edge_after(graph: Graph, matrix: str) -> bool:
    """Whether a back edge lies between ``matrix`` and its target (through Flatten nodes):
    then the reference adds the matrix's bias from step 1 on (step 0 reads zeros)."""
    back, frontier = graph.recurrent_edges, [matrix]
    while frontier:
        node = frontier.pop()
        for succ in graph.successors(node):
            if (node, succ) in back:
                return True
            if isinstance(graph.nodes[succ], n.Flatten):
                frontier.append(succ)
    return False


def least_delay(node: n.Node, dt: float | None) -> int:
    """The least delay in steps of a matrix's synapses (0 without delays or dt)."""
    if dt is None or node.delay is None:
        return 0
    steps = np.rint(node.delay / dt)[node.weight != 0]
    return int(steps.min()) if steps.size else 0


def lags(graph: Graph, dt: float | None, latency: int, least_lag: Callable[[str], int],
         chip: str) -> dict[str, int]:
    """Per node, the steps by which the chip's values lag the reference's: the least lags
    with lag[target] >= lag[source] + latency - (least delay steps of the matrix's synapses)
    - (1 over a back edge), and lag >= ``least_lag(node)`` (what a target's own inputs, such
    as an always-on bias source, need): longest paths, by relaxation. A loop whose matrices
    add more latency than its delays and back edge absorb has no such lags: it would run
    slower on the chip than in the model, and is refused. Inputs and unreached nodes get 0."""
    back, lag = graph.recurrent_edges, dict.fromkeys(graph.nodes, 0)
    for _ in range(len(graph.nodes) + 1):
        changed = False
        for name in graph.order:
            node = graph.nodes[name]
            bound = max([lag[p] - ((p, name) in back) for p in graph.predecessors(name)],
                        default=0)
            if isinstance(node, n.MATRICES):
                bound += latency - least_delay(node, dt)
            bound = max(bound, least_lag(name))
            if bound > lag[name]:
                lag[name], changed = bound, True
        if not changed:
            return lag
    growing = sorted(k for k in graph.nodes if lag[k] > len(graph.nodes))
    raise GraphError(f"the loop through {', '.join(growing[:6])} adds more steps of {chip} "
                     f"latency ({latency} per matrix) than its synaptic delays and back edge "
                     "absorb, so the chip would run it slower than the model; give its "
                     "recurrent synapses more delay")
