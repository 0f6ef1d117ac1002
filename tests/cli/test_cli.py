"""The command line: real runs, one-line errors with exit code 2, nothing half-written."""
import subprocess
import sys

import numpy as np
import pytest

from snnc.cli import main
from tests.conftest import copy_hdf5

PYTHON = sys.executable


def run(*args, cwd=None):
    """snnc in a fresh process, as a user runs it."""
    return subprocess.run([PYTHON, "-m", "snnc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture
def lif_input(tmp_path, data_dir):
    trace = np.loadtxt(data_dir / "lif_norse.csv", delimiter=",")
    path = tmp_path / "in.npz"
    np.savez(path, spikes=trace[:, :1].astype(np.float32))  # unbatched (steps, 1)
    return path


def test_help_imports_no_heavy_dependency():
    code = ("import sys; from snnc.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "heavy = {'torch', 'lava', 'onnx', 'norse', 'h5py', 'nir'} & set(sys.modules)\n"
            "assert not heavy, heavy")
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_inspect_is_deterministic(data_dir, capsys):
    assert main(["inspect", str(data_dir / "braille_noDelay_bias_zero.nir")]) == 0
    first = capsys.readouterr().out
    main(["inspect", str(data_dir / "braille_noDelay_bias_zero.nir")])
    assert capsys.readouterr().out == first
    assert "45 neurons" in first and "lif1.w_rec -> lif1.lif  (recurrent: previous step)" in first


def test_simulate_writes_outputs_and_states(data_dir, lif_input, tmp_path, capsys):
    out = tmp_path / "out.npz"
    assert main(["simulate", str(data_dir / "lif_norse.nir"), "-t", "reference", "-i",
                 str(lif_input), "--steps", "1000", "-o", str(out), "--record", "1"]) == 0
    printed = capsys.readouterr().out
    assert "1000 steps x batch 1" in printed and "wrote" in printed
    with np.load(out) as result:
        assert np.flatnonzero(result["output"][:, 0, 0]).tolist() == [460, 510, 710, 760]
        assert result["1.v"].shape == (1000, 1, 1) and float(result["dt"]) == 1e-4


def test_targets_lists_reference(capsys):
    assert main(["targets"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("targets:\n  reference")
    assert "loihi1" in printed and "neurons/core 1024" in printed


def bad_inputs(tmp_path, data_dir):
    model = data_dir / "lif_norse.nir"
    text = tmp_path / "text.nir"
    text.write_text("not hdf5")
    unknown = copy_hdf5(model, tmp_path / "unknown.nir", lambda f: (
        f.__delitem__("node/nodes/1/type"), f.__setitem__("node/nodes/1/type", b"Izhikevich")))
    nan = copy_hdf5(model, tmp_path / "nan.nir",
                       lambda f: f["node/nodes/1/v_threshold"].__setitem__(0, np.inf))
    shapes = copy_hdf5(model, tmp_path / "shapes.nir", lambda f: (
        f.__delitem__("node/nodes/0/weight"), f.__setitem__("node/nodes/0/weight", np.ones((2, 1)))))
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, spikes=np.zeros((10, 3)))
    return {
        "missing model": (["inspect", tmp_path / "nope.nir"], "nope.nir: no such file"),
        "not hdf5": (["inspect", text], "text.nir: not a NIR file"),
        "unknown node": (["inspect", unknown], "unknown.nir: node '1': unknown node type"),
        "non-finite": (["inspect", nan], "nan.nir: node '1' (LIF): parameter 'v_threshold'"),
        "shapes": (["inspect", shapes], "shapes.nir: node '0' (Affine): bias shape"),
        "input shape": (["simulate", model, "-i", wrong], "wrong.npz: input 'input' has shape"),
        "missing input": (["simulate", model, "-i", tmp_path / "none.npz"], "none.npz: no such"),
        "bad dt": (["simulate", model, "-i", wrong, "--dt", "-1"], "dt must be a positive"),
        "bad target": (["simulate", model, "-t", "truenorth", "-i", wrong], "unknown target"),
    }


@pytest.mark.parametrize("case", ["missing model", "not hdf5", "unknown node", "non-finite",
                                  "shapes", "input shape", "missing input", "bad dt",
                                  "bad target"])
def test_bad_input_gets_one_line_and_exit_2(case, tmp_path, data_dir):
    args, message = bad_inputs(tmp_path, data_dir)[case]
    result = run(*args, "-o", tmp_path / "out.npz") if args[0] == "simulate" else run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.npz").exists()


def test_debug_shows_the_traceback(tmp_path):
    result = run("--debug", "inspect", tmp_path / "nope.nir")
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_steps_beyond_input_is_refused(data_dir, lif_input, tmp_path):
    result = run("simulate", data_dir / "lif_norse.nir", "-i", lif_input, "--steps", "5000",
                 "-o", tmp_path / "o.npz")
    assert result.returncode == 2 and "--steps 5000 is outside 1..1000" in result.stderr
    assert not (tmp_path / "o.npz").exists()


def test_simulate_accepts_nir_data_files(data_dir, tmp_path, capsys):
    import nir

    trace = np.loadtxt(data_dir / "lif_norse.csv", delimiter=",")
    gridded = nir.TimeGriddedData(trace[None, :, :1] > 0, dt=1e-4)  # (samples, steps, neurons)
    events = gridded.to_event(n_events=64)
    for observable in (gridded, events):
        path = tmp_path / "in.h5"
        nir.write_data(path, nir.NIRGraphData(nodes={
            "input": nir.NIRNodeData(observables={"spikes": observable})}))
        out = tmp_path / "out.npz"
        assert main(["simulate", str(data_dir / "lif_norse.nir"), "-i", str(path), "-o",
                     str(out)]) == 0
        with np.load(out) as result:
            assert np.flatnonzero(result["output"][:, 0, 0]).tolist() == [460, 510, 710, 760]
    assert main(["simulate", str(data_dir / "lif_norse.nir"), "-i", str(path), "--dt", "1e-3"]) == 0
    gridded_path = tmp_path / "grid.h5"
    nir.write_data(gridded_path, nir.NIRGraphData(nodes={
        "input": nir.NIRNodeData(observables={"spikes": gridded})}))
    assert main(["simulate", str(data_dir / "lif_norse.nir"), "-i", str(gridded_path),
                 "--dt", "1e-3"]) == 2
    assert "gridded at dt 0.0001 s" in capsys.readouterr().err


def test_record_of_unknown_node_is_refused(data_dir, lif_input):
    result = run("simulate", data_dir / "lif_norse.nir", "-i", lif_input, "--record", "lif9")
    assert result.returncode == 2 and "cannot record lif9: no such node" in result.stderr


@pytest.mark.parametrize("source, message", [
    ("def other():\n    pass\n", "no function 'factory'"),
    ("def factory():\n    raise RuntimeError('boom')\n", "the factory failed: RuntimeError: boom"),
    ("import torch\ndef factory():\n    return torch.nn.Linear(2, 2), torch.zeros(1, 2)\n",
     "the module has no Norse or snnTorch layer"),
    ("import torch, norse.torch as nt\ndef factory():\n"
     "    return nt.SequentialState(torch.nn.Linear(2, 2), nt.LIFBoxCell()), torch.zeros(1, 3)\n",
     "does not run on its sample input"),
    ("import syntax error\n", "cannot import: SyntaxError"),
])
def test_bad_factories_get_one_line(tmp_path, source, message):
    (tmp_path / "m.py").write_text(source)
    result = run("inspect", f"{tmp_path / 'm.py'}:factory")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_frontend_errors_are_one_line(tmp_path):
    """Issue 3's error cases through the CLI: an invalid ONNX file, an unsupported ONNX op and
    an unsupported snnTorch layer each give one line and exit code 2."""
    import onnx
    from onnx import TensorProto, helper

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07garbage")
    node = helper.make_node("Sigmoid", ["x"], ["y"], name="squash")
    model = helper.make_model(helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]))
    model.ir_version = 8
    onnx.save(model, tmp_path / "sigmoid.onnx")
    (tmp_path / "snn.py").write_text(
        "import torch, snntorch\n"
        "def factory():\n"
        "    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(),\n"
        "                              snntorch.Leaky(beta=0.9, init_hidden=True))\n"
        "    return net, torch.zeros(1, 3)\n")
    cases = [(broken, "broken.onnx"), (tmp_path / "sigmoid.onnx", "Sigmoid"),
             (f"{tmp_path / 'snn.py'}:factory", "layer '1' (GELU) is not supported")]
    for model_arg, message in cases:
        result = run("inspect", model_arg)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
