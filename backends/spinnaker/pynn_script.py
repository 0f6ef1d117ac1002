#!/usr/bin/env python3
"""A spiking network as PyNN 0.13 standard cells, run on SpiNNaker through sPyNNaker
(``import pyNN.spiNNaker as sim``, the default) or on NEST (``--simulator nest``). It needs
numpy and pyNN, plus sPyNNaker or nest-simulator.
# emitted-by: (snnc writes the model, target and version here)

    python pynn_network.py --input IN.npz --steps N --output OUT.npz
                           [--simulator spinnaker|nest] [--row K]

IN.npz: ``spikes`` shaped (steps, [batch,] *input_shape), or one array per input name when
the network has several inputs; any nonzero value is a spike. Each batch row is one PyNN run
(``--row K``: row K only). OUT.npz: per output, its population's spikes (steps, batch,
*shape), and ``dt``: the format of ``snnc simulate -o``.

The parameters are in pynn_network.npz beside this file: ``network`` is a JSON description,
the other arrays are keyed by it. It holds one network per simulator (``simulators``), each
with its cells in PyNN units, its connection lists with final weights and delays (steps), its
initial values and its lags:

- ``spinnaker``: the cells and connections ``snnc simulate -t spinnaker1`` emulates (every
  parameter an s16.15 word, weights on each population's 16-bit ring-buffer grid, the
  ring-buffer shifts snnc chose, Affine biases of IF_curr_delta cells as i_offset held back
  by an initial refract_timer), so a board computes what the emulator computes;
- ``nest``: the same graph laid out for NEST's float64 arithmetic (thresholds, leaks and
  weights converted to NEST's iaf_psc_delta / iaf_psc_exp), which reproduces the float model.

Timing: PyNN delays are at least one step where the source model's matrices deliver in the
same step, so population p runs ``lags[p]`` steps behind the model (the delays include the
lags already). The run takes max(output lag) steps of silent input more and returns each
output from its lag on, so step t here is step t of the source model.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATORS = ("spinnaker", "nest")
# A spike at PyNN step k (covering (k dt, (k+1) dt]) is stamped (k + offset) dt: sPyNNaker
# records the timer tick it was sent in, NEST the end of the step.
STAMP_OFFSET = {"spinnaker": 0, "nest": 1}


def main(argv=None):
    args = parse_args(argv)
    net, arrays = load(os.path.join(HERE, "pynn_network.npz"))
    inputs = read_inputs(args.input, net, args.steps)
    steps, batch = next(iter(inputs.values())).shape[:2] if inputs else (args.steps, 1)
    if steps is None:
        fail("--steps is needed when the network has no input to read")
    rows = range(batch) if args.row is None else [args.row]
    if args.row is not None and not 0 <= args.row < batch:
        fail(f"--row {args.row} is outside 0..{batch - 1}")
    runs = []
    for row in rows:
        if len(rows) > 1:
            print(f"batch row {row + 1}/{batch}", file=sys.stderr)
        runs.append(run(net, arrays, inputs, row, steps, args.simulator))
    found = {out["name"]: np.stack([r[out["name"]] for r in runs], axis=1)
             for out in net["outputs"]}
    found = {key: value.astype(net["dtype"]) for key, value in found.items()}
    found["dt"] = np.float64(net["dt"])
    save(args.output, found)
    print(f"wrote {args.output}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="IN.npz: 'spikes' or one array per input name")
    parser.add_argument("--steps", type=int, help="steps to run (default: all the input holds)")
    parser.add_argument("--output", required=True, help="OUT.npz to write")
    parser.add_argument("--simulator", choices=SIMULATORS, default="spinnaker",
                        help="pyNN.spiNNaker (default) or pyNN.nest")
    parser.add_argument("--row", type=int, help="run this batch row only")
    return parser.parse_args(argv)


def fail(message):
    raise SystemExit(f"pynn_network.py: {message}")


def load(path):
    """The JSON network description and its arrays."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(str(arrays.pop("network"))), arrays


def import_simulator(name):
    try:
        if name == "nest":
            import pyNN.nest as sim
        else:
            import pyNN.spiNNaker as sim
    except ImportError as error:
        package = "nest-simulator" if name == "nest" else "sPyNNaker"
        fail(f"--simulator {name} needs {package} and PyNN ({error})")
    return sim


# -- one run -----------------------------------------------------------------------------------


def run(net, arrays, inputs, row, steps, simulator):
    """One PyNN run of batch row ``row``; per output, its spikes (steps, size) as bool."""
    dt_ms, path = net["dt"] * 1e3, net["simulators"][simulator]
    if "refused" in path:
        fail(f"this network cannot run in step on {simulator}: {path['refused']}")
    lags = path["lags"]
    sim = import_simulator(simulator)
    extra = max((lags[out["population"]] for out in net["outputs"]), default=0)
    delays = {p["key"]: arrays[f"{p['key']}.delay"] for p in path["projections"]}
    if any(d.size and d.min() < 1 for d in delays.values()):
        fail("a projection has a delay below one step")
    longest = max([int(d.max(initial=1)) for d in delays.values()], default=1)
    setup = {"timestep": dt_ms, "min_delay": dt_ms}
    if simulator == "nest":  # sPyNNaker ignores max_delay and warns about it
        setup.update(max_delay=longest * dt_ms, spike_precision="on_grid")
    sim.setup(**setup)
    try:
        pops = {}
        for item in path["inputs"]:
            times = spike_times(item, inputs, row, steps + extra, lags[item["name"]],
                                dt_ms, simulator)
            pops[item["name"]] = sim.Population(item["size"], sim.SpikeSourceArray(
                spike_times=times), label=item["name"])
        for pop in path["populations"]:
            pops[pop["name"]] = population(sim, pop, arrays, simulator)
        for p in path["projections"]:
            project(sim, arrays, p, pops, delays[p["key"]] * dt_ms)
        for out in net["outputs"]:
            pops[out["population"]].record("spikes")
        sim.run((steps + extra) * dt_ms)
        return {out["name"]: spike_array(pops[out["population"]], dt_ms, simulator,
                                         lags[out["population"]], steps)
                for out in net["outputs"]}
    finally:
        sim.end()


def population(sim, pop, arrays, simulator):
    key = pop["key"]
    params = {name: arrays[f"{key}.{name}"] for name in pop["parameters"]}
    initial = {name: arrays[f"{key}.{name}"] for name in pop["initial"]}
    cell = getattr(sim, pop["model"])(**params)
    extra = {}
    if pop["ring_buffer_shifts"]:
        # the shifts snnc's quantization chose: any m in [2**(s-1), 2**s) gives shift s
        # (PopulationVertex.get_ring_buffer_shifts); 0.75 * 2**s is inside for every s >= 0
        extra["additional_parameters"] = {"max_expected_summed_weight": [
            0.75 * 2.0 ** s for s in pop["ring_buffer_shifts"]]}
    created = sim.Population(pop["size"], cell, label=pop["name"], **extra)
    if simulator == "nest":
        # PyNN 0.13's initialize(v=...) fails on NEST 3.10 (it sets "v", NEST has "V_m")
        created.node_collection.set(V_m=[float(x) for x in initial["v"]])
    else:  # v, and refract_timer: the steps a population is held before its lagged step 0
        created.initialize(**initial)
    return created


def project(sim, arrays, p, pops, delay_ms):
    key = p["key"]
    pre, post = arrays[f"{key}.pre"], arrays[f"{key}.post"]
    weight = arrays[f"{key}.weight"]  # negative for the inhibitory receptor (PyNN's rule)
    connections = list(zip(pre.tolist(), post.tolist(), weight.tolist(), delay_ms.tolist()))
    sim.Projection(pops[p["source"]], pops[p["target"]], sim.FromListConnector(connections),
                   receptor_type=p["receptor"], label=f"{p['matrix']}.{p['receptor']}")


def spike_times(item, inputs, row, total, lag, dt_ms, simulator):
    """Per source neuron, its spike times (ms): model step t is PyNN step t + lag; the
    always-on source (biases) spikes at every step from its lag on."""
    if item.get("always_on"):
        steps = np.arange(lag, total)
        spikes = np.ones((len(steps), 1), dtype=bool)
    else:
        spikes = inputs[item["name"]][:, row]
        steps = np.arange(len(spikes)) + lag
    stamps = (steps + STAMP_OFFSET[simulator]) * dt_ms
    return [stamps[spikes[:, j]].tolist() for j in range(item["size"])]


def spike_array(pop, dt_ms, simulator, lag, steps):
    """The recorded spikes as bool (steps, size), from PyNN step ``lag`` on."""
    found = np.zeros((steps, pop.size), dtype=bool)
    trains = pop.get_data("spikes").segments[0].spiketrains
    for position, train in enumerate(trains):
        index = int(train.annotations.get("source_index", position))
        k = np.rint(np.asarray(train.rescale("ms").magnitude) / dt_ms).astype(np.int64)
        k = k - STAMP_OFFSET[simulator] - lag
        found[k[(k >= 0) & (k < steps)], index] = True
    return found


# -- inputs and outputs ------------------------------------------------------------------------


def read_inputs(path, net, steps):
    """Per input read from ``path``, its spikes as bool (steps, batch, size)."""
    named = [item for item in net["inputs"] if not item.get("always_on")]
    if not named:
        return {}
    if path is None:
        fail("--input is needed")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        fail(f"{path}: not a readable .npz ({error})")
    if "spikes" in arrays and len(named) == 1:
        arrays = {named[0]["name"]: arrays["spikes"]}
    found, lengths = {}, set()
    for item in named:
        name, shape = item["name"], tuple(item["shape"])
        if name not in arrays:
            wanted = "'spikes'" if len(named) == 1 else f"'{name}'"
            fail(f"{path}: needs array {wanted} (found: {', '.join(arrays) or 'none'})")
        array = arrays[name]
        if array.ndim == len(shape) + 1 and array.shape[1:] == shape:
            array = array[:, None]  # unbatched: a batch of one
        if array.ndim != len(shape) + 2 or array.shape[2:] != shape:
            fail(f"{path}: input '{name}' has shape {array.shape}; expected "
                 f"(steps, [batch,] {', '.join(map(str, shape))})")
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            fail(f"{path}: input '{name}' is not numeric (dtype {array.dtype})")
        if steps is not None and not 1 <= steps <= len(array):
            fail(f"{path}: --steps {steps} is outside 1..{len(array)}, the steps it holds")
        array = array[:steps]
        found[name] = array.reshape(*array.shape[:2], item["size"]) != 0
        lengths.add(array.shape[:2])
    if len(lengths) != 1:
        fail(f"{path}: inputs disagree on (steps, batch): {sorted(lengths)}")
    return found


def save(path, arrays):
    """Write the .npz atomically: a temporary file beside it, then a rename."""
    handle, tmp = tempfile.mkstemp(prefix=".pynn_out.", suffix=".tmp",
                                   dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(file, **arrays)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a normal file follows umask
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


if __name__ == "__main__":
    main()
