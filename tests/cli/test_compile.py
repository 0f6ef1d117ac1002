"""`snnc compile`: pass pipelines from the command line, the program directory, and reading
a program back in `simulate` and `inspect`."""
import json
from pathlib import Path

import numpy as np
import pytest

from snnc.cli import main
from snnc.program import read_program
from tests.cli.test_cli import run

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


@pytest.fixture
def calibration(tmp_path):
    with np.load(DIGITS / "test_spikes.npz") as data:
        path = tmp_path / "calibration.npz"
        np.savez(path, spikes=data["spikes"], labels=data["labels"])
    return path


def test_compile_writes_a_program_that_simulate_reads(tmp_path, calibration, capsys):
    out = tmp_path / "prog"
    assert main(["compile", str(DIGITS / "digits.nir"), "-t", "reference", "--dt", "1e-3",
                 "-p", "normalize,prune{sparsity=0.5}", "--calibration", str(calibration),
                 "-o", str(out), "--time-passes", "--print-between-passes"]) == 0
    printed = capsys.readouterr().out
    assert "pass prune\n  synapses_before: 9472\n  synapses_after: 4736" in printed
    assert "accuracy_before: 0.9" in printed and "after prune: 6 nodes" in printed
    assert "s  total" in printed
    manifest = json.loads((out / "program.json").read_text())
    assert manifest["format"] == "snnc-program" and manifest["version"] == 1
    assert [p["pass"] for p in manifest["passes"]] == ["normalize", "prune"]
    assert manifest["options"]["dt"] == 1e-3
    program = read_program(out)
    assert program.options.dt == 1e-3 and program.pipeline == "normalize,prune{sparsity=0.5}"
    assert np.mean(program.graph.nodes["fc1"].weight == 0) > 0.3
    # simulate the program: its dt comes along, no --dt needed
    assert main(["simulate", str(out), "-i", str(DIGITS / "test_spikes.npz"), "-o",
                 str(tmp_path / "o.npz")]) == 0
    with np.load(tmp_path / "o.npz") as result:
        assert float(result["dt"]) == 1e-3 and result["output"].sum() > 0


def test_default_pipeline_and_recompiling_in_place(tmp_path):
    out = tmp_path / "prog"
    for _ in range(2):  # a second compile replaces the program
        assert main(["compile", str(DIGITS / "digits.nir"), "-t", "reference", "-o", str(out)]) == 0
    assert read_program(out).pipeline == "normalize"


@pytest.mark.parametrize("args, message", [
    (["-p", "prune{amount=1}"], "pass 'prune': unknown option 'amount' (valid: sparsity, scope)"),
    (["-p", "fold"], "unknown pass 'fold' (available: check, lower, map-delays, normalize"),
    (["-p", "prune-inactive"], "prune-inactive needs calibration input"),
    (["-t", "loihi9"], "unknown target 'loihi9'"),
])
def test_bad_compiles_get_one_line(tmp_path, args, message):
    full = ["compile", DIGITS / "digits.nir", "-o", tmp_path / "prog"]
    full += args if "-t" in args else ["-t", "reference", *args]
    result = run(*full)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "prog").exists()


def test_output_that_is_not_a_program_is_not_overwritten(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "data.txt").write_text("mine")
    result = run("compile", DIGITS / "digits.nir", "-t", "reference", "-o", tmp_path / "keep")
    assert result.returncode == 2 and "is not an snnc program" in result.stderr
    assert (tmp_path / "keep" / "data.txt").read_text() == "mine"


def one_neuron_model(tmp_path, fan_in):
    """A NIR file: fan_in inputs into one LIF neuron, all weights 1."""
    import nir

    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([fan_in])),
        nir.Linear(weight=np.ones((1, fan_in))),
        nir.LIF(tau=np.array([0.01]), r=np.array([1.0]), v_leak=np.array([0.0]),
                v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
        nir.Output(output_type=np.array([1])))
    path = tmp_path / "wide.nir"
    nir.write(path, graph)
    return path


@pytest.mark.parametrize("target, fan_in, message", [
    ("loihi2", 140_000, "one neuron's incoming synapses need 1120000 bits of synapse memory, "
                        "more than loihi2's 1048576 bits per core"),
    ("loihi1", 5_000, "one neuron receives from 5000 presynaptic neurons, more than loihi1's "
                      "4096 input axons per core"),
])
def test_too_large_for_the_chip_fails_naming_the_limit_and_writes_a_fit_report(
        tmp_path, target, fan_in, message):
    out = tmp_path / "prog"
    result = run("compile", one_neuron_model(tmp_path, fan_in), "-t", target, "-o", out)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
    report = json.loads(Path(f"{out}.fit_report.json").read_text())
    assert not report["fits"] and message in report["error"]
    assert report["populations"][0]["max_fan_in"] == fan_in


def test_chips_caps_the_board(tmp_path, capsys):
    out = tmp_path / "prog"
    assert main(["compile", str(DIGITS / "digits.nir"), "-t", "loihi1", "--dt", "1e-3",
                 "--chips", "1", "-o", str(out)]) == 0
    assert "mapped: 2 cores on 1 chip(s) of loihi1" in capsys.readouterr().out
    part = json.loads((out / "partition.json").read_text())
    assert [c["population"] for c in part["cores"]] == ["lif1", "lif2"]
    fit = json.loads((out / "fit_report.json").read_text())
    assert fit["fits"] and fit["chips"] == {"need": 1, "given": 1, "max": 16384}
