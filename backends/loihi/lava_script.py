#!/usr/bin/env python3
"""A spiking network as Lava 0.10 processes, run on Lava's bit-accurate Loihi simulator
(``Loihi2SimCfg(select_tag="fixed_pt")``, or for Loihi 1 ``Loihi1SimCfg``, which selects
the same bit-accurate models). It needs numpy, scipy and lava-nc.
# emitted-by: (snnc writes the model, target and version here)

    python lava_network.py --input IN.npz --steps N --output OUT.npz [--probe POP.v ...]

IN.npz: ``spikes`` shaped (steps, [batch,] *input_shape), or one array per input name when
the network has several inputs; any nonzero value is a spike. OUT.npz: per output, an array
(steps, batch, *shape) of its population's spikes, or for a readout its v dequantized as
v / scale; per ``--probe POP.v`` that v as v / scale + v_reset (``POP.u``: u as is; an
ATRLIF population, which runs a subtract reset, has ``POP.i`` instead); and
``dt``: the format of ``snnc simulate -o``.

The parameters (weights, delays, neuron constants, names, shapes) are in lava_network.npz
beside this file: ``network`` is a JSON description, the other arrays are keyed by it.

Timing: Lava's Dense delivers a spike one step after it was sent, so a population k synapses
from the input lags by k steps (its ``shift``). The run takes max(output shift) steps of
silent input more and returns each output and probe from its shift on, so step t here is
step t of the source model. Lava has no batch dimension: each batch row is one Lava run.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
from scipy.sparse import csr_matrix

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    args = parse_args(argv)
    net, arrays = load(os.path.join(HERE, "lava_network.npz"))
    inputs = read_inputs(args.input, net, args.steps)
    steps, batch = next(iter(inputs.values())).shape[:2] if inputs else (args.steps, 1)
    if steps is None:
        fail("--steps is needed when the network has no input to read")
    extra = max((out["shift"] for out in net["outputs"]), default=0)
    records = recorded_vars(net, args.probe)
    runs = []
    for row in range(batch):
        if batch > 1:
            print(f"batch row {row + 1}/{batch}", file=sys.stderr)
        feeds = {item["name"]: feed(item, inputs, row, steps + extra) for item in net["inputs"]}
        runs.append(run(net, arrays, feeds, steps + extra, records))
    stacked = {key: np.stack([r[key] for r in runs], axis=1) for key in records}
    save(args.output, results(net, arrays, stacked, args.probe, steps, batch))
    print(f"wrote {args.output}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="IN.npz: 'spikes' or one array per input name")
    parser.add_argument("--steps", type=int, help="steps to run (default: all the input holds)")
    parser.add_argument("--output", required=True, help="OUT.npz to write")
    parser.add_argument("--probe", nargs="*", default=[], metavar="POP.VAR",
                        help="also record a population's v (dequantized) or u")
    return parser.parse_args(argv)


def fail(message):
    raise SystemExit(f"lava_network.py: {message}")


def load(path):
    """The JSON network description and its arrays."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(str(arrays.pop("network"))), arrays


# -- the network -------------------------------------------------------------------------------


def build(net, arrays, feeds):
    """The connected Lava processes by name; ``feeds``: per input, int32 (size, steps)."""
    from lava.proc.io.source import RingBuffer

    procs = {}
    for item in net["inputs"]:
        procs[item["name"]] = RingBuffer(data=feeds[item["name"]])  # takes no name
    for pop in net["populations"]:
        procs[pop["name"]] = neuron(pop, arrays)
    for syn in net["synapses"]:
        procs[syn["name"]] = synapse(syn, arrays)
        procs[syn["source"]].s_out.connect(procs[syn["name"]].s_in)
        procs[syn["name"]].a_out.connect(procs[syn["target"]].a_in)
    join_components(net, procs)
    return procs


def neuron(pop, arrays):
    """A LIF, or an ATRLIF (a subtract reset: v is never reset, a self-connection subtracts
    the threshold a step after each spike)."""
    from lava.proc.atrlif.process import ATRLIF
    from lava.proc.lif.process import LIF

    key, name = pop["key"], pop["name"]
    per_neuron = {var: arrays[f"{key}.{var}"] for var in ("bias_mant", "bias_exp", "v")}
    if pop.get("model") == "ATRLIF":
        shared = {var: pop[var] for var in ("delta_i", "delta_v", "delta_theta", "delta_r",
                                            "theta_0", "theta_step")}
        return ATRLIF(shape=(pop["size"],), i=arrays[f"{key}.i"], r=arrays[f"{key}.r"],
                      name=name, **shared, **per_neuron)
    return LIF(shape=(pop["size"],), du=pop["du"], dv=pop["dv"], vth=pop["vth"],
               u=arrays[f"{key}.u"], name=name, **per_neuron)


def synapse(syn, arrays):
    """Dense, Sparse (CSR weights), DelayDense or DelaySparse."""
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode

    key, sparse = syn["key"], syn["sparse"]
    kwargs = dict(weight_exp=syn["weight_exp"], num_weight_bits=syn["num_weight_bits"],
                  name=syn["name"])
    if syn["sign_mode"]:  # otherwise Lava infers it from the weights
        kwargs["sign_mode"] = SignMode[syn["sign_mode"].upper()]
    if sparse:
        weights = csr_matrix((arrays[f"{key}.data"], arrays[f"{key}.indices"],
                              arrays[f"{key}.indptr"]), shape=tuple(syn["shape"]))
    else:
        weights = arrays[f"{key}.weights"]
    if f"{key}.delays" not in arrays:
        return (Sparse if sparse else Dense)(weights=weights, **kwargs)
    delays = arrays[f"{key}.delays"]
    if delays.ndim == 0:
        delays = int(delays)  # DelayDense checks isinstance(delays, int)
    elif sparse:
        delays = csr_matrix(delays)
    return (DelaySparse if sparse else DelayDense)(weights=weights, delays=delays, **kwargs)


def join_components(net, procs):
    """Lava compiles only the processes connected to the one ``run`` is called on: link the
    first population to every other connected component by an all-zero Dense (adds 0)."""
    from lava.proc.dense.process import Dense

    sizes = {item["name"]: item["size"] for item in net["inputs"] + net["populations"]}
    group = {name: name for name in sizes}

    def root(name):
        while group[name] != name:
            name = group[name]
        return name

    for syn in net["synapses"]:
        group[root(syn["source"])] = root(syn["target"])
    pops = [pop["name"] for pop in net["populations"]]
    if not pops:
        return
    anchor, joined = pops[0], {root(pops[0])}
    for name in pops + [item["name"] for item in net["inputs"]]:
        if root(name) in joined:
            continue
        joined.add(root(name))
        source, target = (anchor, name) if name in pops else (name, anchor)
        bridge = Dense(weights=np.zeros((sizes[target], sizes[source]), dtype=int))
        procs[source].s_out.connect(bridge.s_in)
        bridge.a_out.connect(procs[target].a_in)


def recorded_vars(net, probes):
    """(population, var) pairs to monitor: each output's spikes (a readout's v), the probes."""
    current = {pop["name"]: "i" if pop.get("model") == "ATRLIF" else "u"
               for pop in net["populations"]}
    records = [(out["population"], "v" if out["readout"] else "s_out") for out in net["outputs"]]
    for probe in probes:
        pop, _, var = probe.rpartition(".")
        if pop not in current or var not in ("v", current[pop]):
            fail(f"--probe {probe}: expected POP.v or POP.u (POP.i on an ATRLIF) with POP one "
                 f"of {sorted(current)}")
        records.append((pop, var))
    if not records:
        fail("nothing to record: the network has no outputs and no --probe was given")
    return list(dict.fromkeys(records))


def run(net, arrays, feeds, steps, records):
    """One Lava run; per recorded (population, var), its values (steps, size)."""
    from lava.magma.core import run_configs
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.monitor.process import Monitor

    procs = build(net, arrays, feeds)
    monitors = []
    for pop, var in records:
        monitors.append(Monitor())  # a Monitor holds one probe only
        monitors[-1].probe(getattr(procs[pop], var), steps)
    config, tag = net["run_config"]  # e.g. Loihi2SimCfg, "fixed_pt"
    monitors[0].run(condition=RunSteps(num_steps=steps),
                    run_cfg=getattr(run_configs, config)(select_tag=tag))
    try:
        return {(pop, var): m.get_data()[pop][var] for (pop, var), m in zip(records, monitors)}
    finally:
        monitors[0].stop()


# -- inputs and outputs ------------------------------------------------------------------------


def read_inputs(path, net, steps):
    """Per input read from ``path``, its spikes as bool (steps, batch, size)."""
    named = [item for item in net["inputs"] if not item["always_on"]]
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


def feed(item, inputs, row, total):
    """The input's RingBuffer data, int32 (size, total): its row, then silent steps; an
    always-on input (it carries biases as weights) spikes every step."""
    if item["always_on"]:
        return np.ones((item["size"], total), dtype=np.int32)
    data = np.zeros((item["size"], total), dtype=np.int32)
    spikes = inputs[item["name"]][:, row]
    data[:, :len(spikes)] = spikes.T
    return data


def results(net, arrays, stacked, probes, steps, batch):
    """The OUT.npz arrays: outputs and probes from their own shift on, for ``steps`` steps."""
    pops = {pop["name"]: pop for pop in net["populations"]}

    def values(pop, var):
        raw = stacked[(pop, var)]  # Monitors record floats
        if var == "s_out":
            return raw != 0
        return volts(pops[pop], arrays, raw) if var == "v" else raw.astype(np.int64)

    found = {}
    for out in net["outputs"]:
        pop, shift = out["population"], out["shift"]
        window = values(pop, "v" if out["readout"] else "s_out")[shift:shift + steps]
        found[out["name"]] = window.reshape(-1, batch, *out["shape"])
    for probe in probes:
        pop, _, var = probe.rpartition(".")
        shift = pops[pop]["shift"]
        window = values(pop, var)[shift:shift + steps]
        found[probe] = window.reshape(-1, batch, *pops[pop]["shape"])
    if net["dtype"]:
        found = {key: value.astype(net["dtype"]) for key, value in found.items()}
    found["dt"] = np.float64(net["dt"])
    return found


def volts(pop, arrays, v):
    """v in the source model's units, v / scale + v_reset, where the population has a scale
    (a network given in Lava's integers has none: v as is)."""
    if pop["scale"] is None:
        return v.astype(np.int64)
    return v / pop["scale"] + arrays[f"{pop['key']}.v_reset"]


def save(path, arrays):
    """Write the .npz atomically: a temporary file beside it, then a rename."""
    handle, tmp = tempfile.mkstemp(prefix=".lava_out.", suffix=".tmp",
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
