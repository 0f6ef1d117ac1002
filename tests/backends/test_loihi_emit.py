"""The emitted Lava script (``snnc.backends.loihi.emit``) run in real Lava 0.10 gives what
snnc's engine gives, for every step.

- 23 random ``LoihiNetwork`` cases (tests/loihi_networks.py: dense, sparse, recurrent, delays,
  sign modes, weight exponents, overflows, initial states) and the NIR paper's LIF (1000
  steps): spikes of every population and its u and v after every step are identical to
  ``engine.run(to_engine(net))``; so is a network of disconnected pieces.
- Random Loihi-quantized IR graphs (LIF, CubaLIF, IF, LI and CubaLI readouts, sparse and
  delayed matrices, skip and recurrent edges, a second input and output): outputs and
  recorded v equal ``target.simulate`` (aligned, dequantized).
- ``snnc compile -t loihi2`` writes the script into the program; ``python lava_network.py``
  in a subprocess writes the same .npz as ``snnc simulate -o``.
"""
import ast
import importlib.util
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.engine import run
from snnc.backends.loihi import Lif, LoihiNetwork, Synapse, target, to_engine
from snnc.backends.loihi.targets import LOIHI2
from snnc.backends.loihi.emit import OutputSpec, emit, emit_network
from snnc.errors import GraphError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from tests.conftest import spikes
from tests.loihi_networks import CASES, build, lif, weights

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
PYTHON = sys.executable
OPTIONS = SimOptions(dt=1e-3)


@pytest.fixture(scope="module")
def lava():
    pytest.importorskip("lava")
    from snnc.backends.loihi.lava import import_lava

    import_lava()  # before the script imports Lava's runtime in this process


def script(folder: Path):
    """The emitted lava_network.py as a module (its ``main(argv)``)."""
    spec = importlib.util.spec_from_file_location(f"lava_network_{id(folder)}",
                                                  folder / "lava_network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(folder: Path, inputs: dict, *extra: str) -> dict:
    """Write ``inputs`` (one array per input name), run the script in this process, read
    what it wrote."""
    np.savez(folder / "in.npz", **inputs)
    script(folder).main(["--input", str(folder / "in.npz"), "--output",
                         str(folder / "out.npz"), *extra])
    with np.load(folder / "out.npz") as data:
        return {key: data[key] for key in data.files}


def assert_equal_to_engine(net, inputs, folder):
    emit_network(net, folder)
    probe = [f"{pop}.{var}" for pop in net.neurons for var in ("u", "v")]
    got = run_script(folder, inputs, "--probe", *probe)
    want = run(to_engine(net), inputs, probe=probe)
    assert sum(want.spikes[pop].sum() for pop in net.neurons) > 0, "case should spike"
    for pop in net.neurons:
        assert got[pop].dtype == bool
        np.testing.assert_array_equal(got[pop], want.spikes[pop], err_msg=pop)
    for item in probe:
        assert got[item].dtype == np.int64
        np.testing.assert_array_equal(got[item], want.states[item], err_msg=item)


@pytest.mark.parametrize("name", sorted(CASES) + ["nir_paper"])
def test_script_equals_engine_on_random_networks(name, lava, tmp_path):
    net, inputs = build(name)
    assert_equal_to_engine(net, inputs, tmp_path)


def test_disconnected_pieces_run_in_one_lava_run(lava, tmp_path):
    """Lava compiles only what is connected to the process run is called on: a second chain,
    a population fed by its bias alone and an unused input must still run."""
    rng = np.random.default_rng(30)
    net = LoihiNetwork({"x": 6, "y": 5, "unused": 3},
                       {"a": lif(rng, 4, vth=(5, 40)), "b": lif(rng, 3, vth=(5, 40)),
                        "alone": Lif(2, du=100, dv=200, vth=3, bias_mant=[40, 90], bias_exp=2)},
                       (("x", "a", Synapse(weights(rng, 4, 6))),
                        ("y", "b", Synapse(weights(rng, 3, 5), delays=1))))
    x = {key: spikes(rng, (30, size), 0.4) for key, size in net.inputs.items()}
    assert_equal_to_engine(net, x, tmp_path)


def loihi_graph(seed: int) -> Graph:
    """Input -> 3 populations (LIF, CubaLIF, IF; parameters shared per population, as Lava
    needs) -> an LI or CubaLI readout ("output"); a second Output on the first population;
    random Affine/Linear matrices, some sparse, some with delays; a skip edge; a recurrent
    edge; for odd seeds a second Input "aux" into the third population."""
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(5, 12, 5)]
    nodes, edges = {"input": n.Input(shape=(sizes[0],))}, []

    def matrix(name, source, target, n_out, n_in, gain=2.0):
        weight = rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in))
        weight *= rng.random(weight.shape) < rng.choice([0.3, 1.0])  # some go Sparse
        extra = {"delay": rng.integers(0, 4, weight.shape) * 1e-3} if rng.random() < 0.4 else {}
        nodes[name] = (n.Affine(weight=weight, bias=rng.normal(0, 0.2, n_out), **extra)
                       if rng.random() < 0.5 else n.Linear(weight=weight, **extra))
        edges.extend([(source, name), (name, target)])

    previous = "input"
    for i, kind in enumerate(rng.permutation(["LIF", "CubaLIF", "IF"])):
        nodes[f"pop{i}"] = population(rng, kind, sizes[i + 1])
        matrix(f"fc{i}", previous, f"pop{i}", sizes[i + 1], sizes[i], gain=rng.uniform(3, 8))
        previous = f"pop{i}"
    nodes["readout"] = population(rng, str(rng.choice(["LI", "CubaLI"])), sizes[4])
    matrix("fc3", "pop2", "readout", sizes[4], sizes[3])
    matrix("skip", "pop0", "pop2", sizes[3], sizes[1])
    matrix("rec", "pop1", "pop0", sizes[1], sizes[2], gain=1.0)
    # the loop pop0 -> pop1 -> pop0 spans two matrices, two steps of Lava latency: one more
    # step of delay than the back edge's own lets Loihi run it in step with the reference
    rec = nodes["rec"]
    nodes["rec"] = dataclasses.replace(rec, delay=(0 if rec.delay is None else rec.delay) + 1e-3
                                       + np.zeros(rec.weight.shape))
    if seed % 2:
        nodes["aux"] = n.Input(shape=(4,))
        matrix("fc_aux", "aux", "pop2", sizes[3], 4, gain=4.0)
    nodes["output"], nodes["hidden"] = n.Output(shape=(sizes[4],)), n.Output(shape=(sizes[1],))
    edges += [("readout", "output"), ("pop0", "hidden")]
    return Graph(nodes=nodes, edges=tuple(edges))


def population(rng, kind: str, size: int):
    ones = np.ones(size)
    draw = lambda low, high: rng.uniform(low, high) * ones  # one value per population
    params = dict(r=draw(0.5, 2.0))
    if kind in ("LIF", "LI"):
        params.update(tau=draw(5e-3, 2e-2), v_leak=draw(-0.1, 0.1))
    if kind in ("CubaLIF", "CubaLI"):
        params.update(tau_syn=draw(2e-3, 1e-2), tau_mem=draw(5e-3, 2e-2),
                      v_leak=draw(-0.1, 0.1), w_in=draw(1.0, 4.0))
    if kind in ("LIF", "CubaLIF", "IF"):
        params.update(v_threshold=draw(0.2, 0.8), v_reset=draw(-0.2, 0.0))
    return getattr(n, kind)(**params)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_script_equals_target_simulate_on_random_graphs(seed, lava, tmp_path):
    quantized = LOIHI2.compile(loihi_graph(seed), OPTIONS)[0]
    rng = np.random.default_rng(seed)
    batch = 2 if seed == 1 else 1
    inputs = {name: spikes(rng, (25, batch, *quantized.nodes[name].shape), 0.4)
              for name in quantized.inputs}
    record = ["pop0", "pop1", "pop2", "readout"]
    want = target.simulate(quantized, inputs, OPTIONS, record=record)
    assert want.spike_counts["pop2"] > 0 and np.ptp(want.outputs["output"]) > 0
    written = emit(quantized, OPTIONS, tmp_path)
    assert [p.name for p in written] == ["lava_network.py", "lava_network.npz"]
    if len(inputs) == 1:
        inputs = {"spikes": inputs["input"]}
    got = run_script(tmp_path, inputs, "--probe", *[f"{pop}.v" for pop in record])
    assert set(got) == {"output", "hidden", "dt", *[f"{pop}.v" for pop in record]}
    for key, value in {**want.outputs, **want.states}.items():
        assert got[key].dtype == value.dtype
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert got["dt"] == OPTIONS.dt


def test_compile_writes_the_script_that_equals_simulate(lava, tmp_path):
    """snnc compile -t loihi2 on the digits example; the emitted script in a fresh process
    (as a user without snnc runs it) and snnc simulate -o write the same arrays."""
    from snnc.cli import main

    with np.load(DIGITS / "test_spikes.npz") as data:
        np.savez(tmp_path / "in.npz", spikes=data["spikes"][:30, :2])
    program = tmp_path / "program"
    assert main(["compile", str(DIGITS / "digits.nir"), "-t", "loihi2", "--dt", "1e-3",
                 "-o", str(program)]) == 0
    simulated = subprocess.run(
        [PYTHON, "-m", "snnc.cli", "simulate", program, "-t", "loihi2", "-i", tmp_path / "in.npz",
         "--steps", "25", "-o", tmp_path / "sim.npz", "--record", "lif1"],
        capture_output=True, text=True)
    assert simulated.returncode == 0, simulated.stderr
    lava_run = subprocess.run(
        [PYTHON, program / "lava_network.py", "--input", tmp_path / "in.npz", "--steps", "25",
         "--output", tmp_path / "lava.npz", "--probe", "lif1.v"],
        capture_output=True, text=True, cwd=tmp_path)
    assert lava_run.returncode == 0, lava_run.stderr
    tree = ast.parse((program / "lava_network.py").read_text())
    imports = {name.split(".")[0] for node in ast.walk(tree) for name in
               ([a.name for a in node.names] if isinstance(node, ast.Import) else
                [node.module] if isinstance(node, ast.ImportFrom) else [])}
    assert imports == {"argparse", "json", "os", "sys", "tempfile", "numpy", "scipy", "lava"}
    with np.load(tmp_path / "sim.npz") as want, np.load(tmp_path / "lava.npz") as got:
        assert sorted(got.files) == sorted(want.files) == ["dt", "lif1.v", "output"]
        assert want["output"].shape == (25, 2, 10) and want["output"].sum() > 0
        for key in want.files:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert not list(tmp_path.glob(".lava_out.*"))  # the atomic write left no temporary


def test_loihi1_script_runs_loihi1simcfg_and_equals_the_loihi1_target(lava, tmp_path):
    from snnc.backends.loihi.targets import LOIHI1

    quantized = LOIHI1.compile(loihi_graph(2), OPTIONS)[0]
    inputs = {"input": spikes(np.random.default_rng(2), (25, 1, *quantized.nodes["input"].shape),
                              0.4)}
    want = LOIHI1.simulate(quantized, inputs, OPTIONS)
    LOIHI1.emit(quantized, OPTIONS, tmp_path)
    with np.load(tmp_path / "lava_network.npz") as data:
        assert json.loads(str(data["network"]))["run_config"] == ["Loihi1SimCfg", "fixed_pt"]
    got = run_script(tmp_path, inputs)
    for key, value in want.outputs.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def test_wrong_inputs_and_probes_fail_in_one_line(tmp_path):
    net, _ = build("fan_in_two_inputs")
    emit_network(net, tmp_path)
    main, out = script(tmp_path).main, tmp_path / "o.npz"
    cases = [({"x": np.zeros((5, 4)), "y": np.zeros((5, 9))},
              "input 'x' has shape (5, 4); expected (steps, [batch,] 5)"),
             ({"x": np.zeros((5, 5))}, "needs array 'y' (found: x)"),
             ({"x": np.zeros((5, 5)), "y": np.zeros((6, 9))},
              "inputs disagree on (steps, batch): [(5, 1), (6, 1)]")]
    for inputs, message in cases:
        np.savez(tmp_path / "in.npz", **inputs)
        expected = f"^lava_network.py: .*in.npz: {re.escape(message)}$"
        with pytest.raises(SystemExit, match=expected):
            main(["--input", str(tmp_path / "in.npz"), "--output", str(out)])
    np.savez(tmp_path / "in.npz", x=np.zeros((5, 5)), y=np.zeros((5, 9)))
    with pytest.raises(SystemExit, match=r"--steps 9 is outside 1..5"):
        main(["--input", str(tmp_path / "in.npz"), "--steps", "9", "--output", str(out)])
    with pytest.raises(SystemExit, match=r"--probe a.i: expected POP.v or POP.u"):
        main(["--input", str(tmp_path / "in.npz"), "--output", str(out), "--probe", "a.i"])
    assert not out.exists()


def test_emit_network_checks_its_outputs(tmp_path):
    net, _ = build("recurrent")
    with pytest.raises(GraphError, match="output 'o' reads 'zz', which is no population"):
        emit_network(net, tmp_path, {"o": OutputSpec("zz", (6,))})
    with pytest.raises(GraphError, match=r"output 'o' has shape \(4,\) but 'a' has 6"):
        emit_network(net, tmp_path, {"o": OutputSpec("a", (4,))})
