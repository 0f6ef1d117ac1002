"""Monte Carlo over a stochastic target's draws (``--trials K --seed S``) and its device
settings (``--device KEY=VALUE``), on a noisy variant of the toy target: the toy LIF chip
whose synaptic events each fail with probability ``drop`` (a device setting), seeded."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from snnc import backends
from snnc.cli import main
from snnc.errors import OptionError
from snnc.options import SimOptions, check_device_keys, device_settings
from tests.targets import toy_target

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
MODEL, INPUT = str(DIGITS / "digits.nir"), str(DIGITS / "test_spikes.npz")


def noisy_simulate(graph, inputs, options, record=()):
    """The toy chip with each input spike lost with probability ``drop``, seeded."""
    drop = device_settings(options, {"drop": 0.2})["drop"]
    rng = np.random.default_rng(options.seed)
    kept = {k: v * (rng.random(v.shape) >= drop) for k, v in inputs.items()}
    return toy_target.simulate(graph, kept, options, record)


NOISY = dataclasses.replace(toy_target.TOY, name="noisy", simulate=noisy_simulate,
                            stochastic=True, agreement=0.5,
                            device_keys={"drop": "probability that an input spike is lost"})


@pytest.fixture
def noisy():
    with toy_target.installed():
        backends.register(NOISY)
        yield NOISY


def test_device_settings_take_the_defaults_type():
    options = SimOptions(device={"drop": "0.5", "ideal": "on", "bits": "4"})
    assert options.device == (("bits", "4"), ("drop", "0.5"), ("ideal", "on"))
    got = device_settings(options, {"drop": 0.2, "ideal": False, "bits": 8, "other": "x"})
    assert got == {"drop": 0.5, "ideal": True, "bits": 4, "other": "x"}
    with pytest.raises(OptionError, match="bits is an int, got 'four'"):
        device_settings(SimOptions(device={"bits": "four"}), {"bits": 8})
    with pytest.raises(OptionError, match="seed must be a non-negative integer"):
        SimOptions(seed=-1)


def test_unknown_device_keys_are_refused(noisy):
    check_device_keys(SimOptions(device={"drop": "0"}), [noisy])
    with pytest.raises(OptionError, match="no device setting 'noise' on noisy .settings: drop"):
        check_device_keys(SimOptions(device={"noise": "0"}), [noisy])
    assert main(["simulate", MODEL, "-t", "toy", "-i", INPUT, "--device", "drop=0.1"]) == 2


def test_simulate_trials_give_the_spread_and_every_trial(noisy, tmp_path, capsys):
    out = tmp_path / "trials.npz"
    args = ["simulate", MODEL, "-t", "noisy", "-i", INPUT, "--dt", "1e-3", "--seed", "5"]
    assert main([*args, "--trials", "3", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "over 3 trials (seeds 5..7)" in printed
    with np.load(out) as data:
        trials = data["output.trials"]
        assert trials.shape[0] == 3 and np.array_equal(trials[0], data["output"])
        assert not np.array_equal(trials[0], trials[1])  # each trial its own draws
    assert main([*args, "-o", str(tmp_path / "one.npz")]) == 0  # trial 1 is seed 5 again
    with np.load(tmp_path / "one.npz") as one:
        assert np.array_equal(one["output"], trials[0])
    assert main([*args, "--device", "drop=0", "-o", str(tmp_path / "ideal.npz")]) == 0
    assert main(["simulate", MODEL, "-t", "toy", "-i", INPUT, "--dt", "1e-3",
                 "-o", str(tmp_path / "toy.npz")]) == 0
    with np.load(tmp_path / "ideal.npz") as ideal, np.load(tmp_path / "toy.npz") as toy:
        assert np.array_equal(ideal["output"], toy["output"])  # drop=0: the toy chip exactly
    assert main(["simulate", MODEL, "-t", "toy", "-i", INPUT, "--trials", "4"]) == 0
    assert "target toy is deterministic: one trial, not 4" in capsys.readouterr().out


def test_report_trials(noisy, tmp_path, capsys):
    path = tmp_path / "report.json"
    assert main(["report", MODEL, "-t", "noisy,toy", "-i", INPUT, "--dt", "1e-3",
                 "--trials", "3", "--format", "json", "-o", str(path)]) == 0
    entries = json.loads(path.read_text())["targets"]
    assert "trials" not in entries["toy"]  # deterministic: one run
    spread = entries["noisy"]["trials"]
    assert spread["count"] == 3
    for key in ("fidelity_equal", "energy_per_inference"):
        assert spread[key]["min"] <= spread[key]["mean"] <= spread[key]["max"]
    assert spread["energy_per_inference"]["std"] > 0  # fewer events when spikes are lost
