"""The ``spinnaker1`` target: a graph quantized for SpiNNaker (``quantize`` with the
``spinnaker`` format), lowered to sPyNNaker's populations and projections and run on the
engine with the process models of ``neurons`` (sPyNNaker 1!7.4.1's C arithmetic).

Lowering: each Input becomes a SpikeSourceArray (binary spikes), each neuron population an
IF_curr_delta or IF_curr_exp (``params``: how its IR parameters map onto PyNN's and what
cannot match), each matrix two projections (FromListConnector), excitatory for its positive
weights and inhibitory for its negative ones, with the 16-bit magnitudes
rint(|w| 2**(15 - shift)) of the target's ring-buffer shift per type (the quantized graph's
weights sit on that grid: checked). An Affine bias into a delta cell is its i_offset; into an
exponential cell (whose bias the reference adds to the synaptic current every step) it is a
projection from an always-on SpikeSourceArray (``ALWAYS``), on the same weight grid.

Timing: a projection's delay is at least one step (sPyNNaker ``MIN_SUPPORTED_DELAY``, the
chip model's ``delays.min_steps``): a spike sent at step k with delay d reaches the membrane
update of step k + d. The reference delivers a matrix's output in the same step (k + its
delay, + 1 over a recurrent edge). So each population runs ``lags`` steps behind the reference
(the least lags that give every synapse a delay >= 1, by longest paths as for Loihi), each
projection's delay is d + lag[target] - lag[source] (+ 1 recurrent), and a population starts
with refract_timer = its lag (V held at v_rest, i_offset not yet acting) so that its step
``lag`` is the reference's step 0. ``simulate`` runs max(lag) steps more (silent input) and
returns each Output's values from its population's lag on: step for step the reference's.
Readouts (LI, CubaLI, I) return V after the step's update; sPyNNaker records V before it
(``neuron_impl_standard.h``), so a PyNN recording of v is one step later than this.
"""
from __future__ import annotations

import dataclasses
from typing import Collection, Mapping

import numpy as np

from snnc.errors import GraphError, InputError, OptionError
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten
from snnc.options import SimOptions

from .. import engine
from ..engine import view
from ..engine import Recording
from ..engine.inputs import graph_inputs
from . import FAMILY, fixed
from .neurons import SpinnakerLif
from .params import EXP, READOUTS, cell

PIPELINE = "lower,normalize,map-delays,quantize"
CHIP = "spinnaker1"
MATRICES = (n.Affine, n.Linear)
POPULATIONS = (n.LIF, n.CubaLIF, n.IF, n.LI, n.CubaLI, n.I)
ALWAYS = "__always_on__"  # a SpikeSourceArray that spikes every step: exp cells' biases


@view.lowered_once
def spinnaker_network(graph: Graph, options: SimOptions = SimOptions(), chip: str = CHIP
                      ) -> engine.Network:
    """The engine network of a graph quantized for SpiNNaker (see the module docstring)."""
    graph = _with_resets(_flat(graph), options)
    _check(graph, chip)
    lag = lags(graph, options.dt)
    max_steps = load_chip(chip).delays.max_steps
    pops = [engine.Population(name, int(np.prod(node.shape)))
            for name, node in graph.nodes.items() if isinstance(node, n.Input)]
    connections = []
    for name, node in graph.nodes.items():
        if isinstance(node, MATRICES):
            connections += _projections(graph, name, options.dt, lag, max_steps)
    biases = _biases(graph)
    for name, node in graph.nodes.items():
        if isinstance(node, POPULATIONS):
            delta_bias = biases[name] if not isinstance(node, EXP) else 0.0 * biases[name]
            model = SpinnakerLif(cell(node, delta_bias, options), hold=lag[name])
            pops.append(engine.Population(name, int(np.prod(node.shape)), model))
            if isinstance(node, EXP):
                connections += _bias_projections(graph, name, biases[name], lag, max_steps)
    if any(c.source == ALWAYS for c in connections):
        pops.insert(0, engine.Population(ALWAYS, 1))
    return engine.Network(tuple(pops), tuple(connections))


def lags(graph: Graph, dt: float) -> dict[str, int]:
    """Per node, the steps by which its SpiNNaker values lag the reference's (``view.lags``
    with sPyNNaker's least delay of 1 step per projection); an exponential cell whose Affine
    bias comes from ``ALWAYS`` needs a lag of at least 1 (0 behind a back edge)."""
    graph = _flat(graph)
    return view.lags(graph, dt, 1, lambda name: _bias_lag(graph, name), "SpiNNaker")


def simulate(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = (), *,
             chip: str = CHIP) -> Recording:
    """Run ``graph`` on SpiNNaker (emulated) on inputs (steps, batch, *input_shape), aligned
    with the reference step for step. outputs: per Output node, its population's spikes, or
    a readout's V (float). ``record``: populations whose v is kept (float)."""
    graph = _flat(graph)
    net = spinnaker_network(graph, options, chip)
    feeds, steps, batch = _feeds(graph, inputs)
    lag = lags(graph, options.dt)
    reads = {name: view.reads(graph, name) for name in graph.outputs}
    extra = max([lag[pop] for pop in reads.values()] + [lag[p] for p in record], default=0)
    total = steps + extra
    feeds = {name: np.concatenate([f, np.zeros((extra, *f.shape[1:]), bool)])
             for name, f in feeds.items()}
    if ALWAYS in net.by_name:
        feeds[ALWAYS] = np.ones((total, batch, 1), bool)
    unknown = sorted(set(record) - {p.name for p in net.populations if not p.is_input})
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such population")
    readouts = {pop for pop in reads.values() if isinstance(graph.nodes[pop], READOUTS)}
    run = engine.run(net, feeds, total, batch=batch,
                     probe=[f"{name}.v" for name in sorted(set(record) | readouts)])
    window = lambda pop: slice(lag[pop], lag[pop] + steps)  # noqa: E731
    volts = lambda pop: run.states[f"{pop}.v"][window(pop)] / fixed.ONE  # noqa: E731
    dtype = np.dtype(options.dtype)
    outputs = {name: (volts(pop) if pop in readouts else run.spikes[pop][window(pop)])
               .reshape(steps, batch, *graph.nodes[name].shape).astype(dtype)
               for name, pop in reads.items()}
    states = {f"{name}.v": volts(name).reshape(steps, batch, *graph.nodes[name].shape)
              .astype(dtype) for name in record}
    counts = {name: int(run.spikes[name][window(name)].sum()) for name, node
              in graph.nodes.items() if isinstance(node, POPULATIONS) and node.spiking}
    activity = {name: spikes.sum(axis=(0, 1)) for name, spikes in run.spikes.items()}
    return Recording(outputs=outputs, states=states, spike_counts=counts, steps=steps,
                     batch=batch, counters=run.counters, activity=activity)


# -- pieces -------------------------------------------------------------------------------------


def _flat(graph: Graph) -> Graph:
    return graph if graph.is_flat else flatten(graph)


def _check(graph: Graph, chip: str) -> None:
    view.check_nodes(graph, FAMILY, chip, "spinnaker", PIPELINE, "SpiNNaker")


def _with_resets(graph: Graph, options: SimOptions) -> Graph:
    """sPyNNaker resets V to v_reset: ``zero`` is v_reset = 0; other resets are refused."""
    nodes, changed = dict(graph.nodes), False
    for name, node in graph.nodes.items():
        reset = (getattr(node, "reset", None) or options.reset) if isinstance(
            node, POPULATIONS) and node.spiking else "to_v_reset"
        if reset == "zero" and np.any(node.v_reset):
            nodes[name], changed = dataclasses.replace(node, v_reset=0 * node.v_reset), True
        elif reset not in ("zero", "to_v_reset"):
            raise OptionError(f"population '{name}': reset '{reset}' is not sPyNNaker's "
                              "(V <- v_reset)")
    return dataclasses.replace(graph, nodes=nodes) if changed else graph


def _bias_lag(graph: Graph, name: str) -> int:
    if not isinstance(graph.nodes[name], EXP):
        return 0
    biased = [m for m in graph.predecessors(name) if _biased(graph, m)]
    return max([1 - view.back_edge_after(graph, m) for m in biased], default=0)


def _biased(graph: Graph, name: str) -> bool:
    node = graph.nodes[name]
    return isinstance(node, n.Affine) and bool(np.any(node.bias))


def _magnitudes(name: str, values: np.ndarray, shift: int) -> np.ndarray:
    """|values| as the 16-bit words rint(|w| 2**(15 - shift)) (on the grid: checked)."""
    scaled = np.abs(np.asarray(values, np.float64)) * 2.0 ** (15 - shift)
    words = np.rint(scaled)
    if scaled.size and np.max(np.abs(scaled - words)) > 1e-3:
        raise GraphError(f"matrix '{name}': weights are not on the ring-buffer grid of their "
                         "population; quantize the graph for SpiNNaker last")
    return words.astype(np.int64)


def _delays(source: str, target: str, steps, lag: Mapping[str, int], recurrent: bool,
            used: np.ndarray, max_steps: int | None) -> np.ndarray:
    delays = np.broadcast_to(np.asarray(steps, np.int64)
                             + lag[target] - lag.get(source, 0) + recurrent, used.shape)
    if not used.any():
        return np.ones(used.shape, np.int64)
    least, most = int(delays[used].min()), int(delays[used].max())
    if least < 1:
        raise GraphError(f"connection '{source}' -> '{target}' would need a delay of "
                         f"{least} steps on SpiNNaker (at least 1); give it {1 - least} step(s) "
                         "more synaptic delay")
    if max_steps is not None and most > max_steps:
        raise GraphError(f"connection '{source}' -> '{target}' needs a delay of {most} steps "
                         f"after alignment, over SpiNNaker's {max_steps} (delays.max_steps)")
    return np.where(used, delays, 1)


def _projections(graph: Graph, name: str, dt: float, lag: Mapping[str, int],
                 max_steps: int | None) -> list[engine.Connection]:
    """A matrix as its excitatory and inhibitory projections."""
    node = graph.nodes[name]
    source, target = view.ends(graph, name, "SpiNNaker")
    pop = graph.nodes[target]
    steps = 0 if node.delay is None else np.rint(node.delay / dt).astype(np.int64)
    delays = _delays(source, target, steps, lag, view.recurrent(graph, source, target),
                     node.weight != 0, max_steps)
    found = []
    for port, part in (("exc", node.weight > 0), ("inh", node.weight < 0)):
        words = _magnitudes(name, np.where(part, node.weight, 0), pop.hw[f"shift_{port}"])
        if words.any():
            found.append(engine.Connection(f"{source}->{target}#{name}.{port}", source, target,
                                           engine.Synapses.from_dense(words, delays), 0,
                                           port=port))
    return found


def _biases(graph: Graph) -> dict[str, np.ndarray]:
    """Per population, the summed biases of the Affine matrices into it (flat)."""
    out = {}
    for name, node in graph.nodes.items():
        if isinstance(node, POPULATIONS):
            total = np.zeros(int(np.prod(node.shape)))
            for m in graph.predecessors(name):
                if _biased(graph, m):
                    total = total + np.asarray(graph.nodes[m].bias, np.float64).reshape(-1)
            out[name] = total
    return out


def _bias_projections(graph: Graph, name: str, bias: np.ndarray, lag: Mapping[str, int],
                      max_steps: int | None) -> list[engine.Connection]:
    """An exponential cell's bias as projections from the always-on source, with the delay
    that makes it arrive from the population's reference step 0 (1 behind a back edge). The
    bias is re-rounded to the ring-buffer grid (the format keeps it on s16.15)."""
    if not np.any(bias):
        return []
    pop, found = graph.nodes[name], []
    back = any(view.back_edge_after(graph, m) for m in graph.predecessors(name) if _biased(graph, m))
    delay = int(lag[name] + back)
    _delays(ALWAYS, name, delay, {ALWAYS: 0, name: 0}, False, np.ones((1, 1), bool), max_steps)
    for port, part in (("exc", bias > 0), ("inh", bias < 0)):
        words = np.rint(np.abs(np.where(part, bias, 0)) * 2.0 ** (15 - pop.hw[f"shift_{port}"]))
        if words.any():
            found.append(engine.Connection(
                f"{ALWAYS}->{name}#bias.{port}", ALWAYS, name,
                engine.Synapses.from_dense(words.astype(np.int64)[:, None], delay), 0,
                port=port))
    return found


def _feeds(graph: Graph, inputs) -> tuple[dict[str, np.ndarray], int, int]:
    """Per Input, its spikes as bool (steps, batch, size): SpikeSourceArrays send spikes."""
    arrays, steps, batch = graph_inputs(graph, inputs)
    feeds = {}
    for name, array in arrays.items():
        graded = (array != 0) & (array != 1)
        if graded.any():
            raise InputError(f"input '{name}': SpiNNaker takes spikes (0 or 1), found "
                             f"{array[graded].flat[0]:g}; encode analog input as spikes first "
                             "(or run it on the reference target)")
        feeds[name] = array.reshape(*array.shape[:2], -1) != 0
    return feeds, steps, batch
