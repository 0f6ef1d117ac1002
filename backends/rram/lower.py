"""A graph quantized for RRAM as an engine network: one connection per matrix, whose synapse
model is the matrix's crossbar reads (``crossbar``), and one population per neuron node.

The engine delivers a matrix's output in the step its spikes are sent, as the reference does
(one step later over a recurrent edge), so the RRAM target runs step for step with the
reference: one timestep is one read of every array with a spike on a row. Synaptic delays are
the periphery's: a layer reads its rows from a buffer of past spikes (``tiling``).
"""
from __future__ import annotations

import numpy as np

from snnc.errors import GraphError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten
from snnc.options import SimOptions

from .. import engine
from ..engine import view
from . import FAMILY
from .crossbar import CrossbarReads, LayerReads
from .device import Settings, program
from .neurons import RramNeuron
from .tiling import Tiling, synapse_delays, tile_graph, w_max

PIPELINE = "lower,normalize,map-delays,quantize"


def flat(graph: Graph) -> Graph:
    return graph if graph.is_flat else flatten(graph)


def check(graph: Graph, chip_name: str) -> None:
    view.check_nodes(graph, FAMILY, chip_name, "rram", PIPELINE, "RRAM")


def fan_in(graph: Graph, population: str) -> list[str]:
    """The matrices feeding a population, in the order the reference adds its inputs."""
    found = []
    for pred in graph.predecessors(population):
        node = pred
        while isinstance(graph.nodes[node], n.Flatten) and len(graph.predecessors(node)) == 1:
            node = graph.predecessors(node)[0]
        if not isinstance(graph.nodes[node], n.MATRICES):
            raise GraphError(f"population '{population}' reads '{pred}' without a matrix; on "
                             "RRAM every input of a population is a crossbar read")
        found.append(node)
    return found


def network(graph: Graph, options: SimOptions, chip, settings: Settings
            ) -> tuple[engine.Network, Tiling]:
    """The engine network of a flat graph quantized for RRAM, and its tiling."""
    tiling = tile_graph(graph, chip)
    by_matrix: dict[str, list] = {}
    for layer in tiling.layers:
        by_matrix.setdefault(layer.matrix, []).append(layer)
    pops, ports = [], {}
    for name, node in graph.nodes.items():
        size = int(np.prod(node.shape)) if isinstance(node, (n.Input, n.Neuron)) else 0
        if isinstance(node, n.Input):
            pops.append(engine.Population(name, size))
        elif isinstance(node, n.Neuron):
            ports[name] = tuple(fan_in(graph, name))
            pops.append(engine.Population(name, size, RramNeuron(node, options, ports[name])))
    connections = []
    for name, node in graph.nodes.items():
        if isinstance(node, n.MATRICES):
            connections.append(_connection(graph, name, by_matrix.get(name, []), options,
                                           chip, settings, tiling, ports))
    return engine.Network(tuple(pops), tuple(connections), dtype=np.float64), tiling


def _connection(graph, name, layers, options, chip, settings, tiling, ports):
    node = graph.nodes[name]
    source, target = view.ends(graph, name, "RRAM")
    weight = np.asarray(node.weight, np.float64)
    n_out, n_in = weight.shape
    delays = synapse_delays(node)
    reads = [_layer_reads(graph, name, lay, weight, delays, options, chip, settings, tiling)
             for lay in layers]
    model = CrossbarReads(reads, getattr(node, "bias", None), n_out, settings, options.dtype)
    tgt, src = np.nonzero(weight)
    synapses = UnreadSynapses(n_out, n_in, tgt, src, weight[tgt, src],
                              int(view.recurrent(graph, source, target)), dtype=np.float64)
    port = name if len(ports[target]) > 1 else None
    return engine.Connection(f"{source}->{target}#{name}", source, target, synapses, 0, model,
                             port=port)


class UnreadSynapses(engine.Synapses):
    """A matrix's synapses as the engine sees them (fan-out for its synaptic-event counts,
    the back edge's latency), whose partial sums nobody reads: the crossbar reads deliver
    from the spikes themselves (``CrossbarReads``), so the engine's product is skipped and a
    zero view stands in for it (no memory, no arithmetic). The engine's own way to say so
    would be a runner flag; until it has one, this keeps the unused product off the bill."""

    def deliver(self, spikes: np.ndarray, kernel: str = "auto",
                events: int | None = None) -> np.ndarray:
        return np.broadcast_to(np.zeros((), self.dtype),
                               (len(spikes), len(self.delays), self.n_out))


def _layer_reads(graph, name, layer, weight, delays, options, chip, settings, tiling):
    part = np.where(delays == layer.delay, weight, 0.0)
    steps = int(np.rint(layer.delay / options.dt)) if layer.delay else 0
    rows, cols = np.asarray(layer.rows, np.int64), np.asarray(layer.columns, np.int64)
    weight_t = np.ascontiguousarray(part.astype(options.dtype).T)
    instance = None
    if not settings.exact:
        compact = part[np.ix_(cols, rows)].T  # (rows, columns): crossbar orientation
        instance = program(compact, w_max(graph.nodes[name]), chip, settings, layer.name,
                           tiling.rows, tiling.columns // 2)
    return LayerReads(steps, rows, cols, tiling.rows, tiling.columns // 2, weight_t, instance)
