"""`snnc report`: per target, the mapping, the energy/latency terms and the fidelity of a run,
consistent with what `simulate` and the mapping stages give on their own."""
import json
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import target_names
from snnc.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "digits"


@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "digits.json"
    args = ["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
            "--dt", "1e-3", "--format", "json", "-o", str(out)]
    assert main(args) == 0
    return json.loads(out.read_text())


def test_report_covers_every_chip_target(digits_report):
    assert set(digits_report["targets"]) == set(target_names()) - {"reference"}
    assert digits_report["steps"] == 40 and digits_report["batch"] == 64
    # the input file's labels give accuracies: the 64 calibration images, reference 98.44 %
    assert digits_report["reference_accuracy"] == pytest.approx(63 / 64)
    for entry in digits_report["targets"].values():
        assert abs(entry["accuracy"] - digits_report["reference_accuracy"]) <= 2 / 64


def test_pipeline_option_compiles_every_target_with_it(tmp_path):
    out = tmp_path / "pruned.json"
    assert main(["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
                 "--dt", "1e-3", "-t", "loihi2", "--format", "json", "-o", str(out),
                 "-p", "normalize,prune{sparsity=0.5},quantize{chip=loihi2}"]) == 0
    fit = json.loads(out.read_text())["targets"]["loihi2"]["mapping"]
    assert sum(p["synapses"] for p in fit["populations"]) == 4736  # half of 9472


@pytest.mark.parametrize("target", ["loihi1", "loihi2"])
def test_cost_terms_add_up_and_name_their_evidence(digits_report, target):
    entry = digits_report["targets"][target]
    cost = entry["cost"]
    terms = {t["name"]: t for t in cost["terms"]}
    assert {"static", "overhead", "synaptic_ops", "neuron_updates"} <= set(terms)
    total = sum(t["energy"] for t in cost["terms"])
    assert total == pytest.approx(cost["total"], rel=1e-9)
    assert terms["static"]["evidence"] == "measured"
    assert terms["overhead"]["evidence"] == "calibrated"
    assert {t["evidence"] for t in cost["terms"]} <= {"measured", "calibrated", "simulated",
                                                       "estimated"}
    # one inference = 40 input steps + 2 steps of Dense latency; two populations, two cores
    assert cost["steps_per_inference"] == 42 and cost["inferences"] == pytest.approx(64)
    assert [c["population"] for c in cost["per_core"]] == ["lif1", "lif2"]
    assert entry["mapping"]["fits"] and entry["mapping"]["cores"]["need"] == 2


def test_counts_match_simulate_and_fidelity_is_measured(digits_report, tmp_path, capsys):
    entry = digits_report["targets"]["loihi2"]
    cost = entry["cost"]
    spikes = np.load(EXAMPLE / "test_spikes.npz")["spikes"] != 0
    layer = {lay["name"]: lay for lay in cost["layers"]}
    # one multicast message per input spike and target core (lif1 has one core)
    assert layer["input->lif1"]["events"]["messages"] == pytest.approx(spikes.sum() / 64)
    # the costed run also holds the 2 latency steps that the aligned spike counts leave out
    assert layer["lif1"]["events"]["spikes_out"] * 64 == pytest.approx(
        entry["spikes"]["lif1"], rel=0.01)
    assert 0.95 < entry["fidelity"]["output"]["equal"] <= 1.0
    assert main(["simulate", str(EXAMPLE / "digits.nir"), "-t", "loihi2", "--dt", "1e-3",
                 "-i", str(EXAMPLE / "test_spikes.npz")]) == 0
    assert f"{entry['spikes']['lif1']:>10}" in capsys.readouterr().out


def test_table_and_markdown_formats(tmp_path, capsys):
    base = ["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
            "--dt", "1e-3", "-t", "loihi2"]
    assert main(base) == 0
    table = capsys.readouterr().out
    assert "energy per inference" in table and "overhead" in table and "fidelity" in table
    assert main(base + ["--format", "markdown"]) == 0
    assert capsys.readouterr().out.count("```") == 2


def test_unknown_target_is_one_line(capsys):
    assert main(["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
                 "-t", "loihi9"]) == 2
    assert "unknown target(s) loihi9" in capsys.readouterr().err


def test_a_target_that_cannot_run_the_model_says_why_and_the_others_report(tmp_path, capsys):
    from tests.cli.test_compile import one_neuron_model

    model = one_neuron_model(tmp_path, 5000)  # fan-in 5000: beyond Loihi 1's 4096 input axons
    np.savez(tmp_path / "in.npz", spikes=(np.arange(20 * 5000).reshape(20, 1, 5000) % 7 == 0))
    assert main(["report", str(model), "-i", str(tmp_path / "in.npz")]) == 0
    out = capsys.readouterr().out
    assert ("== loihi1: Loihi 1 as Lava 0.10 models it, bit-accurate on integers (needs a graph "
            "quantized for Loihi; outputs aligned with the reference per layer of latency)\n"
            "  not reported: node 'lif': one neuron receives from 5000 presynaptic "
            "neurons, more than loihi1's 4096 input axons per core") in out
    assert "loihi2 / energy model 'calibrated'" in out


def test_energy_model_option_prices_with_another_table(tmp_path):
    out = tmp_path / "r.json"
    assert main(["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
                 "--dt", "1e-3", "-t", "loihi1", "--energy-model", "davies2018",
                 "--format", "json", "-o", str(out)]) == 0
    cost = json.loads(out.read_text())["targets"]["loihi1"]["cost"]
    assert cost["model"] == "davies2018"
    assert {t["evidence"] for t in cost["terms"]} == {"simulated", "estimated"}


def test_calibration_feeds_data_driven_passes(tmp_path, capsys):
    spikes = str(EXAMPLE / "test_spikes.npz")
    base = ["report", str(EXAMPLE / "digits.nir"), "-i", spikes, "--dt", "1e-3", "-t", "loihi2",
            "-p", "normalize,quantize{chip=loihi2,calibrate=true}"]
    assert main(base) == 2
    assert "needs calibration input" in capsys.readouterr().err
    assert main(base + ["--calibration", spikes]) == 0
    assert "energy per inference" in capsys.readouterr().out
