"""The ``loihi2`` target: a graph quantized for Loihi, lowered to Lava processes and run
bit-accurately on the engine (Lava 0.10's ``Loihi2SimCfg(select_tag="fixed_pt")``).

Input: a graph that went through ``quantize{chip=loihi2}`` (or ``format=loihi``): every matrix
and population carries ``hw["format"] == "loihi"`` (see ``snnc.backends.loihi.formats``). Nodes:
Input, Output, Flatten, Affine, Linear (optional per-synapse delays), LIF, CubaLIF, IF and the
readouts LI, CubaLI. Every matrix reads one Input or population and feeds one population;
every Output reads a population; Flatten nodes between them are index maps (C order on both
sides, as Lava's flat processes) and lower to nothing. Convolutions and pools lower first
(the ``lower`` pass of the default pipeline turns them into matrices).

Lowering (``lava_network``), per the Loihi format's mapping (formats.py):
- an Input becomes an input population (``RingBuffer``) of its flattened size;
- a population becomes a ``Lif`` with du, dv, vth, bias_mant, bias_exp from ``hw`` and the
  initial v of the reference (v_leak, or v_reset for IF) as S (v0 - origin), rounded, where
  origin is v_reset (spiking) or 0 (readouts) (``populations``); a LIF or IF with a subtract
  reset (snnTorch's default) a reset-free ``AtrLif`` with an inhibitory self-connection
  (``subtract``);
- a readout (LI, CubaLI) is the same LIF with the largest threshold: the Loihi format chose its
  scale S so that v can never cross it (see its docstring); an Output that reads a readout
  returns its dequantized v, v_int / S (float), like the reference;
- a matrix becomes a ``Synapse`` (Dense, or DelayDense where delays round to >= 1 step at
  ``options.dt``; Sparse / DelaySparse below ``SPARSE_BELOW`` nonzero density) with the
  integer weights Lava receives, recovered from the dequantized float weight W: the format
  stores W = m 2**(t + weight_exp + input_shift) / a with a the target's factor (S g r, IF:
  S r, CubaLIF/CubaLI: times w_in (du + current_decay_offset) / D) and Lava stores m << t, so
  the weight given to Lava is a W / 2**(weight_exp + input_shift), an exact integer (checked).
  A CubaLIF's or CubaLI's Affine bias is one more weight column (same grid) from an input
  neuron that spikes every step; an LIF's, LI's or IF's Affine bias is already in bias_mant.

Timing: Lava's Dense sends at step t what it received at t - 1, so every matrix (hop) adds one
step (the chip model's ``delays.added_latency_steps``, which the lowering reads), and each
population runs some steps behind the reference: its lag (``distances``; per Output
``output_lags``), the least lags that let every synapse arrive in step, given that each matrix
adds the latency, a synapse's own delay can absorb steps, and a back edge brings the
reference's own one-step delay. Synapses on shorter paths (skip connections, the always-on
bias input) then get more Lava delay and those with delays of their own (map-delays' relay
chains) less (``_aligned_delays``); the bias column of an Affine behind a back edge waits one
step more (the reference's back edge delivers zeros, bias included, at step 0), and a loop
that adds more latency than it can absorb is refused. ``simulate`` aligns by default: it runs
max(output_lags) steps of silent input more and returns each Output's values, and each
recorded population's v, from its own lag on, so they line up step for step with the
reference. ``align=False`` gives Lava's raw timing (``extra_steps`` silent steps added).
A population's bias (Lava's constant bias current: v_leak's drive, an Affine bias) acts from
step 0, before its first input arrives at step lag; so its v starts lag steps back along the
bias-only update (``populations.rewound``) and reaches the reference's v0 exactly when the input does.
Decays truncate (Lava) where the reference multiplies in float, and v saturates at 24 bits,
so spikes agree closely but not always exactly (see tests/backends/test_loihi_target.py; the
digits network agrees exactly).
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np
from scipy.sparse import csr_matrix

from snnc.errors import GraphError, InputError, OptionError
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten, upstream
from snnc.options import SimOptions

from .. import engine
from ..engine import view
from ..engine import Recording
from ..engine.inputs import graph_inputs
from .family import FAMILY
from .populations import population
from .processes import AtrLif, LoihiNetwork, Synapse, to_engine
from .subtract import read_origin, self_synapse

# the Loihi targets' default; split-populations is lossless and leaves uniform populations alone
PIPELINE = "lower,normalize,split-populations,map-delays,quantize"
MATRICES = (n.Affine, n.Linear)
READOUTS = (n.LI, n.CubaLI)
POPULATIONS = (n.LIF, n.CubaLIF, n.IF, *READOUTS)
CUBA = (n.CubaLIF, n.CubaLI)
ALWAYS = "__always_on__"  # the input neuron that carries CubaLIF / CubaLI Affine biases
# Below this nonzero density a matrix lowers to Sparse / DelaySparse. Lava keeps a Dense's
# weights as one int32 per (target, source) pair and a Sparse's as a scipy CSR matrix: one
# int32 value and one int32 column index per nonzero (plus a row pointer per target), so CSR
# is the smaller store below half density; its product also skips the zeros. The engine runs
# both alike (it picks its kernel by density), so the choice changes only what is emitted.
SPARSE_BELOW = 0.5


@view.lowered_once
def lava_network(graph: Graph, options: SimOptions = SimOptions(), chip: str = "loihi2", *,
          sparse_below: float = SPARSE_BELOW) -> LoihiNetwork:
    """The Lava process network of a graph quantized for Loihi (see the module docstring).
    ``sparse_below``: the density under which a matrix becomes Sparse (0: all Dense)."""
    graph = _flat(graph)
    spec = load_chip(chip)
    _check(graph, chip)
    inputs = {name: int(np.prod(graph.nodes[name].shape)) for name in graph.inputs}
    depth = distances(graph, options.dt, chip)
    neurons = {name: population(name, node, options, depth[name], spec.formats, PIPELINE)
               for name, node in graph.nodes.items() if isinstance(node, POPULATIONS)}
    synapses = []
    for name, node in graph.nodes.items():
        if isinstance(node, MATRICES):
            synapses += _synapses(graph, name, spec, options, sparse_below, depth)
    synapses += [self_synapse(name, atr, spec.formats.weight_bits, _added_latency(chip),
                              sparse_below)  # subtract resets (subtract.py)
                 for name, atr in neurons.items() if isinstance(atr, AtrLif)]
    if any(source == ALWAYS for source, _, _ in synapses):
        inputs[ALWAYS] = 1
    return LoihiNetwork(inputs, neurons, tuple(synapses))


def distances(graph: Graph, dt: float | None = None, chip: str = "loihi2") -> dict[str, int]:
    """Per node, the steps by which its Loihi values lag the reference's: the least lags
    that let every synapse arrive in step with the reference (``_aligned_delays``).

    Each matrix adds the chip's latency L (``delays.added_latency_steps``; Lava's Dense: 1
    step), its synapses' own delays (at ``dt``; None: not
    counted) can absorb some, and a recurrent edge brings one step of the reference's own. So
    lag[target] >= lag[source] + L - min delay steps of the matrix's synapses - (1 over a
    back edge): the longest path under those weights, found by relaxation. A population whose
    CubaLIF Affine bias comes from the always-on input needs a lag of at least 1 (2 behind a
    back edge). A loop that adds more latency than its delays and back edge absorb has no
    such lags: it would run slower on the chip than in the model, and is refused. Inputs
    and nodes no Input reaches get 0."""
    graph = _flat(graph)
    return view.lags(graph, dt, _added_latency(chip), lambda name: _bias_lag(graph, name),
                     "Loihi")


def _added_latency(chip: str) -> int:
    """Steps every synapse adds on top of its delay, from the chip model (Lava Dense: 1)."""
    latency = load_chip(chip).delays.added_latency_steps
    if latency is None:
        raise OptionError(f"chip {chip}: the Loihi targets need delays.added_latency_steps")
    return latency


def _bias_lag(graph: Graph, name: str) -> int:
    """The least lag of a CubaLIF / CubaLI whose Affine bias comes from the always-on input."""
    if not isinstance(graph.nodes[name], CUBA):
        return 0
    biased = [m for m in upstream_matrices(graph, name)
              if isinstance(graph.nodes[m], n.Affine) and np.any(graph.nodes[m].bias)]
    return max([1 + view.back_edge_after(graph, m) for m in biased], default=0)


def upstream_matrices(graph: Graph, name: str) -> list[str]:
    return [p for p in upstream(graph, name) if isinstance(graph.nodes[p], MATRICES)]


def output_lags(graph: Graph, dt: float | None = None, chip: str = "loihi2") -> dict[str, int]:
    """Per Output node, the steps by which its Loihi values lag the reference (``distances``
    of the population it reads)."""
    graph = _flat(graph)
    depth = distances(graph, dt, chip)
    return {name: depth[name] for name in graph.outputs}


def outputs_of(graph: Graph, dt: float | None = None, chip: str = "loihi2"
               ) -> dict[str, tuple[str, tuple[int, ...], int]]:
    """Per Output node: (the population it reads, the Output's shape, its shift in steps).
    A Lava run gives the reference's values of step t at step t + shift; they are spikes, or
    for a readout (LI, CubaLI) its v dequantized as v_int / hw["scale"]."""
    graph = _flat(graph)
    shifts = output_lags(graph, dt, chip)
    return {name: (view.reads(graph, name), tuple(graph.nodes[name].shape), shifts[name])
            for name in graph.outputs}


def simulate(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = (), *,
             chip: str = "loihi2", align: bool = True, extra_steps: int = 0) -> Recording:
    """Run ``graph`` on Loihi (emulated) on inputs shaped (steps, batch, *input_shape).

    outputs: per Output node, (steps, batch, *shape) in the options' dtype: the spikes of its
    population, or a readout's v (float). ``record`` names populations whose v is kept,
    dequantized (v_int / S + v_reset; readouts: v_int / S). spike_counts: per spiking
    population, over the steps returned.
    align=True: runs steps + max(output_lags) steps (silent input at the end) and returns each
    population's steps [lag, lag + steps) (its ``distances``), step for step the reference's.
    align=False: Lava's raw timing over steps + ``extra_steps`` steps."""
    graph = _flat(graph)
    if align and extra_steps:
        raise OptionError("extra_steps is for align=False: an aligned run adds max(output_lags) "
                          "steps itself")
    net = lava_network(graph, options, chip)
    feeds, steps, batch = _feeds(graph, inputs)
    depth = distances(graph, options.dt, chip)
    extra = max(output_lags(graph, options.dt, chip).values(), default=0) if align else extra_steps
    total = steps + extra
    feeds = {name: np.concatenate([f, np.zeros((extra, *f.shape[1:]), bool)])
             for name, f in feeds.items()}
    if ALWAYS in net.inputs:
        feeds[ALWAYS] = np.ones((total, batch, 1), bool)
    unknown = sorted(set(record) - set(net.neurons))
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such population")
    read = outputs_of(graph, options.dt, chip)
    readouts = {pop for pop, _, _ in read.values() if isinstance(graph.nodes[pop], READOUTS)}
    run = engine.run(to_engine(net, chip), feeds, total, batch=batch,
                     probe=[f"{name}.v" for name in sorted(set(record) | readouts)])
    _no_readout_spikes(graph, run)

    def window(pop: str) -> slice:
        return slice(depth[pop], depth[pop] + steps) if align else slice(None)

    dtype = np.dtype(options.dtype)
    outputs = {}
    for name, (pop, shape, _) in read.items():
        values = _volts(graph, pop, run) if pop in readouts else run.spikes[pop]
        outputs[name] = values[window(pop)].reshape(-1, batch, *shape).astype(dtype)
    states = {f"{name}.v": _volts(graph, name, run)[window(name)].reshape(
        -1, batch, *graph.nodes[name].shape).astype(dtype) for name in record}
    counts = {name: int(run.spikes[name][window(name)].sum()) for name in net.neurons
              if graph.nodes[name].spiking}
    activity = {name: spikes.sum(axis=(0, 1)) for name, spikes in run.spikes.items()}
    return Recording(outputs=outputs, states=states, spike_counts=counts,
                     steps=steps if align else total, batch=batch, counters=run.counters,
                     activity=activity)


# -- pieces -------------------------------------------------------------------------------------


def _flat(graph: Graph) -> Graph:
    return graph if graph.is_flat else flatten(graph)


def _check(graph: Graph, chip: str) -> None:
    view.check_nodes(graph, FAMILY, chip, "loihi", PIPELINE, "Loihi")


def _synapses(graph: Graph, name: str, spec, options: SimOptions, sparse_below: float,
              depth: Mapping[str, int]) -> list[tuple[str, str, Synapse]]:
    """The matrix as Lava's integer weights; a CubaLIF/CubaLI bias as a column from ALWAYS."""
    fmt, latency = spec.formats, _added_latency(spec.name)
    node = graph.nodes[name]
    source, target = view.ends(graph, name, "Loihi")
    pop = graph.nodes[target]
    a = _factor(pop, 2 ** fmt.decay_bits, fmt.current_decay_offset or 0).reshape(-1)
    if a.size != node.weight.shape[0]:
        raise GraphError(f"matrix '{name}' has {node.weight.shape[0]} outputs but feeds "
                         f"'{target}' of {a.size} neurons")
    unit = 2.0 ** (node.hw["weight_exp"] + fmt.input_shift)
    kw = dict(weight_exp=int(node.hw["weight_exp"]),
              num_weight_bits=int(node.hw["num_weight_bits"]), sign_mode=node.hw["sign_mode"])
    steps = 0 if node.delay is None else np.rint(node.delay / options.dt).astype(np.int64)
    weights = _integers(name, a[:, None] * node.weight / unit)
    delays = _aligned_delays(source, target, steps, depth, view.recurrent(graph, source, target),
                             latency, used=weights != 0)
    found = [(source, target, _synapse(weights, delays, kw, sparse_below))]
    if isinstance(pop, CUBA) and isinstance(node, n.Affine) and np.any(node.bias):
        column = _integers(name, (a * node.bias / unit)[:, None])
        # the bias misses step 0 when the back edge lies between the matrix and the target
        delay = _aligned_delays(ALWAYS, target, 0, depth, view.back_edge_after(graph, name),
                                latency)
        found.append((ALWAYS, target, _synapse(column, delay, kw, sparse_below)))
    return found


def _aligned_delays(source: str, target: str, steps, depth: Mapping[str, int],
                    recurrent: bool, latency: int, used: np.ndarray | bool = True
                    ) -> np.ndarray | None:
    """Lava delays that keep ``target`` aligned with the reference (None: a plain Dense).

    In the reference, a spike of ``source`` at step t arrives at t + steps (+ 1 over a
    recurrent edge). Aligned, source's step t is Lava's t + depth[source] and target's is
    t + depth[target]; a Dense-like process delivers after L + its delay (L = ``latency``, the
    chip's added latency: 1). So the Lava delay is
    steps (+ 1) + depth[target] - depth[source] - L: the synapse delay itself on a longest
    path, more where the path through ``source`` is shorter (skip connections, relay chains,
    CubaLIF bias columns from the always-on input, which get depth[target] - L). Forward
    edges never need less (``distances`` takes longest paths); a recurrent edge from a
    population deeper than its target would, and cannot be had: the loop's matrices each add
    a step on the chip, so its dynamics differ from the model's, and it is refused.
    ``used`` marks the synapses that exist (nonzero weights); only they must arrive in time."""
    lag = depth[target] - depth.get(source, 0) - latency + recurrent
    delays = np.asarray(steps, np.int64) + lag
    used = np.asarray(used)
    delays = np.broadcast_to(delays, used.shape) if delays.ndim < used.ndim else delays
    late = -int(np.min(delays, where=np.broadcast_to(used, delays.shape), initial=0))
    if late > 0:
        raise GraphError(f"recurrent connection '{source}' -> '{target}' would arrive {late} "
                         f"step(s) late on Loihi: each matrix on the loop adds a step of "
                         f"latency ({depth.get(source, 0)} matrices from the input to "
                         f"'{source}', {depth[target]} to '{target}'); give it a synaptic delay "
                         f"of at least {late} step(s) more")
    delays = np.maximum(delays, 0)
    return delays if delays.any() else None


def _synapse(weights: np.ndarray, delays: np.ndarray | None, kw: dict, sparse_below: float
             ) -> Synapse:
    """Dense, or Sparse (CSR weights) below ``sparse_below`` density. Delays stay a dense
    matrix either way: the engine reads them so, and ``lava.py`` makes them CSR for Lava."""
    if weights.size and np.count_nonzero(weights) < sparse_below * weights.size:
        return Synapse(csr_matrix(weights), delays=delays, sparse=True, **kw)
    return Synapse(weights, delays=delays, **kw)


def _factor(pop: n.Neuron, unity: int, offset: int) -> np.ndarray:
    """Lava integer units per unit of matrix output at ``pop``: S g r [w_in g_syn]."""
    hw = pop.hw
    factor = hw["scale"] * np.broadcast_to(np.asarray(pop.r, np.float64), pop.shape)
    if not isinstance(pop, n.IF):
        factor = factor * np.asarray(hw["dv"]) / unity
    if isinstance(pop, CUBA):
        factor = factor * pop.w_in * (np.asarray(hw["du"]) + offset) / unity
    return factor


def _integers(name: str, values: np.ndarray) -> np.ndarray:
    rounded = np.rint(values)
    if values.size and np.max(np.abs(values - rounded)) > 1e-3:
        raise GraphError(f"matrix '{name}': weights are not on Lava's grid (off by up to "
                         f"{np.max(np.abs(values - rounded)):.3g}); quantize the graph for Loihi "
                         f"last, after every pass that changes weights")
    return rounded.astype(np.int64)


def _feeds(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray
           ) -> tuple[dict[str, np.ndarray], int, int]:
    """Per Input, its spikes as bool (steps, batch, size); and (steps, batch). On top of the
    engine's input check: binary spikes only."""
    arrays, steps, batch = graph_inputs(graph, inputs)
    feeds = {}
    for name, array in arrays.items():
        graded = (array != 0) & (array != 1)
        if graded.any():  # Lava's RingBuffer -> Dense path here carries binary spikes only
            raise InputError(f"input '{name}': Loihi targets take spikes (0 or 1), found "
                             f"{array[graded].flat[0]:g}; encode analog input as spikes first "
                             f"(or run it on the reference target)")
        feeds[name] = array.reshape(*array.shape[:2], -1) != 0
    return feeds, steps, batch


def _volts(graph: Graph, pop: str, run: engine.Trace) -> np.ndarray:
    """A probed population's v in float units, (steps, batch, size)."""
    node = graph.nodes[pop]
    scale = float(np.asarray(node.hw["scale"]).reshape(-1)[0])
    origin = np.broadcast_to(read_origin(node), node.shape).reshape(-1)
    return run.states[f"{pop}.v"] / scale + origin


def _no_readout_spikes(graph: Graph, run: engine.Trace) -> None:
    """A readout that spiked had v reset: its values are wrong, so say so rather than return
    them (the Loihi format's scale rules this out; a graph quantized otherwise might not)."""
    for name, spikes in run.spikes.items():
        node = graph.nodes.get(name)
        if isinstance(node, READOUTS) and spikes.any():
            raise GraphError(f"readout '{name}' ({type(node).__name__}) crossed Lava's largest "
                             f"threshold, so its v was reset; quantize it with "
                             f"quantize{{chip=...}}, whose scale keeps v below it")
