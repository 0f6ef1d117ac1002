"""A graph quantized for SFQ (``formats``) as synapse layers and as an engine network.

Each matrix is one layer per sign: its excitatory synapses (positive pulse counts) merge into
trees at the neurons' ``exc`` ports, its inhibitory ones at ``inh``. The engine delivers a
matrix's output in the step it is sent, as the reference does (plus its synaptic delay in
steps, and one step over a recurrent edge), so the SFQ target runs step for step with the
reference: one timestep is one wave of pulses through the zero-delay layers (its length is
the circuit's critical path, see ``circuit``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten

from .. import engine
from ..engine import view
from . import FAMILY
from .cells import Cells, layer_timing
from .neurons import SfqNeuron
from .pulses import PulseGates

PIPELINE = "lower,normalize,map-delays,quantize"
SIGNS = (("exc", 1), ("inh", -1))


@dataclass(frozen=True)
class Layer:
    """One matrix, one sign: |pulse counts| (n_out, n_in), delays in steps, its fluxon unit
    exponent, and whether the reference delivers it a step late (a back edge)."""

    name: str
    matrix: str
    source: str
    target: str
    port: str
    pulses: np.ndarray
    delays: np.ndarray
    exp: int


@dataclass(frozen=True)
class Settings:
    """The device settings a run uses (chip defaults, ``--device`` overrides)."""

    gates: str
    serialize: bool
    pulses_per_spike: int
    logit_spread: float = 0.0  # bias spread / sigmoid width: per-instance shift of logit(p)
    seed: int = 0  # of the circuit instance (device spread)


def chip_defaults(sfq) -> dict:
    """The device settings a chip model's ``[sfq]`` section implies: the one place their
    defaults are worked out (the simulator and the circuit mapping both read it)."""
    return {"gates": sfq.gates or "deterministic",
            "serialize": True if sfq.serialize is None else bool(sfq.serialize),
            "pulses_per_spike": int(sfq.pulses_per_spike or 1),
            "bias_spread_ua": float((sfq.gate_bias_spread or 0.0) * 1e6)}


def flat(graph: Graph) -> Graph:
    return graph if graph.is_flat else flatten(graph)


def check(graph: Graph, chip_name: str) -> None:
    view.check_nodes(graph, FAMILY, chip_name, "sfq", PIPELINE, "SFQ")


def layers(graph: Graph) -> list[Layer]:
    """Every nonempty (matrix, sign) layer of a flat graph quantized for SFQ."""
    found = []
    for name, node in graph.nodes.items():
        if not isinstance(node, n.MATRICES):
            continue
        source, target = view.ends(graph, name, "SFQ")
        exp = int(node.hw["weight_exp"])
        counts = np.rint(np.asarray(node.weight, np.float64) / 2.0 ** exp).astype(np.int64)
        delays = np.broadcast_to(np.asarray(node.hw.get("delay_steps", 0), np.int64)
                                 + view.recurrent(graph, source, target), counts.shape)
        for port, sign in SIGNS:
            part = np.where(sign * counts > 0, np.abs(counts), 0)
            if part.any():
                found.append(Layer(f"{source}->{target}#{name}.{port}", name, source, target,
                                   port, part, np.ascontiguousarray(delays), exp))
    return found


def biases(graph: Graph) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per population, the summed biases of the Affine matrices into it (flat): those from
    step 0 on, and those behind a back edge, which the reference adds from step 1 on (its
    step 0 reads the edge's zeros)."""
    out = {name: (np.zeros(int(np.prod(node.shape))), np.zeros(int(np.prod(node.shape))))
           for name, node in graph.nodes.items() if isinstance(node, n.Neuron)}
    for name, node in graph.nodes.items():
        if isinstance(node, n.Affine) and np.any(node.bias):
            late = view.back_edge_after(graph, name)
            out[view.ends(graph, name, "SFQ")[1]][late][:] += np.asarray(
                node.bias, np.float64).ravel()
    return out


def units(found: list[Layer]) -> dict[str, int]:
    """Per population, the exponent of its fluxon unit: the finest of its layers'."""
    out: dict[str, int] = {}
    for layer in found:
        out[layer.target] = min(out.get(layer.target, layer.exp), layer.exp)
    return out


def gates(layer: Layer, synapses: engine.Synapses, lib: Cells, settings: Settings,
          scale: int) -> PulseGates:
    """The layer's pulse model, its per-synapse arrays in the engine's fan-out order."""
    slot_of = np.searchsorted(synapses.delays, layer.delays)
    timing = layer_timing(layer.pulses, slot_of, lib)
    key = (timing.source * len(synapses.delays) + timing.slot) * layer.pulses.shape[0] \
        + timing.target
    order = np.argsort(key, kind="stable")
    counts = layer.pulses[timing.target, timing.source][order]
    stochastic = settings.gates == "stochastic"
    k = settings.pulses_per_spike
    worth = int(-(-int(layer.pulses.max()) // k)) if stochastic else 1  # ceil(max / k)
    probability = counts / float(k * worth) if stochastic else None
    if stochastic and settings.logit_spread > 0:
        probability = _instance(probability, settings, layer.name)
    depth_of_tree = np.zeros((len(synapses.delays), layer.pulses.shape[0]), np.int64)
    depth_of_tree[timing.slot, timing.target] = timing.tree_depth
    return PulseGates(
        leaf=timing.leaf[order], tree_depth=timing.tree_depth[order],
        depth_of_tree=depth_of_tree,
        arrival=timing.arrival[order], probability=probability,
        pulses_per_spike=k if stochastic else 1, worth=worth, scale=scale,
        serialize=settings.serialize, window=lib.window, spacing=lib.spacing)


def _instance(p: np.ndarray, settings: Settings, name: str) -> np.ndarray:
    """One circuit instance's pass probabilities: each gate's bias current off by a normal
    draw (its own stream per seed and layer); gates biased to p = 1 stay saturated."""
    rng = engine.connection_rng(settings.seed, name + "#instance")
    shift = rng.normal(0.0, settings.logit_spread, len(p))
    inner = (p > 0) & (p < 1)
    logit = np.log(np.where(inner, p, 0.5) / np.where(inner, 1 - p, 0.5)) + shift
    return np.where(inner, 1.0 / (1.0 + np.exp(-logit)), p)


def network(graph: Graph, options, lib: Cells, settings: Settings) -> engine.Network:
    """The engine network: Inputs, one SfqNeuron population per neuron node, one
    connection per layer with its ``PulseGates`` (float64: readouts' state is float)."""
    found, bias = layers(graph), biases(graph)
    unit = units(found)
    pops = []
    for name, node in graph.nodes.items():
        size = int(np.prod(node.shape)) if isinstance(node, (n.Input, n.Neuron)) else 0
        if isinstance(node, n.Input):
            pops.append(engine.Population(name, size))
        elif isinstance(node, n.Neuron):
            model = SfqNeuron(node, options, 2.0 ** unit.get(name, 0), *bias[name])
            pops.append(engine.Population(name, size, model))
    connections = []
    for layer in found:
        target, source = np.nonzero(layer.pulses)
        synapses = engine.Synapses(*layer.pulses.shape, target, source,
                                   layer.pulses[target, source], layer.delays[target, source])
        scale = 2 ** (layer.exp - unit[layer.target])
        model = gates(layer, synapses, lib, settings, scale)
        connections.append(engine.Connection(layer.name, layer.source, layer.target, synapses,
                                             0, model, port=layer.port))
    return engine.Network(tuple(pops), tuple(connections), dtype=np.float64)
