"""The zero-shot LSM example (examples/rram_lsm) in small: 150 images per split, 3 device
instances per preset (about 5 s), and the shipped model files against what ``lsm.py`` draws.

Measured on this small run (seeds fixed): software 0.920, ideal devices 0.920 on every
preset, instances 0.867-0.924 mean; energy per inference 28-67 nJ on the presets against
~0.2 mJ on loihi2 (its measured per-step chip overhead and static power included; its
per-event part alone is ~4.6 uJ). The bounds below leave room for BLAS and platform
differences (a spike near threshold flips, an image changes class: 1/150 = 0.007 each)
while still failing a reservoir that stopped separating digits (chance: 0.1), ideal devices
that stopped being the compiled reference, or a preset that is not cheaper per inference.
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.cli import main as snnc
from snnc.frontends import load_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rram_lsm"
PRESETS = ("rram", "rram_40nm", "rram_neurosim", "rram_crosssim")


def module(name: str):
    sys.path.insert(0, str(EXAMPLE))
    try:
        spec = importlib.util.spec_from_file_location(f"rram_lsm_{name}", EXAMPLE / f"{name}.py")
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return loaded
    finally:
        sys.path.remove(str(EXAMPLE))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("rram_lsm")
    results = module("run").main(["--instances", "3", "--limit", "150", "--report-images",
                                  "10", "--out", str(out)])
    return results, out


def test_small_lsm_classifies_digits_on_every_preset(small):
    results, _ = small
    assert results["software"] >= 0.85 and results["loihi2_accuracy"] >= 0.85
    for name in PRESETS:
        preset = results["presets"][name]
        assert abs(preset["ideal"] - results["software"]) <= 0.04, name  # 4-bit levels only
        assert len(preset["instances"]) == 3
        assert 0.75 <= np.mean(preset["instances"]) <= preset["ideal"] + 0.03, name


def test_small_lsm_energy_per_inference_against_loihi2(small):
    energy = small[0]["energy"]
    loihi = energy["loihi2"]
    assert 0 < loihi["events"] <= loihi["total"]
    for name in PRESETS:
        assert 0 < energy[name]["total"] == energy[name]["events"], name  # no static figure
        assert energy[name]["total"] < loihi["events"], name
        assert energy[name]["used"] <= 16  # crossbar arrays: fits the 16-array presets


def test_written_model_is_the_drawn_reservoir_and_the_cli_prices_it(small, tmp_path):
    _, out = small
    lsm = module("lsm")
    w_in, w_rec = lsm.reservoir_weights()
    graph = load_model(out / "lsm.nir")
    assert np.array_equal(graph.nodes["w_in"].weight, w_in)
    assert np.array_equal(graph.nodes["w_rec"].weight, w_rec)
    with np.load(out / "readout.npz") as readout:
        assert readout["weight"].shape == (10, lsm.RESERVOIR) and len(readout["test_labels"]) == 150
    report = tmp_path / "report.json"
    assert snnc(["report", str(out / "lsm.nir"), "-t", "rram_40nm", "-i",
                 str(out / "test_spikes.npz"), "--dt", "1e-3", "--format", "json",
                 "-o", str(report)]) == 0
    entry = json.loads(report.read_text())["targets"]["rram_40nm"]
    assert entry["mapping"]["tiles"]["need"] == 12 and entry["cost"]["total"] > 0


def test_shipped_files_are_what_the_example_builds():
    lsm = module("lsm")
    w_in, w_rec = lsm.reservoir_weights()
    graph = load_model(EXAMPLE / "lsm.nir")
    assert np.array_equal(graph.nodes["w_in"].weight, w_in)
    assert np.array_equal(graph.nodes["w_rec"].weight, w_rec)
    x_train, x_test, _, y_test = lsm.load_split()
    rng = np.random.default_rng(lsm.ENCODE_SEED)
    lsm.encode(x_train, rng)  # the training split is encoded first, from the same stream
    with np.load(EXAMPLE / "test_spikes.npz") as data:
        assert np.array_equal(data["spikes"], lsm.encode(x_test, rng))
    with np.load(EXAMPLE / "readout.npz") as readout:
        assert np.array_equal(readout["test_labels"], y_test)
