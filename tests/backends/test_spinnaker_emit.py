"""The emitted PyNN script (``snnc.backends.spinnaker.emit``) on NEST and on sPyNNaker.

- The script imports numpy and pyNN only (checked with ``ast``), never snnc.
- On NEST 3.10 (``--simulator nest``, in a subprocess as a user runs it), the Output spikes of
  random LIF / IF / CubaLIF graphs (Affine biases, per-synapse delays, a skip edge, a
  recurrent loop, mixed signs) and of the digits example equal the float reference of the
  compiled graph. Measured: every spike equal (agreement 1.0 on 24 random graphs of 60 steps
  x 2 rows, and on the digits' 8 rows). Asserted: agreement >= 0.99 per output, since the two
  arithmetics differ: NEST integrates in float64 with exact propagators (the emitted tau_m
  makes exp(-dt/tau_m) the IR's 1 - g, the weight factors undo iaf_psc_exp's in-step
  integral), the reference in float32, PyNN fires on v >= v_thresh where the IR needs v >
  v_threshold, and IF keeps a leak of 2**-15 per step; any of these can flip a spike that
  sits within rounding of its threshold.
- Under sPyNNaker 1!7.4.1 with a virtual board (a spynnaker.cfg in a temporary HOME) the
  script maps: one core per population and source, DelayExtension cores for delays beyond
  the on-core span, and the ring-buffer shifts the quantize pass chose; the script's
  sPyNNaker network is ``target.spinnaker_network``'s (``params.Cell``: LIF biases as i_offset, so digits
  has no always-on source). snnc's own mapping (``snnc compile`` artefacts) is compared with
  sPyNNaker's in ``spinnaker/test_spinnaker_mapping_vs_spynnaker.py``: cores, DelayExtension
  cores, keys and routing entries per chip before and after compression.
- The script's sPyNNaker network, read back as the cores receive it (S1615 words, 16-bit
  weights, delays in steps, refract_timer), runs on the engine to exactly the spikes of
  ``snnc simulate -t spinnaker1``: the board gets what the emulator computes with. Measured
  beside (not asserted here): the emulator against NEST on digits (64 rows) 0.99977 of spikes
  equal, every class the same; on the 24 random graphs mean 0.995, least 0.84 (seed 6's
  output, where the emulator's s16.15 arithmetic parts from the float reference, which NEST
  equals).
"""
import ast
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target
from snnc.backends.spinnaker.emit import emit
from snnc.errors import GraphError
from snnc.frontends import load_model
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
PIPELINE = "lower,normalize,map-delays,quantize{format=spinnaker}"
OPTIONS = SimOptions(dt=1e-3)
PYTHON = sys.executable


def compiled(graph: Graph, options: SimOptions = OPTIONS) -> Graph:
    context = PassContext(options=options, chip=load_chip("spinnaker1"))
    return run_pipeline(graph, parse(PIPELINE), context)[0]


def population(rng, kind: str, size: int):
    draw = lambda low, high: rng.uniform(low, high, size)  # per-neuron values
    params = dict(r=draw(0.5, 2.0), v_threshold=draw(0.2, 0.8), v_reset=draw(-0.2, 0.0))
    if kind == "LIF":
        params.update(tau=draw(5e-3, 2e-2), v_leak=draw(-0.1, 0.1))
    if kind == "CubaLIF":
        params.update(tau_syn=draw(2e-3, 1e-2), tau_mem=draw(5e-3, 2e-2),
                      v_leak=draw(-0.1, 0.1), w_in=draw(1.0, 4.0))
    return getattr(n, kind)(**params)


def random_graph(seed: int, loop_delay: float = 1e-3) -> Graph:
    """Input -> LIF, IF, CubaLIF in random order -> outputs "output" (last) and "hidden"
    (first); random Affine/Linear matrices, some sparse, some with delays; a skip edge; a
    recurrent matrix on the middle population with ``loop_delay`` seconds (one step: NEST's
    iaf_psc_exp needs it there)."""
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(6, 14, 4)]
    nodes, edges = {"input": n.Input(shape=(sizes[0],))}, []

    def matrix(name, source, target, n_out, n_in, gain=2.0, delay=None):
        weight = rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in))
        weight *= rng.random(weight.shape) < rng.choice([0.4, 1.0])
        if delay is None and rng.random() < 0.5:
            delay = rng.integers(0, 4, weight.shape) * 1e-3
        extra = {} if delay is None else {"delay": delay + np.zeros(weight.shape)}
        nodes[name] = (n.Affine(weight=weight, bias=rng.normal(0, 0.1, n_out), **extra)
                       if rng.random() < 0.5 else n.Linear(weight=weight, **extra))
        edges.extend([(source, name), (name, target)])

    previous = "input"
    for i, kind in enumerate(rng.permutation(["LIF", "IF", "CubaLIF"])):
        nodes[f"pop{i}"] = population(rng, str(kind), sizes[i + 1])
        matrix(f"fc{i}", previous, f"pop{i}", sizes[i + 1], sizes[i], rng.uniform(3, 8))
        previous = f"pop{i}"
    matrix("skip", "pop0", "pop2", sizes[3], sizes[1])
    matrix("rec", "pop1", "pop1", sizes[2], sizes[2], gain=1.0, delay=loop_delay)
    nodes["output"], nodes["hidden"] = n.Output(shape=(sizes[3],)), n.Output(shape=(sizes[1],))
    edges += [("pop2", "output"), ("pop0", "hidden")]
    return Graph(nodes=nodes, edges=tuple(edges))


def run_script(folder: Path, inputs: np.ndarray, *args: str, wrapper: tuple = (), env=None
               ) -> subprocess.CompletedProcess:
    """python [wrapper] pynn_network.py --input IN --output OUT [args], in ``folder``."""
    np.savez(folder / "in.npz", spikes=inputs)
    return subprocess.run([PYTHON, "-W", "ignore", *wrapper, folder / "pynn_network.py",
                           "--input", folder / "in.npz", "--output", folder / "out.npz", *args],
                          capture_output=True, text=True, cwd=folder, env=env)


def on_nest(folder: Path, inputs: np.ndarray) -> dict:
    pytest.importorskip("nest")
    done = run_script(folder, inputs, "--simulator", "nest")
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(folder / "out.npz") as data:
        return {key: data[key] for key in data.files}


def agreement(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape and got.dtype == want.dtype
    return float((got == want).mean())


def test_script_imports_numpy_and_pynn_only(tmp_path):
    written = emit(compiled(random_graph(0)), OPTIONS, tmp_path)
    assert [p.name for p in written] == ["pynn_network.py", "pynn_network.npz"]
    tree = ast.parse((tmp_path / "pynn_network.py").read_text())
    imports = {name.split(".")[0] for node in ast.walk(tree) for name in
               ([a.name for a in node.names] if isinstance(node, ast.Import) else
                [node.module] if isinstance(node, ast.ImportFrom) else [])}
    assert imports == {"argparse", "json", "os", "sys", "tempfile", "numpy", "pyNN"}
    assert "Emitted by snnc" in (tmp_path / "pynn_network.py").read_text()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_nest_equals_reference_on_random_graphs(seed, tmp_path):
    graph = compiled(random_graph(seed))
    rng = np.random.default_rng(seed)
    inputs = (rng.random((60, 2, *graph.nodes["input"].shape)) < 0.3).astype(np.float32)
    want = get_target("reference").simulate(graph, {"input": inputs}, OPTIONS).outputs
    emit(graph, OPTIONS, tmp_path)
    got = on_nest(tmp_path, inputs)
    assert sorted(got) == ["dt", "hidden", "output"] and got["dt"] == OPTIONS.dt
    for key, value in want.items():
        assert value.sum() > 0, key
        assert agreement(got[key], value) >= 0.99, key  # measured: 1.0


def test_nest_equals_reference_on_digits(tmp_path):
    graph = compiled(load_model(DIGITS / "digits.nir"))
    with np.load(DIGITS / "test_spikes.npz") as data:
        inputs = data["spikes"][:, :8]
    want = get_target("reference").simulate(graph, {"input": inputs}, OPTIONS).outputs
    emit(graph, OPTIONS, tmp_path)
    got = on_nest(tmp_path, inputs)["output"]
    assert want["output"].sum() > 100
    assert agreement(got, want["output"]) >= 0.99  # measured: 1.0
    np.testing.assert_array_equal(got.sum(0).argmax(-1), want["output"].sum(0).argmax(-1))


def test_one_row_and_wrong_inputs(tmp_path):
    graph = compiled(random_graph(1))
    emit(graph, OPTIONS, tmp_path)
    inputs = (np.random.default_rng(1).random((20, 3, *graph.nodes["input"].shape)) < 0.3)
    want = get_target("reference").simulate(graph, {"input": inputs.astype(np.float32)},
                                            OPTIONS).outputs
    pytest.importorskip("nest")
    done = run_script(tmp_path, inputs, "--simulator", "nest", "--row", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(tmp_path / "out.npz") as got:
        np.testing.assert_array_equal(got["output"], want["output"][:, 2:3])
    done = run_script(tmp_path, np.zeros((5, 2, 3)), "--simulator", "nest")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("pynn_network.py: ")
    assert "has shape (5, 2, 3); expected (steps, [batch,]" in done.stderr


def test_refused_on_nest_when_a_cubalif_loop_has_too_little_delay(tmp_path):
    """A loop with no synaptic delay of its own (one step from the back edge) runs on
    sPyNNaker, but NEST's iaf_psc_exp adds a step; the script says so in one line."""
    for seed in range(20):  # the first graph whose looping population is a CubaLIF
        graph = random_graph(seed, loop_delay=0.0)
        if isinstance(graph.nodes["pop1"], n.CubaLIF):
            break
    emit(compiled(graph), OPTIONS, tmp_path)
    done = run_script(tmp_path, np.zeros((5, *graph.nodes["input"].shape)), "--simulator",
                      "nest")
    assert done.returncode == 1
    assert "cannot run in step on nest: a loop through an IF_curr_exp" in done.stderr


def test_what_pynn_cannot_express_is_refused(tmp_path):
    graph = random_graph(0)
    size = graph.nodes["pop2"].shape
    readout = dataclasses.replace(graph, nodes={**graph.nodes, "pop2": n.LI(
        tau=np.full(size, 0.01), r=np.ones(size), v_leak=np.zeros(size))})
    with pytest.raises(GraphError, match="records spikes only"):
        emit(readout, OPTIONS, tmp_path)
    with pytest.raises(GraphError, match="reset 'subtract' has no PyNN cell"):
        emit(compiled(random_graph(0)), dataclasses.replace(OPTIONS, reset="subtract"), tmp_path)
    with pytest.raises(GraphError, match=r"dt/tau = .* >= 1"):
        emit(random_graph(0), SimOptions(dt=3e-2), tmp_path)


# -- sPyNNaker with a virtual board --------------------------------------------------------------

MAPPING = """
import json, runpy, sys
import pyNN.spiNNaker as sim
from pacman.operations.router_compressors.pair_compressor import pair_compressor
from spynnaker.pyNN.data import SpynnakerDataView
found, real_end = {"cores": {}, "tables": {}}, sim.end

def end():  # read sPyNNaker's mapping before end() clears it
    for placement in SpynnakerDataView.iterate_placemements():
        app = placement.vertex.app_vertex
        if app is None:  # system cores (extra monitors, packet gatherer)
            name = kind = type(placement.vertex).__name__
        else:
            name, kind = app.label or type(app).__name__, type(app).__name__
        found["cores"].setdefault(name, []).append([kind, placement.x, placement.y])
        if hasattr(app, "get_ring_buffer_shifts"):
            found["shifts." + app.label] = app.get_ring_buffer_shifts()
            found["on_core_delay." + app.label] = app.splitter.max_support_delay()
    for table in SpynnakerDataView.get_uncompressed().routing_tables:
        found["tables"][f"{table.x},{table.y}"] = [table.number_of_entries]
    for table in pair_compressor(accept_overflow=True).routing_tables:
        found["tables"][f"{table.x},{table.y}"].append(table.number_of_entries)
    real_end()

sim.end = end
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("MAPPING " + json.dumps(found))
"""


def on_virtual_board(folder: Path, inputs: np.ndarray) -> dict:
    pytest.importorskip("spynnaker")
    home = folder / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nversion = 5\nvirtual_board = True\n")
    (folder / "mapping.py").write_text(MAPPING)
    done = run_script(folder, inputs, "--row", "0", wrapper=(folder / "mapping.py",),
                      env={**os.environ, "HOME": str(home)})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("MAPPING "))
    return json.loads(line[len("MAPPING "):])


def network_cores(mapping: dict) -> dict:
    """The network's cores per PyNN population (system cores left out), by vertex kind."""
    return {name: [kind for kind, *_ in cores] for name, cores in mapping["cores"].items()
            if not cores[0][0].endswith("MachineVertex")}


def test_spynnaker_maps_the_digits_script(tmp_path):
    graph = compiled(load_model(DIGITS / "digits.nir"))
    emit(graph, OPTIONS, tmp_path)
    with np.load(DIGITS / "test_spikes.npz") as data:
        mapping = on_virtual_board(tmp_path, data["spikes"][:, :1])
    cores = network_cores(mapping)
    # the LIFs' biases are i_offset (as target.spinnaker_network): no always-on source
    assert cores == {"input": ["SpikeSourceArrayVertex"], "lif1": ["PopulationVertex"],
                     "lif2": ["PopulationVertex"]}
    for name in ("lif1", "lif2"):  # 128 and 10 neurons: one core each
        assert mapping[f"shifts.{name}"] == [graph.nodes[name].hw["shift_exc"],
                                            graph.nodes[name].hw["shift_inh"]]


def long_delays() -> Graph:
    rng = np.random.default_rng(5)
    weight = rng.normal(0, 0.5, (256, 16)) * (rng.random((256, 16)) < 0.3)
    return Graph(nodes={
        "input": n.Input(shape=(16,)),
        "fc": n.Linear(weight=weight, delay=rng.integers(0, 101, weight.shape) * 1e-3),
        "lif": population(rng, "LIF", 256), "output": n.Output(shape=(256,))},
        edges=(("input", "fc"), ("fc", "lif"), ("lif", "output")))


def test_spynnaker_adds_delay_extensions_for_long_delays(tmp_path):
    """256 neurons on a core leave 2**(14 - 8 - 1) = 32 on-core delay slots; delays up to
    100 steps need DelayExtension cores (loihi_spinnaker.md B1)."""
    emit(compiled(long_delays()), OPTIONS, tmp_path)
    mapping = on_virtual_board(tmp_path, np.random.default_rng(5).random((10, 16)) < 0.3)
    assert mapping["on_core_delay.lif"] == 32
    assert network_cores(mapping) == {"input": ["SpikeSourceArrayVertex"],
                                      "lif": ["PopulationVertex"],
                                      "input_delayed": ["DelayExtensionVertex"]}


def from_script_data(folder: Path, dt: float):
    """The script's sPyNNaker network read back from pynn_network.npz as sPyNNaker writes it
    to the cores (parameters as S1615 words, weights rint(|w| 2**(15 - shift)), delays
    rint(d / dt)), on the engine with snnc's process model: (network, lags, outputs)."""
    from snnc.backends import engine
    from snnc.backends.spinnaker import fixed
    from snnc.backends.spinnaker.neurons import SpinnakerLif
    from snnc.backends.spinnaker.params import Cell

    with np.load(folder / "pynn_network.npz") as data:
        arrays = {key: data[key] for key in data.files}
    net = json.loads(str(arrays.pop("network")))
    path = net["simulators"]["spinnaker"]
    word = lambda key: fixed.s1615(arrays[key]).astype(np.int64)  # noqa: E731
    pops, shifts = [engine.Population(i["name"], i["size"]) for i in path["inputs"]], {}
    for pop in path["populations"]:
        key, exp = pop["key"], pop["model"] == "IF_curr_exp"
        shifts[pop["name"]] = dict(zip(("excitatory", "inhibitory"), pop["ring_buffer_shifts"]))
        cell = Cell(model=pop["model"], ts=int(fixed.s1615(dt * 1e3)), tau_m=word(f"{key}.tau_m"),
                    cm=word(f"{key}.cm"), v_rest=word(f"{key}.v_rest"),
                    v_reset=word(f"{key}.v_reset"), v_thresh=word(f"{key}.v_thresh"),
                    i_offset=word(f"{key}.i_offset"),
                    tau_syn=word(f"{key}.tau_syn_E") if exp else None,
                    shift_exc=pop["ring_buffer_shifts"][0], shift_inh=pop["ring_buffer_shifts"][1])
        np.testing.assert_array_equal(word(f"{key}.v"), cell.v_rest)
        hold = set(arrays[f"{key}.refract_timer"].tolist())
        assert len(hold) == 1
        model = SpinnakerLif(cell, int(hold.pop()))
        pops.append(engine.Population(pop["name"], pop["size"], model))
    sizes = {p.name: p.size for p in pops}
    connections = []
    for p in path["projections"]:
        key, shift = p["key"], shifts[p["target"]][p["receptor"]]
        words = np.rint(np.abs(arrays[f"{key}.weight"]) * 2.0 ** (15 - shift)).astype(np.int64)
        synapses = engine.Synapses(sizes[p["target"]], sizes[p["source"]], arrays[f"{key}.post"],
                                   arrays[f"{key}.pre"], words, arrays[f"{key}.delay"])
        connections.append(engine.Connection(key, p["source"], p["target"], synapses, 0,
                                             port=p["receptor"][:3]))
    return engine.Network(tuple(pops), tuple(connections)), path, net["outputs"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5])
def test_script_spinnaker_network_is_the_emulators(seed, tmp_path):
    """What the script gives sPyNNaker, as the cores receive it, runs to exactly the spikes
    of ``snnc simulate -t spinnaker1`` (random graphs: i_offset biases, always-on sources
    into IF_curr_exp cells, delays, a loop; and digits as seed 5)."""
    from snnc.backends import engine

    if seed == 5:
        graph = compiled(load_model(DIGITS / "digits.nir"))
        with np.load(DIGITS / "test_spikes.npz") as data:
            inputs = data["spikes"][:, :4].astype(np.float32)
    else:
        graph = compiled(random_graph(seed))
        rng = np.random.default_rng(seed)
        inputs = (rng.random((40, 2, *graph.nodes["input"].shape)) < 0.3).astype(np.float32)
    want = get_target("spinnaker1").simulate(graph, {"input": inputs}, OPTIONS).outputs
    emit(graph, OPTIONS, tmp_path)
    net, path, outputs = from_script_data(tmp_path, OPTIONS.dt)
    steps, batch = inputs.shape[:2]
    lags = path["lags"]
    extra = max(lags[out["population"]] for out in outputs)
    feeds = {"input": np.concatenate([inputs.reshape(steps, batch, -1) != 0,
                                      np.zeros((extra, batch, inputs[0, 0].size), bool)])}
    if any(item.get("always_on") for item in path["inputs"]):
        feeds["always_on"] = np.ones((steps + extra, batch, 1), bool)
    run = engine.run(net, feeds, steps + extra, batch=batch)
    for out in outputs:
        lag = lags[out["population"]]
        got = run.spikes[out["population"]][lag:lag + steps].reshape(want[out["name"]].shape)
        np.testing.assert_array_equal(got, want[out["name"]] != 0)
