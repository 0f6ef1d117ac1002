"""A target written outside snnc (``toy_target.py``, with its own chip TOML) registers, and
then every command takes it: targets, compile (with mapping), simulate, report."""
import json
from pathlib import Path

import numpy as np

from snnc.cli import main
from tests.targets import toy_target

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
MODEL, INPUT = str(DIGITS / "digits.nir"), str(DIGITS / "test_spikes.npz")


def test_the_toy_target_takes_every_command(tmp_path, capsys):
    with toy_target.installed():
        commands(tmp_path, capsys)


def commands(tmp_path, capsys):
    assert main(["targets"]) == 0
    listed = capsys.readouterr().out
    assert "toy          a float LIF chip" in listed
    assert "nodes: Affine, Input, LIF, Linear, Output" in listed

    out = tmp_path / "prog"
    assert main(["compile", MODEL, "-t", "toy", "--dt", "1e-3", "-o", str(out)]) == 0
    assert "mapped: 3 cores on 1 chip(s) of toy" in capsys.readouterr().out  # 128 + 10 neurons
    partition = json.loads((out / "partition.json").read_text())
    assert [c["population"] for c in partition["cores"]] == ["lif1", "lif1", "lif2"]

    result = tmp_path / "out.npz"
    assert main(["simulate", str(out), "-t", "toy", "-i", INPUT, "-o", str(result)]) == 0
    assert main(["simulate", str(out), "-i", INPUT, "-o", str(tmp_path / "ref.npz")]) == 0
    with np.load(result) as got, np.load(tmp_path / "ref.npz") as want:
        assert np.mean(got["output"] == want["output"]) >= toy_target.TOY.agreement

    report = tmp_path / "report.json"
    assert main(["report", MODEL, "-t", "toy,loihi2", "-i", INPUT, "--dt", "1e-3",
                 "--format", "json", "-o", str(report)]) == 0
    entry = json.loads(report.read_text())["targets"]["toy"]
    assert entry["chip"] == "toy" and entry["mapping"]["cores"]["need"] == 3
    assert entry["cost"]["model"] == "invented" and entry["cost"]["events"] > 0
    assert entry["fidelity"]["output"]["equal"] >= toy_target.TOY.agreement
