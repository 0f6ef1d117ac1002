"""Emit a runnable PyNN script: ``pynn_network.py`` and its data ``pynn_network.npz``.

The script (a copy of ``pynn_script.py``, which imports numpy and pyNN only, never snnc)
builds the network from PyNN standard cells and runs it on sPyNNaker or on NEST:

    python OUT/pynn_network.py --input IN.npz --steps N --output OUT.npz
                               [--simulator spinnaker|nest] [--row K]

writing the Output nodes' spikes (steps, batch, *shape) as ``snnc simulate -o`` does.

The data holds two networks of the same graph, one per simulator, because the two compute
differently and each gets the parameters under which it reproduces the model:

- ``spinnaker`` (the default) is ``target.spinnaker_network``'s network, exactly what
  ``snnc simulate -t spinnaker1`` emulates: the cells are ``params.Cell.pynn()`` (every value
  an s16.15 word, so sPyNNaker writes the words the emulator computes with), the same lags,
  the same projections (a matrix as its excitatory and inhibitory halves, weights
  words x 2**(shift - 15) nA, which sPyNNaker's weight scale 2**(15 - shift) turns back into
  the same 16-bit words, ``population_vertex.py``; delays with the lags in), the same
  ring-buffer shifts, the same biases (``i_offset`` on IF_curr_delta cells, which start with
  ``refract_timer`` = their lag so that the offset acts from the lagged step 0 on; an
  always-on SpikeSourceArray into IF_curr_exp cells). On a board, it computes what the
  emulator computes.
- ``nest`` is laid out for NEST's float64 arithmetic, where it reproduces the float
  reference (measured: every spike equal on digits and 24 random graphs).

What differs between the two, and why:

- v_thresh. spinnaker: v_threshold + 2**-15, so that V >= v_thresh on the s16.15 grid is the
  IR's strict V > v_threshold. nest: v_threshold (V >= in float64 differs from > only on an
  exact tie).
- tau_m, cm. spinnaker: the s16.15 words whose core-computed exp_TC = expk(-kdivk(ts, tau_m))
  and R = kdivk(tau_m, cm) are nearest the IR's 1 - g and r (``params._tau_for``,
  ``_capacitance``). nest: tau_m = -dt/ln(1 - g), so that NEST's exact propagator is the IR's
  1 - g, and cm = tau_m / R in float64 (below).
- IF's leak (the IR's IF has none, a PyNN LIF always has one). spinnaker: the least leak that
  keeps alpha = I R inside s16.15 for the largest input (``params._no_leak_eps``). nest:
  tau_m = 2**k dt, the longest with R < 2**15: v relaxes toward v_reset by 2**-k per step.
- Affine biases. spinnaker: i_offset on IF_curr_delta cells, held back by refract_timer until
  the lag; the always-on source on IF_curr_exp cells (through the synaptic filter, as the
  IR). nest: every bias from the always-on source (NEST has no refract_timer to set, so an
  i_offset would act before the lagged step 0).
- Weights. spinnaker: the 16-bit ring-buffer words x 2**(shift - 15). nest: the IR's weights
  x ``_nest_factors`` (NEST's iaf_psc_delta jumps V by w; iaf_psc_exp integrates the current
  within the step).
- Lags. spinnaker: ``target.lags``. nest: the same rule, plus NEST's one-step input lag
  (PyNN-NEST's parrot neurons) and iaf_psc_exp's one-step latency (below).

IR -> PyNN units on both: v in mV, a weight in nA (the units the ``quantize{format=spinnaker}``
grid is laid in), times in ms. On NEST (``_nest_population``), with g = dt/tau (euler) or
1 - exp(-dt/tau) (exp), ``snnc.options.gain``:

- LIF -> IF_curr_delta: tau_m = -dt/ln(1 - g), so exp(-dt/tau_m) = 1 - g and the exact leak
  equals the IR's per-step leak (Euler included); v_rest = v_leak; cm = tau_m / (r dt).
- IF -> IF_curr_delta: tau_m = 2**k dt as above, v_rest = v_reset.
- CubaLIF -> IF_curr_exp: tau_m from g as above, tau_syn_E = tau_syn_I = -dt/ln(1 - g_syn),
  R = r w_in dt/tau_syn.
- v_reset = v_reset (0 for reset ``zero``), tau_refrac = 0, i_offset = 0, initial v = v_leak
  (v_reset for IF).

Projections: FromListConnector lists (i, j, weight, delay), the excitatory receptor for
w > 0 and the inhibitory one for w < 0 (weights negative: PyNN's convention for current
synapses; sPyNNaker takes |w|, ``abstract_connector.py``). The data holds each simulator's
final weights and delays (steps), so the script only builds what it reads.

Timing. PyNN delays are at least one step, where an IR matrix delivers in the same step, so
the PyNN network runs behind the IR: population p lags by ``lag[p]`` steps, the least lags
with delay_pynn = d + lag[target] - lag[source] - latency[target] >= 1 for every synapse
(longest paths; a loop with less delay than matrices is refused). ``latency`` is 1 for NEST's
iaf_psc_exp, whose synaptic current reaches V one step after arrival (NEST adds the spike
after the V update), else 0; NEST inputs lag by one step more (PyNN-NEST's SpikeSourceArray
sends through a parrot neuron, one min_delay, so no spike can be stamped before 2 dt). The
script runs max(output lag) steps more and returns each output from its lag on.

What cannot match exactly between a board and NEST: the arithmetic (s16.15 words, truncating
multiplies, u0.32 decays and saturating 16-bit ring buffers against float64 with exact
propagators), IF's two residual leaks, and the threshold tie. The emulator and NEST therefore
agree as closely as the emulator and the reference (see the tests).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from snnc.errors import GraphError, UnsupportedNodeError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.ir.graph import flatten
from snnc.options import SimOptions, gain

SCRIPT, PARAMETERS = "pynn_network.py", "pynn_network.npz"
TEMPLATE = Path(__file__).with_name("pynn_script.py")
MARKER = "# emitted-by: (snnc writes the model, target and version here)"
ALWAYS_ON = "always_on"
CELLS = {n.LIF: "IF_curr_delta", n.IF: "IF_curr_delta", n.CubaLIF: "IF_curr_exp"}
SUPPORTED = ["Input", "Output", "Affine", "Linear", *(t.__name__ for t in CELLS)]
# NEST's timing: steps by which inputs lag (see above) and each cell's latency.
NEST = {"input_lag": 1, "latency": {"IF_curr_delta": 0, "IF_curr_exp": 1}}
IF_TAU_STEPS = 15  # IF's tau_m is 2**k dt with k at most this (2**15 = s16.15's R range)


def emit(graph: Graph, options: SimOptions, out_dir: str | Path, chip: str = "spinnaker1"
         ) -> list[Path]:
    """Write the PyNN script of a graph compiled for SpiNNaker into ``out_dir``; it runs the
    graph's Output spikes on sPyNNaker or NEST. Returns the paths written."""
    graph = graph if graph.is_flat else flatten(graph)
    _check_nodes(graph, options, chip)
    arrays: dict[str, np.ndarray] = {}
    outputs = [{"name": name, "population": graph.predecessors(name)[0],
                "shape": list(graph.nodes[name].shape)} for name in graph.outputs]
    nest = _nest(graph, options, arrays)
    description = {
        "dt": float(options.dt), "dtype": options.dtype, "outputs": outputs,
        "inputs": [{"name": name, "size": int(np.prod(graph.nodes[name].shape)),
                    "shape": list(graph.nodes[name].shape)} for name in graph.inputs],
        "simulators": {"spinnaker": _spinnaker(graph, options, chip, arrays), "nest": nest},
    }
    arrays["network"] = np.array(json.dumps(description, indent=1))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / PARAMETERS, "wb") as file:
        np.savez_compressed(file, **arrays)
    (out_dir / SCRIPT).write_text(_script(f"target {chip}"))
    (out_dir / SCRIPT).chmod(0o755)
    return [out_dir / SCRIPT, out_dir / PARAMETERS]


def _script(title: str) -> str:
    from snnc import __version__

    return TEMPLATE.read_text().replace(MARKER, f"Emitted by snnc {__version__} ({title}).")


# -- checks ------------------------------------------------------------------------------------


def _check_nodes(graph: Graph, options: SimOptions, chip: str) -> None:
    """Only what the PyNN standard cells express: matrices between spike sources and cells."""
    for name, node in graph.nodes.items():
        if isinstance(node, (n.LI, n.CubaLI)):
            raise GraphError(f"node '{name}': the PyNN script records spikes only, so a "
                             f"{type(node).__name__} readout (its v) cannot be an output; "
                             "end the network in a spiking population")
        if not isinstance(node, (n.Input, n.Output, *n.MATRICES, *CELLS)):
            raise UnsupportedNodeError(name, type(node).__name__, chip, SUPPORTED)
        feeds = graph.predecessors(name)
        if isinstance(node, n.MATRICES):
            _expect(graph, name, feeds, (n.Input, *CELLS), "Input or spiking population")
        elif isinstance(node, n.Output):
            _expect(graph, name, feeds, tuple(CELLS), "spiking population")
        elif type(node) in CELLS:
            _expect(graph, name, feeds, n.MATRICES, "Affine or Linear")
            reset = node.reset or options.reset
            if reset not in ("to_v_reset", "zero"):
                raise GraphError(f"node '{name}': reset '{reset}' has no PyNN cell (PyNN's "
                                 "LIFs set v to v_reset on a spike)")


def _expect(graph: Graph, name: str, feeds, kinds, what: str) -> None:
    for source in feeds:
        if not isinstance(graph.nodes[source], kinds):
            raise GraphError(f"node '{name}' is fed by '{source}' "
                             f"({type(graph.nodes[source]).__name__}); the PyNN script needs "
                             f"an {what} there (compile with lower,normalize first)")
    if isinstance(graph.nodes[name], n.Output) and len(feeds) != 1:
        raise GraphError(f"output '{name}' must read exactly one population")


# -- the two networks ---------------------------------------------------------------------------


def _spinnaker(graph: Graph, options: SimOptions, chip: str, arrays: dict) -> dict:
    """sPyNNaker's network: ``target.spinnaker_network``'s populations (``params.Cell``) and connections,
    with ``target.lags``: what ``snnc simulate -t spinnaker1`` runs."""
    from .target import ALWAYS, lags, spinnaker_network

    net, lag = spinnaker_network(graph, options, chip), lags(graph, options.dt)
    label = lambda name: ALWAYS_ON if name == ALWAYS else name
    inputs, populations, projections = [], [], []
    for pop in net.populations:
        if pop.is_input:
            always = pop.name == ALWAYS  # spikes every step from step 0 (target.simulate)
            inputs.append({"name": label(pop.name), "size": pop.size, "always_on": always,
                           "shape": [1] if always else list(graph.nodes[pop.name].shape)})
            continue
        cell, hold = pop.model.cell, pop.model.hold
        initial = {"v": cell.pynn()["v_rest"], "refract_timer": np.full(pop.size, hold)}
        populations.append(_store_population(
            f"spinnaker.pop.{pop.name}", pop.name, cell.model, cell.pynn(), initial,
            [cell.shift_exc, cell.shift_inh], arrays))
    shifts = {p["name"]: dict(zip(("exc", "inh"), p["ring_buffer_shifts"]))
              for p in populations}
    for k, c in enumerate(net.connections):
        indptr, post, words, slot = c.synapses.fanout_lists()
        pre = np.repeat(np.arange(c.synapses.n_in), np.diff(indptr))
        sign = 1.0 if c.port == "exc" else -1.0  # PyNN's negative inhibitory weights
        weight = sign * words.astype(np.float64) * 2.0 ** (shifts[c.target][c.port] - 15)
        matrix = c.name.split("#", 1)[1].rsplit(".", 1)[0]
        projections.append(_store(f"spinnaker.proj{k}", {
            "source": label(c.source), "target": c.target, "matrix": matrix,
            "receptor": "excitatory" if c.port == "exc" else "inhibitory", "pre": pre,
            "post": post, "weight": weight, "delay": c.latency + c.synapses.delays[slot]},
            arrays))
    names = [p["name"] for p in populations]
    return {"inputs": inputs, "populations": populations, "projections": projections,
            "lags": {**{item["name"]: 0 for item in inputs}, **{p: lag[p] for p in names}}}


def _nest(graph: Graph, options: SimOptions, arrays: dict) -> dict:
    """NEST's network (see the module docstring), or why NEST cannot run it in step."""
    populations = [_nest_population(name, graph.nodes[name], options, arrays)
                   for name in graph.order if type(graph.nodes[name]) in CELLS]
    found = _projections(graph, options)
    inputs = [{"name": name, "size": int(np.prod(graph.nodes[name].shape)),
               "shape": list(graph.nodes[name].shape)} for name in graph.inputs]
    if any(p["source"] == ALWAYS_ON for p in found):
        inputs.append({"name": ALWAYS_ON, "size": 1, "shape": [1], "always_on": True})
    cells = {p["name"]: p["model"] for p in populations}
    lag = _lags(cells, inputs, found, NEST)
    if lag is None:
        return {"refused": "a loop through an IF_curr_exp population has one step of delay, "
                           "and NEST's iaf_psc_exp takes two"}
    by_name = {p["name"]: p for p in populations}
    projections = []
    for k, p in enumerate(found):
        target = by_name[p["target"]]
        delay = (p["delay"] + lag[p["target"]] - lag[p["source"]]
                 - NEST["latency"][target["model"]])
        weight = p["weight"] * _nest_factors(target, arrays, options.dt * 1e3)[p["post"]]
        projections.append(_store(f"nest.proj{k}", {**p, "delay": delay, "weight": weight},
                                  arrays))
    return {"inputs": inputs, "populations": populations, "projections": projections,
            "lags": lag}


def _nest_factors(pop: dict, arrays: dict, dt: float) -> np.ndarray:
    """Per neuron, what a PyNN (sPyNNaker-convention) weight is multiplied by on NEST for the
    same V change. IF_curr_delta: sPyNNaker adds w/dt R (1 - exp(-dt/tau_m)); NEST's
    iaf_psc_delta adds w. IF_curr_exp: sPyNNaker adds w init(tau_syn) to I and V gains g R I in
    the same step, init = (tau_syn/dt)(1 - exp(-dt/tau_syn)), g = 1 - exp(-dt/tau_m); NEST's
    iaf_psc_exp adds w to I and V gains P21 I over the next step, P21 the exact integral of the
    decaying current, tau_s tau_m / (cm (tau_s - tau_m)) (exp(-dt/tau_s) - exp(-dt/tau_m))."""
    key = pop["key"]
    tau_m, cm = arrays[f"{key}.tau_m"], arrays[f"{key}.cm"]
    resistance, g = tau_m / cm, -np.expm1(-dt / tau_m)
    if pop["model"] == "IF_curr_delta":
        return resistance * g / dt
    tau_s = arrays[f"{key}.tau_syn_E"]
    init = tau_s / dt * -np.expm1(-dt / tau_s)
    close = np.isclose(tau_s, tau_m, rtol=1e-9)
    apart = np.where(close, tau_m + 1.0, tau_s)  # avoids 0/0 where the limit applies
    p21 = np.where(close, dt / cm * np.exp(-dt / tau_m),
                   apart * tau_m / (cm * (apart - tau_m))
                   * (np.exp(-dt / apart) - np.exp(-dt / tau_m)))
    return init * g * resistance / p21


# -- populations -------------------------------------------------------------------------------


def _nest_population(name: str, node: n.Neuron, options: SimOptions, arrays: dict) -> dict:
    """A PyNN cell's parameters for NEST (ms, mV, nF, nA), one value per neuron."""
    dt_ms, size = options.dt * 1e3, int(np.prod(node.shape))
    flat = lambda a: np.broadcast_to(np.asarray(a, np.float64), node.shape).reshape(-1)
    v_reset = flat(0.0 if (node.reset or options.reset) == "zero" else node.v_reset)
    if isinstance(node, n.IF):
        steps = np.clip(np.floor(np.log2(2.0 ** IF_TAU_STEPS / (np.abs(flat(node.r)) * dt_ms))),
                        1, IF_TAU_STEPS)
        tau_m = 2.0 ** steps * dt_ms
        resistance = flat(node.r) * dt_ms / -np.expm1(-dt_ms / tau_m)  # R (1 - e) = r dt
        params = {"v_rest": v_reset}
        v_init = v_reset
    else:
        tau = node.tau if isinstance(node, n.LIF) else node.tau_mem
        tau_m = _pynn_tau(name, gain(tau, options), dt_ms, node.shape)
        resistance = flat(node.r) * dt_ms  # the delta input's 1/dt (see the docstring)
        if isinstance(node, n.CubaLIF):
            tau_syn = _pynn_tau(name, gain(node.tau_syn, options), dt_ms, node.shape)
            resistance = flat(node.r) * flat(node.w_in) * dt_ms / tau_syn
            params = {"tau_syn_E": tau_syn, "tau_syn_I": tau_syn}
        else:
            params = {}
        params["v_rest"] = flat(node.v_leak)
        v_init = flat(node.v_leak)
    if np.any(resistance == 0):
        raise GraphError(f"node '{name}': r = 0 (or w_in = 0) leaves the neuron without input; "
                         "PyNN's cm = tau_m / R needs R > 0")
    params.update(tau_m=tau_m, cm=tau_m / resistance, v_thresh=flat(node.v_threshold),
                  v_reset=v_reset, tau_refrac=np.zeros(size), i_offset=np.zeros(size))
    return _store_population(f"nest.pop.{name}", name, CELLS[type(node)], params,
                             {"v": v_init}, None, arrays)


def _store_population(key: str, name: str, model: str, params: dict, initial: dict,
                      shifts, arrays: dict) -> dict:
    size = len(params["tau_m"])
    for param, values in {**params, **initial}.items():
        arrays[f"{key}.{param}"] = np.broadcast_to(values, (size,)).astype(np.float64)
    return {"name": name, "key": key, "model": model, "size": size,
            "parameters": sorted(params), "initial": sorted(initial),
            "ring_buffer_shifts": shifts}


def _pynn_tau(name: str, g: np.ndarray, dt_ms: float, shape) -> np.ndarray:
    """The tau (ms) whose exact decay exp(-dt/tau) is the IR's per-step 1 - g."""
    g = np.broadcast_to(np.asarray(g, np.float64), shape).reshape(-1)
    if np.any(g >= 1) or np.any(g <= 0):
        raise GraphError(f"node '{name}': dt/tau = {g.max():.3g} >= 1; an exact-integration "
                         "LIF has no equivalent of an Euler step that long (use a smaller dt "
                         "or the exp integrator)")
    return -dt_ms / np.log1p(-g)


# -- projections -------------------------------------------------------------------------------


def _projections(graph: Graph, options: SimOptions) -> list[dict]:
    """Per (source, matrix, target, sign): nonzero synapses (pre, post, weight, IR delay in
    steps, one more over a recurrent edge); the Affine bias from the always-on source."""
    back, found = graph.recurrent_edges, []
    for matrix in graph.order:
        node = graph.nodes[matrix]
        if not isinstance(node, n.MATRICES):
            continue
        delay = (np.zeros(node.weight.shape, np.int64) if node.delay is None
                 else np.rint(node.delay / options.dt).astype(np.int64))
        bias = getattr(node, "bias", None)
        for target in graph.successors(matrix):
            for source in graph.predecessors(matrix):
                extra = int((source, matrix) in back) + int((matrix, target) in back)
                found += _signed(source, matrix, target, node.weight, delay + extra)
            if bias is not None and np.any(bias != 0):
                column = np.asarray(bias, np.float64).reshape(-1, 1)
                found += _signed(ALWAYS_ON, matrix, target, column,
                                 np.full(column.shape, int((matrix, target) in back)))
    return found


def _signed(source, matrix, target, weight, delay) -> list[dict]:
    post, pre = np.nonzero(weight)
    values = np.asarray(weight, np.float64)[post, pre]
    out = []
    for receptor, keep in (("excitatory", values > 0), ("inhibitory", values < 0)):
        if keep.any():
            out.append({"source": source, "matrix": matrix, "target": target,
                        "receptor": receptor, "pre": pre[keep], "post": post[keep],
                        "weight": values[keep], "delay": delay[post[keep], pre[keep]]})
    return out


def _store(key: str, p: dict, arrays: dict) -> dict:
    """A projection's lists (delays in PyNN steps) under ``key``; its description."""
    for field in ("pre", "post", "weight", "delay"):
        arrays[f"{key}.{field}"] = p[field]
    return {"key": key, **{k: p[k] for k in ("source", "matrix", "target", "receptor")}}


def _lags(cells: dict, inputs: list[dict], projections: list[dict], timing: dict
          ) -> dict[str, int] | None:
    """NEST's least lags with d + lag[target] - lag[source] - latency[target] >= 1
    everywhere: longest paths by relaxation; None where a loop never settles (a CubaLIF loop
    with one step of delay: iaf_psc_exp's latency needs two; the script then refuses NEST)."""
    lag = {item["name"]: timing["input_lag"] for item in inputs}
    latency = {name: timing["latency"][model] for name, model in cells.items()}
    lag.update({name: timing["input_lag"] + 1 + latency[name] for name in cells})
    bounds = [(p["source"], p["target"], 1 + latency[p["target"]] - int(p["delay"].min()))
              for p in projections]
    for _ in range(len(lag) + 1):
        changed = False
        for source, target, step in bounds:
            if lag[source] + step > lag[target]:
                lag[target], changed = lag[source] + step, True
        if not changed:
            return lag
    return None
