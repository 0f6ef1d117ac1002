"""The rram targets end to end: ideal devices are the reference on the digits example; the
tiling of a matrix over several arrays and the fit report of one too large; Monte Carlo over
device instances (``--trials``) spreads on a non-ideal preset and not on ideal devices."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target
from snnc.backends.rram.tiling import tile_graph
from snnc.cli import main
from snnc.errors import ResourceExceededError
from snnc.frontends import load_model, write_nir
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.report import report

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
MODEL, INPUT = str(DIGITS / "digits.nir"), str(DIGITS / "test_spikes.npz")
OPTIONS = SimOptions(dt=1e-3)
IDEAL = dataclasses.replace(OPTIONS, device=(("ideal", "true"),))
PRESETS = ["rram", "rram_40nm", "rram_neurosim", "rram_crosssim"]


def digits():
    with np.load(INPUT) as data:
        return load_model(MODEL), data["spikes"], data["labels"]


@pytest.mark.parametrize("name", PRESETS)
def test_ideal_devices_are_the_reference_on_digits(name):
    graph, spikes, _ = digits()
    target = get_target(name)
    compiled, _ = target.compile(graph, OPTIONS)
    got = target.simulate(compiled, spikes, IDEAL).outputs
    want = get_target("reference").simulate(compiled, spikes, OPTIONS).outputs
    assert got.keys() == want.keys()
    for key in want:  # spikes: bit for bit
        assert np.array_equal(got[key], want[key]), key
    assert want["output"].sum() > 500  # the run is not trivially silent


def one_matrix(n_in: int, n_out: int) -> Graph:
    weight = np.random.default_rng(0).normal(0, 1, (n_out, n_in))
    ones = np.ones(n_out)
    return Graph(nodes={"input": n.Input(shape=(n_in,)), "fc": n.Linear(weight=weight),
                        "lif": n.LIF(tau=1e-2 * ones, r=ones, v_leak=0 * ones,
                                     v_threshold=ones, v_reset=0 * ones),
                        "output": n.Output(shape=(n_out,))},
                 edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_a_matrix_larger_than_a_tile_spans_tiles_with_their_utilisation(tmp_path):
    # 300 rows x 100 weight columns on 128 x 128 arrays of differential pairs (64 weights
    # wide): row tiles 128, 128, 44; column tiles 64, 36 -> 6 arrays
    tiling = tile_graph(one_matrix(300, 100), load_chip("rram"))
    (layer,) = tiling.layers
    assert (layer.row_tiles, layer.column_tiles, layer.cells) == (3, 2, 30000)
    want = [r * c * 2 / (128 * 128) for r in (128, 128, 44) for c in (64, 36)]
    assert tiling.fit["layers"][0]["utilisation"] == pytest.approx(want, rel=1e-12)
    assert tiling.fit["tiles"] == {"need": 6, "limit": 64} and tiling.fit["fits"] is True
    assert tiling.fit["utilisation"]["mean"] == pytest.approx(np.mean(want))
    tiling.write(tmp_path)
    assert json.loads((tmp_path / "tiles.json").read_text())["fit"]["tiles"]["need"] == 6


def test_a_matrix_too_large_for_the_chip_fails_with_the_fit_report(tmp_path, capsys):
    graph = one_matrix(1000, 1000)  # 8 row tiles x 16 column tiles = 128 arrays, 16 on chip
    with pytest.raises(ResourceExceededError) as caught:
        tile_graph(graph, load_chip("rram_40nm"))
    error = caught.value
    assert (error.resource, error.need, error.limit, error.node) == (
        "crossbar arrays", 128, 16, "fc")
    assert "needs 128 crossbar arrays of 128x128, over the chip's 16" in str(error)
    write_nir(graph, tmp_path / "big.nir")
    assert main(["compile", str(tmp_path / "big.nir"), "-t", "rram_40nm",
                 "-o", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "128 crossbar arrays" in err[0] and "Traceback" not in err[0]
    fit = json.loads((tmp_path / "out.fit_report.json").read_text())
    assert (fit["fits"], fit["resource"], fit["need"], fit["limit"], fit["node"]) == (
        False, "crossbar arrays", 128, 16, "fc")
    assert not (tmp_path / "out").exists()


def trial_spread(options: SimOptions, trials: int = 4) -> dict:
    graph, spikes, labels = digits()
    data = report(graph, ["rram"], options, {"input": spikes[:, :16]}, labels=labels[:16],
                  trials=trials)
    return data["targets"]["rram"]["trials"]


def test_trials_spread_on_a_nonideal_preset_and_not_on_ideal_devices():
    noisy, ideal = trial_spread(OPTIONS), trial_spread(IDEAL)
    assert noisy["count"] == ideal["count"] == 4
    # each device instance draws its own conductances: energy and spikes move
    assert noisy["energy_per_inference"]["std"] > 0
    assert noisy["fidelity_equal"]["std"] > 0 and noisy["fidelity_equal"]["max"] < 1
    for key in ("energy_per_inference", "fidelity_equal", "accuracy"):
        assert ideal[key]["std"] == 0, key
    # (the report compares with the float model before compilation: the 4-bit weights keep
    # ideal devices below 1; test_ideal_devices_are_the_reference_on_digits holds them to it)


def test_simulate_trials_are_device_instances(tmp_path, capsys):
    out = tmp_path / "trials.npz"
    assert main(["simulate", MODEL, "-t", "rram", "-i", INPUT, "--dt", "1e-3", "--seed", "3",
                 "--trials", "3", "-o", str(out)]) == 0
    assert "over 3 trials (seeds 3..5)" in capsys.readouterr().out
    with np.load(out) as data:
        trials = data["output.trials"]
    assert trials.shape[0] == 3
    assert not np.array_equal(trials[0], trials[1])
    assert not np.array_equal(trials[1], trials[2])
