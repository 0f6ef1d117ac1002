"""The ``loihi2`` target: a graph quantized for Loihi, lowered to Lava processes and run
bit-accurately on the engine (Lava 0.10's ``Loihi2SimCfg(select_tag="fixed_pt")``).

Input: a graph that went through ``quantize{chip=loihi2}`` (or ``format=loihi``): every matrix
and population carries ``hw["format"] == "loihi"`` (see ``snnc.passes.quant_loihi``). Nodes:
Input, Output, Affine, Linear (optional per-synapse delays), LIF, CubaLIF, IF. Every matrix
reads one Input or population and feeds one population; every Output reads a population.

Lowering (``lower``), per quant_loihi's mapping:
- an Input becomes an input population (``RingBuffer``) of its flattened size;
- a population becomes a ``Lif`` with du, dv, vth, bias_mant, bias_exp from ``hw`` and the
  initial v of the reference (v_leak, or v_reset for IF) as S (v0 - v_reset), rounded;
- a matrix becomes a ``Synapse`` (Dense, or DelayDense where delays round to >= 1 step at
  ``options.dt``) with the integer weights Lava receives, recovered from the dequantized float
  weight W: quant_loihi stores W = m 2**(t + weight_exp + input_shift) / a with a the target's
  factor (S g r, IF: S r, CubaLIF: times w_in (du + current_decay_offset) / D) and Lava stores
  m << t, so the weight given to Lava is a W / 2**(weight_exp + input_shift), an exact integer
  (checked). A CubaLIF's Affine bias is one more weight column (same grid) from an input
  neuron that spikes every step; an LIF's or IF's Affine bias is already in bias_mant.

Timing: Lava's Dense sends at step t what it received at t - 1, so every matrix (hop) adds one
step: a population k matrices from the input spikes k steps after the reference's (see
``hops``). ``simulate(..., extra_steps=k)`` runs k steps of silent input more so that the
last input steps' spikes still arrive. Decays truncate (Lava) where the reference multiplies
in float, so spikes agree closely but not exactly (see tests/backends/test_loihi_target.py).
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from snnc.errors import GraphError, InputError, OptionError, UnsupportedNodeError
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten
from snnc.options import SimOptions

from .. import engine
from ..reference.simulator import Recording
from .processes import Lif, LoihiNetwork, Synapse, to_engine

DESCRIPTION = ("Loihi 2 as Lava 0.10 models it, bit-accurate on integers "
               "(needs a graph quantized for Loihi; one step of latency per matrix)")
NODES = (n.Input, n.Output, n.Affine, n.Linear, n.LIF, n.CubaLIF, n.IF)
SUPPORTED = tuple(sorted(t.__name__ for t in NODES))
DEFAULT_PIPELINE = "normalize,quantize{chip=loihi2}"
MATRICES, POPULATIONS = (n.Affine, n.Linear), (n.LIF, n.CubaLIF, n.IF)
ALWAYS = "__always_on__"  # the input neuron that carries CubaLIF Affine biases


def lower(graph: Graph, options: SimOptions = SimOptions(), chip: str = "loihi2"
          ) -> LoihiNetwork:
    """The Lava process network of a graph quantized for Loihi (see the module docstring)."""
    graph = graph if graph.is_flat else flatten(graph)
    spec = load_chip(chip)
    _check(graph, chip)
    fmt = spec.formats
    unity, offset = 2 ** fmt.decay_bits, fmt.current_decay_offset or 0
    inputs = {name: int(np.prod(graph.nodes[name].shape)) for name in graph.inputs}
    neurons = {name: _lif(name, node, options)
               for name, node in graph.nodes.items() if isinstance(node, POPULATIONS)}
    synapses = []
    for name, node in graph.nodes.items():
        if not isinstance(node, MATRICES):
            continue
        source, target = _ends(graph, name)
        pop = graph.nodes[target]
        a = _factor(pop, unity, offset).reshape(-1)
        if a.size != node.weight.shape[0]:
            raise GraphError(f"matrix '{name}' has {node.weight.shape[0]} outputs but feeds "
                             f"'{target}' of {a.size} neurons")
        unit = 2.0 ** (node.hw["weight_exp"] + fmt.input_shift)
        kw = dict(weight_exp=int(node.hw["weight_exp"]),
                  num_weight_bits=int(node.hw["num_weight_bits"]), sign_mode=node.hw["sign_mode"])
        delays = None
        if node.delay is not None:
            delays = np.rint(node.delay / options.dt).astype(np.int64)
            delays = delays if delays.any() else None
        weights = _integers(name, a[:, None] * node.weight / unit)
        synapses.append((source, target, Synapse(weights, delays=delays, **kw)))
        if isinstance(pop, n.CubaLIF) and isinstance(node, n.Affine) and np.any(node.bias):
            inputs[ALWAYS] = 1
            column = _integers(name, (a * node.bias / unit)[:, None])
            synapses.append((ALWAYS, target, Synapse(column, **kw)))
    return LoihiNetwork(inputs, neurons, tuple(synapses))


def hops(graph: Graph) -> dict[str, int]:
    """Per Output node, the fewest matrices on a path from an Input: the steps by which its
    Loihi spikes lag the reference's (Lava's Dense latency; synapse delays not counted)."""
    graph = graph if graph.is_flat else flatten(graph)
    distance, frontier = {name: 0 for name in graph.inputs}, list(graph.inputs)
    while frontier:
        nxt = []
        for name in frontier:
            for succ in graph.successors(name):
                d = distance[name] + isinstance(graph.nodes[succ], MATRICES)
                if succ not in distance or d < distance[succ]:
                    distance[succ] = d
                    nxt.append(succ)
        frontier = nxt
    return {name: distance.get(name, 0) for name in graph.outputs}


def simulate(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = (), *,
             chip: str = "loihi2", extra_steps: int = 0) -> Recording:
    """Run ``graph`` on Loihi (emulated) on inputs shaped (steps, batch, *input_shape).

    outputs: per Output node, the spikes of its population, (steps + extra_steps, batch, n),
    in the options' dtype, lagging the reference by ``hops(graph)`` steps. ``record`` names
    populations whose v is kept, dequantized: v_int / S + v_reset (float)."""
    graph = graph if graph.is_flat else flatten(graph)
    net = lower(graph, options, chip)
    if not isinstance(inputs, Mapping):
        if len(graph.inputs) != 1:
            raise InputError(f"graph has inputs {graph.inputs}; pass one array per input name")
        inputs = {graph.inputs[0]: inputs}
    feeds, lengths = {}, set()
    for name in graph.inputs:
        if name not in inputs:
            raise InputError(f"no input given for Input node '{name}'")
        array = np.asarray(inputs[name])
        shape = graph.nodes[name].shape
        if array.ndim != len(shape) + 2 or tuple(array.shape[2:]) != tuple(shape):
            raise InputError(f"input '{name}' has shape {array.shape}; expected "
                             f"(steps, batch, {', '.join(map(str, shape))})")
        lengths.add(array.shape[:2])
        flat = array.reshape(*array.shape[:2], -1) != 0
        feeds[name] = np.concatenate(
            [flat, np.zeros((extra_steps, *flat.shape[1:]), bool)]) if extra_steps else flat
    if len(lengths) != 1:
        raise InputError(f"inputs disagree on (steps, batch): {sorted(lengths)}")
    steps, batch = next(iter(lengths))
    steps += extra_steps
    if ALWAYS in net.inputs:
        feeds[ALWAYS] = np.ones((steps, batch, 1), bool)
    unknown = sorted(set(record) - set(net.neurons))
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such population")
    run = engine.run(to_engine(net, chip), feeds, steps, batch=batch,
                     probe=[f"{name}.v" for name in record])
    dtype = np.dtype(options.dtype)
    outputs = {}
    for name in graph.outputs:
        (pop,) = graph.predecessors(name)
        outputs[name] = run.spikes[pop].reshape(steps, batch, *graph.nodes[name].shape
                                                ).astype(dtype)
    states = {}
    for name in record:
        node = graph.nodes[name]
        v = run.states[f"{name}.v"].reshape(steps, batch, *node.shape) / node.hw["scale"]
        states[f"{name}.v"] = (v + node.v_reset).astype(dtype)
    return Recording(outputs=outputs, states=states,
                     spike_counts={name: int(run.spikes[name].sum()) for name in net.neurons},
                     steps=steps, batch=batch)


# -- pieces -------------------------------------------------------------------------------------


def _check(graph: Graph, chip: str) -> None:
    for name, node in graph.nodes.items():
        if not isinstance(node, NODES):
            raise UnsupportedNodeError(name, type(node).__name__, chip, list(SUPPORTED))
    unquantized = [name for name, node in graph.nodes.items()
                   if isinstance(node, MATRICES + POPULATIONS) and node.hw.get("format") != "loihi"]
    if unquantized:
        raise OptionError(f"target {chip} needs a graph quantized for Loihi: compile with "
                          f"-p 'normalize,quantize{{chip={chip}}}' (not quantized: "
                          f"{', '.join(unquantized[:5])})")
    for name in graph.outputs:
        pops = graph.predecessors(name)
        if len(pops) != 1 or not isinstance(graph.nodes[pops[0]], POPULATIONS):
            raise GraphError(f"target {chip}: Output '{name}' must read one LIF, CubaLIF or IF "
                             f"population, got {pops}")


def _ends(graph: Graph, name: str) -> tuple[str, str]:
    """The matrix's one source (Input or population) and one target population."""
    sources, targets = graph.predecessors(name), graph.successors(name)
    if (len(sources) != 1 or not isinstance(graph.nodes[sources[0]], (n.Input, *POPULATIONS))
            or len(targets) != 1 or not isinstance(graph.nodes[targets[0]], POPULATIONS)):
        raise GraphError(f"matrix '{name}' must read one Input or population and feed one "
                         f"population (reads {sources}, feeds {targets})")
    return sources[0], targets[0]


def _scalar(pop_name: str, hw: dict, key: str) -> int:
    value = np.asarray(hw[key])
    if value.size > 1 and np.ptp(value):
        raise OptionError(f"population '{pop_name}': {key} differs per neuron but Lava shares it "
                          f"per population (see the quantize report's per_neuron)")
    return int(value.reshape(-1)[0])


def _lif(name: str, node: n.Neuron, options: SimOptions) -> Lif:
    hw, size = node.hw, int(np.prod(node.shape))
    reset = node.reset or options.reset
    if not (reset == "to_v_reset" or (reset == "zero" and not np.any(node.v_reset))):
        raise OptionError(f"population '{name}': reset '{reset}' is not Lava's (v <- v_reset)")
    v0 = getattr(node, "v_leak", node.v_reset) - node.v_reset
    v0 = np.broadcast_to(np.rint(hw["scale"] * v0), node.shape).reshape(-1).astype(np.int64)
    per = lambda key: np.broadcast_to(np.asarray(hw[key], np.int64), node.shape).reshape(-1)
    return Lif(size=size, du=_scalar(name, hw, "du"), dv=_scalar(name, hw, "dv"),
               vth=_scalar(name, hw, "vth"), bias_mant=per("bias_mant"),
               bias_exp=per("bias_exp"), v=v0)


def _factor(pop: n.Neuron, unity: int, offset: int) -> np.ndarray:
    """Lava integer units per unit of matrix output at ``pop``: S g r [w_in g_syn]."""
    hw = pop.hw
    factor = hw["scale"] * np.broadcast_to(np.asarray(pop.r, np.float64), pop.shape)
    if not isinstance(pop, n.IF):
        factor = factor * np.asarray(hw["dv"]) / unity
    if isinstance(pop, n.CubaLIF):
        factor = factor * pop.w_in * (np.asarray(hw["du"]) + offset) / unity
    return factor


def _integers(name: str, values: np.ndarray) -> np.ndarray:
    rounded = np.rint(values)
    if values.size and np.max(np.abs(values - rounded)) > 1e-3:
        raise GraphError(f"matrix '{name}': weights are not on Lava's grid (off by up to "
                         f"{np.max(np.abs(values - rounded)):.3g}); quantize the graph for Loihi "
                         f"last, after every pass that changes weights")
    return rounded.astype(np.int64)
