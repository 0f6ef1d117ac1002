"""Emit a runnable PyNN script: ``pynn_network.py`` and its data ``pynn_network.npz``.

The script (a copy of ``pynn_script.py``, which imports numpy and pyNN only, never snnc)
builds the network from PyNN standard cells and runs it on sPyNNaker or on NEST:

    python OUT/pynn_network.py --input IN.npz --steps N --output OUT.npz
                               [--simulator spinnaker|nest] [--row K]

writing the Output nodes' spikes (steps, batch, *shape) as ``snnc simulate -o`` does.

Cells (PyNN 0.13 standard models; sPyNNaker 1!7.4.1 IFCurrDelta / IFCurrExpBase; NEST
iaf_psc_delta / iaf_psc_exp). IR v is taken as mV and a weight as nA, the units the
``quantize{format=spinnaker}`` grid is laid in, so every PyNN weight is the IR weight itself
and each population's unit conversion lives in its cm. With g = dt/tau (euler) or
1 - exp(-dt/tau) (exp), ``snnc.options.gain``:

- LIF -> IF_curr_delta: tau_m = -dt/ln(1 - g), so exp(-dt/tau_m) = 1 - g and PyNN's exact
  leak equals the IR's per-step leak (Euler included); v_rest = v_leak; cm = tau_m / (r dt),
  so R = tau_m/cm = r dt and sPyNNaker's delta input (``input_type_delta.h``: I = w/dt for one
  step, V += (1 - exp_TC)(V_rest - V + R I)) adds g r w, as v += g (v_leak - v + r x) does.
- IF -> IF_curr_delta without leak as far as PyNN allows: tau_m = 2**k dt, the longest with
  R = r tau_m < 2**15 (s16.15 holds R on the chip), v_rest = v_reset: v relaxes toward
  v_reset by 2**-k per step, which the IR's IF does not.
- CubaLIF -> IF_curr_exp: tau_m from g as above, tau_syn_E = tau_syn_I = -dt/ln(1 - g_syn);
  sPyNNaker adds w init = w (tau_syn/dt)(1 - decay) to I on arrival and uses it in the same
  step (``synapse_types_exponential_impl.h``), so I_IR = I_pynn w_in dt/tau_syn and
  R = r w_in dt/tau_syn.
- v_thresh = v_threshold, v_reset = v_reset (0 for reset ``zero``), tau_refrac = 0 (NIR
  has no refractory period; sPyNNaker then holds 0 steps, NEST's t_ref = 0 none), i_offset
  = 0, initial v = v_leak (v_reset for IF), as Norse starts.
- An Affine bias b is a synapse from ``always_on``, a SpikeSourceArray that spikes every
  step, weight b: PyNN's i_offset would drive the population before its lagged start (below)
  and, for CubaLIF, skip the synaptic filter the IR puts the bias through.

Projections: one per (source, matrix, target, sign): FromListConnector lists (i, j, weight,
delay) with the excitatory receptor for w > 0 and the inhibitory one for w < 0 (weights
negative: PyNN's convention for current synapses; sPyNNaker takes |w|,
``abstract_connector.py``). The data keeps the IR delay of each synapse in steps (its
``delay`` rounded at dt, plus one step over a recurrent edge); the script adds the lags.

Timing. PyNN delays are at least one step, where an IR matrix delivers in the same step, so
the PyNN network runs behind the IR: population p lags by ``lag[p]`` steps, the least lags
with delay_pynn = d + lag[target] - lag[source] - latency[target] >= 1 for every synapse
(longest paths; a loop with less delay than matrices is refused). ``latency`` is 1 for NEST's
iaf_psc_exp, whose synaptic current reaches V one step after arrival (NEST adds the spike
after the V update), else 0; NEST inputs lag by one step more (PyNN-NEST's SpikeSourceArray
sends through a parrot neuron, one min_delay, so no spike can be stamped before 2 dt). The
script runs max(output lag) steps more and returns each output from its lag on.

What cannot match exactly:
- the threshold: PyNN's LIFs fire on v >= v_thresh (``threshold_type_static.h``, NEST), the
  IR on v > v_threshold; they differ only when v lands exactly on the threshold;
- the arithmetic: sPyNNaker computes in s16.15 with u0.32 decays and 16-bit ring-buffer
  weights (what ``snnc simulate -t spinnaker1`` emulates), NEST in float64 with exact
  propagators, the reference in float32; NEST's iaf_psc_exp integrates the decaying current
  within the step, which the script undoes by scaling its weights by g R init / P21
  (see the script), exact up to rounding;
- IF's residual leak (above); the ring-buffer shift is fixed per population to the one
  the quantize pass chose (``max_expected_summed_weight``), so sPyNNaker and snnc agree on it.
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
# Per simulator: steps by which inputs lag (NEST: one, see above) and each cell's latency.
SIMULATORS = {"spinnaker": {"input_lag": 0, "latency": {"IF_curr_delta": 0, "IF_curr_exp": 0}},
              "nest": {"input_lag": 1, "latency": {"IF_curr_delta": 0, "IF_curr_exp": 1}}}
IF_TAU_STEPS = 15  # IF's tau_m is 2**k dt with k at most this (2**15 = s16.15's R range)


def emit(graph: Graph, options: SimOptions, out_dir: str | Path, chip: str = "spinnaker1"
         ) -> list[Path]:
    """Write the PyNN script of a graph compiled for SpiNNaker into ``out_dir``; it runs the
    graph's Output spikes on sPyNNaker or NEST. Returns the paths written."""
    graph = graph if graph.is_flat else flatten(graph)
    _check_nodes(graph, options, chip)
    arrays: dict[str, np.ndarray] = {}
    populations = [_population(name, graph.nodes[name], options, arrays)
                   for name in graph.order if type(graph.nodes[name]) in CELLS]
    projections = _projections(graph, options)
    inputs = [{"name": name, "size": int(np.prod(graph.nodes[name].shape)),
               "shape": list(graph.nodes[name].shape)} for name in graph.inputs]
    if any(p["source"] == ALWAYS_ON for p in projections):
        inputs.append({"name": ALWAYS_ON, "size": 1, "shape": [1], "always_on": True})
    cells = {p["name"]: p["model"] for p in populations}
    lags = {sim: _lags(cells, inputs, projections, timing) for sim, timing in SIMULATORS.items()}
    if lags["spinnaker"] is None:
        raise GraphError("a recurrent loop has less synaptic delay than PyNN's one-step "
                         "minimum per synapse needs; give its recurrent synapses more delay")
    _check_delays(projections, lags, cells, chip)
    description = {
        "dt": float(options.dt), "dtype": options.dtype, "inputs": inputs,
        "populations": populations, "lags": lags,
        "latency": {sim: t["latency"] for sim, t in SIMULATORS.items()},
        "projections": [_store(f"proj{i}", p, arrays) for i, p in enumerate(projections)],
        "outputs": [{"name": name, "population": graph.predecessors(name)[0],
                     "shape": list(graph.nodes[name].shape)} for name in graph.outputs],
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


def _check_delays(projections: list[dict], lags: dict, cells: dict, chip: str) -> None:
    from snnc.hw_models import load_chip

    limit = load_chip(chip).delays.max_steps
    lag, latency = lags["spinnaker"], SIMULATORS["spinnaker"]["latency"]  # NEST has no limit
    for p in projections:
        extra = lag[p["target"]] - lag[p["source"]] - latency[cells[p["target"]]]
        longest = int(p["delay"].max(initial=0)) + extra
        if limit and longest > limit:
            raise GraphError(f"projection {p['source']} -> {p['matrix']} -> {p['target']}: a "
                             f"delay of {longest} steps (with the script's lags) exceeds "
                             f"{chip}'s {limit}; run map-delays with a lower max_delay")


# -- populations -------------------------------------------------------------------------------


def _population(name: str, node: n.Neuron, options: SimOptions, arrays: dict) -> dict:
    """A PyNN cell's parameters (ms, mV, nF, nA), one value per neuron."""
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
    key = f"pop.{name}"
    for param, values in params.items():
        arrays[f"{key}.{param}"] = np.broadcast_to(values, (size,)).astype(np.float64)
    arrays[f"{key}.v"] = np.broadcast_to(v_init, (size,)).astype(np.float64)
    shifts = [int(node.hw.get("shift_exc", -1)), int(node.hw.get("shift_inh", -1))]
    return {"name": name, "key": key, "model": CELLS[type(node)], "size": size,
            "shape": list(node.shape), "parameters": sorted(params),
            "ring_buffer_shifts": shifts if min(shifts) >= 0 else None}


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
    for field in ("pre", "post", "weight", "delay"):
        arrays[f"{key}.{field}"] = p[field]
    return {"key": key, **{k: p[k] for k in ("source", "matrix", "target", "receptor")}}


def _lags(cells: dict, inputs: list[dict], projections: list[dict], timing: dict
          ) -> dict[str, int] | None:
    """The least lags with d + lag[target] - lag[source] - latency[target] >= 1 everywhere:
    longest paths by relaxation; None where a loop never settles (on NEST, a CubaLIF loop
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
