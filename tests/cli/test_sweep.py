"""`snnc sweep`: 24 points of a grid compiled, run and reported, the same rows in a local
process pool and on a real local Dask cluster; resumable; table, JSON, CSV and Pareto plot."""
import csv
import json
from pathlib import Path

import pytest

from snnc.cli import main
from snnc.errors import OptionError
from snnc.sweep import parse_grid, pipeline_for, point_key, points

EXAMPLE = Path(__file__).parents[2] / "examples" / "digits"
GRID = "target=loihi2,spinnaker1;quantize.bits=4,8;prune.sparsity=0,0.25,0.5;seed=0,1"


def sweep(out, *more):
    return main(["sweep", str(EXAMPLE / "digits.nir"), "--grid", GRID, "-i",
                 str(EXAMPLE / "test_spikes.npz"), "--dt", "1e-3", "-q", "-o", str(out), *more])


def rows_of(out):
    return {p["key"]: p for p in json.loads((out / "sweep.json").read_text())["points"]}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    assert sweep(out, "--workers", "2") == 0
    return out


def test_every_point_is_run_and_tabled(local, capsys):
    rows = rows_of(local)
    assert len(rows) == 24 and not [r for r in rows.values() if r.get("error")]
    assert {r["point"]["target"] for r in rows.values()} == {"loihi2", "spinnaker1"}
    for row in rows.values():
        assert row["energy_per_inference"] > 0 and 0 <= row["accuracy"] <= 1
        assert f"prune{{sparsity={row['point']['prune.sparsity']}}}" in row["pipeline"]
    with open(local / "sweep.csv") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 24 and {"target", "quantize.bits", "energy_per_inference"} <= set(table[0])
    assert (local / "pareto.png").stat().st_size > 1000
    # pruning half the synapses costs Loihi 2 less energy per inference
    by = {(r["point"]["target"], r["point"]["quantize.bits"], r["point"]["prune.sparsity"],
           r["point"]["seed"]): r for r in rows.values()}
    assert (by["loihi2", "8", "0.5", "0"]["energy_per_inference"]
            < by["loihi2", "8", "0", "0"]["energy_per_inference"])


def test_dask_cluster_gives_identical_rows(local, tmp_path):
    pytest.importorskip("distributed")
    assert sweep(tmp_path, "--executor", "dask", "--workers", "2") == 0
    assert rows_of(tmp_path) == rows_of(local)


def test_a_rerun_skips_the_points_already_done(local, tmp_path, capsys):
    for path in (local / "points").iterdir():
        if "spinnaker1" not in path.name:
            (tmp_path / "points").mkdir(exist_ok=True)
            (tmp_path / "points" / path.name).write_text(path.read_text())
    assert main(["sweep", str(EXAMPLE / "digits.nir"), "--grid", GRID, "-i",
                 str(EXAMPLE / "test_spikes.npz"), "--dt", "1e-3", "--workers", "1",
                 "-o", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "24 points, 12 already in" in err and err.count("spinnaker1") >= 12
    assert "loihi2_bits" not in err.replace("target-loihi2", "")  # none of Loihi's re-run
    assert rows_of(tmp_path) == rows_of(local)


def test_grid_and_pipeline_text():
    axes = parse_grid("target=loihi2,rram; quantize.bits=4,6,8; prune.sparsity=0,0.5")
    assert len(points(axes)) == 12
    assert (pipeline_for("lower,normalize,map-delays,quantize",
                         {"target": "x", "quantize.bits": "4", "prune.sparsity": "0.5"})
            == "lower,normalize,map-delays,prune{sparsity=0.5},quantize{bits=4}")
    assert point_key({"a": "1", "b": "2"}) == "a-1_b-2_" + point_key({"a": "1", "b": "2"})[-8:]
    for bad in ("quantize.bits=4", "target", "colour=red;target=loihi2"):
        with pytest.raises(OptionError):
            parse_grid(bad)


def test_a_bad_grid_is_one_line(tmp_path, capsys):
    assert main(["sweep", str(EXAMPLE / "digits.nir"), "--grid", "bits=4", "-i",
                 str(EXAMPLE / "test_spikes.npz"), "-o", str(tmp_path)]) == 2
    assert "unknown key 'bits'" in capsys.readouterr().err
