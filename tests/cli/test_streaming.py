"""Streaming over a data set (--batch-size): the outputs equal one run over the whole input
(one .npz stored or compressed, or a folder of shards), memory does not grow with the number
of samples, and an interrupted run resumed with --resume gives identical outputs."""
import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import snnc.backends
from snnc.cli import main

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
MODEL = str(DIGITS / "digits.nir")


def data_set(path: Path, copies: int, compressed: bool = False) -> Path:
    """The 64 digits inputs repeated ``copies`` times along the batch axis, with labels."""
    with np.load(DIGITS / "test_spikes.npz") as data:
        spikes, labels = data["spikes"], data["labels"]
    save = np.savez_compressed if compressed else np.savez
    save(path, spikes=np.concatenate([spikes] * copies, axis=1),
         labels=np.concatenate([labels] * copies))
    return path


def simulate(inputs, out, *flags, target="loihi2"):
    return main(["simulate", MODEL, "-t", target, "-i", str(inputs), "--dt", "1e-3",
                 "-o", str(out), "--record", "lif1", *flags])


def arrays(path: Path) -> dict:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """One run over 192 rows without streaming: what every streamed run must equal."""
    folder = tmp_path_factory.mktemp("whole")
    assert simulate(data_set(folder / "data.npz", 3), folder / "whole.npz") == 0
    return arrays(folder / "whole.npz")


@pytest.mark.parametrize("layout", ["stored", "compressed", "shards"])
def test_streamed_outputs_equal_one_run_over_everything(tmp_path, whole, layout):
    if layout == "shards":  # 192 rows as 70 + 70 + 52: batches of 50 cross shard edges
        inputs = tmp_path / "shards"
        inputs.mkdir()
        full = arrays(data_set(tmp_path / "all.npz", 3))
        for k, first in enumerate(range(0, 192, 70)):
            np.savez_compressed(inputs / f"part{k}.npz", spikes=full["spikes"][:, first:first + 70],
                                labels=full["labels"][first:first + 70])
    else:
        inputs = data_set(tmp_path / "data.npz", 3, compressed=layout == "compressed")
    assert simulate(inputs, tmp_path / "out.npz", "--batch-size", "50") == 0
    assert_same(arrays(tmp_path / "out.npz"), whole)
    assert not (tmp_path / "out.npz.parts").exists()  # joined, then removed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no scratch


def peak_bytes(inputs: Path, out: Path, *flags) -> int:
    tracemalloc.start()
    try:
        assert simulate(inputs, out, *flags, target="reference") == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_samples(tmp_path):
    # 512 and 1024 rows (5 and 10 MB of float32 input); batches of 64 rows. Streamed, the
    # peak is the model, one batch and its outputs: 2x the samples may cost at most 1.25x
    # (slack for allocator noise; measured 5.74 MB and 5.74 MB, 1.0002x). Unstreamed, the
    # same runs hold every row (measured 50.7 and 95.8 MB, 1.89x): the test would see a
    # streamed run that kept them. The input's memory maps are not heap allocations.
    small, large = data_set(tmp_path / "small.npz", 8), data_set(tmp_path / "large.npz", 16)
    peak_bytes(small, tmp_path / "warm.npz", "--batch-size", "64")  # imports, caches
    streamed = [peak_bytes(p, tmp_path / f"s{k}.npz", "--batch-size", "64")
                for k, p in enumerate((small, large))]
    whole = [peak_bytes(p, tmp_path / f"w{k}.npz") for k, p in enumerate((small, large))]
    assert streamed[1] <= 1.25 * streamed[0], streamed
    assert whole[1] >= 1.6 * whole[0], whole
    assert streamed[1] < whole[1] / 4, (streamed, whole)


def test_an_interrupted_run_resumes_after_its_last_batch(tmp_path, whole, monkeypatch):
    inputs, out = data_set(tmp_path / "data.npz", 3), tmp_path / "out.npz"
    real = snnc.backends.get_target
    calls = []

    def interrupted_after(batches):
        def get_target(name):
            target = real(name)

            def simulate_batch(*args, **kwargs):
                calls.append(args[1]["input"].shape[1])
                if len(calls) > batches:
                    raise KeyboardInterrupt  # Ctrl-C in the middle of the third batch
                return target.simulate(*args, **kwargs)
            return dataclasses.replace(target, simulate=simulate_batch)
        return get_target

    monkeypatch.setattr(snnc.backends, "get_target", interrupted_after(2))
    assert simulate(inputs, out, "--batch-size", "40") == 130  # 128 + SIGINT
    assert not out.exists()
    assert sorted(p.name for p in (tmp_path / "out.npz.parts").glob("batch-*")) == [
        "batch-000000.npz", "batch-000001.npz"]
    assert simulate(inputs, out, "--batch-size", "40") == 2  # parts left: --resume or remove
    assert simulate(inputs, out, "--batch-size", "50", "--resume") == 2  # another batch size
    calls.clear()
    monkeypatch.setattr(snnc.backends, "get_target", interrupted_after(99))
    assert simulate(inputs, out, "--batch-size", "40", "--resume") == 0
    assert calls == [40, 40, 32]  # batches 2, 3 and 4 (rows 80..191), not 0 and 1 again
    assert_same(arrays(out), whole)


def test_streaming_refusals_are_one_line(tmp_path, capsys):
    inputs = data_set(tmp_path / "data.npz", 1)
    assert main(["simulate", MODEL, "-i", str(inputs), "--dt", "1e-3", "--resume"]) == 2
    assert main(["simulate", MODEL, "-i", str(inputs), "--dt", "1e-3", "--batch-size", "8"]) == 2
    (tmp_path / "empty").mkdir()
    assert simulate(tmp_path / "empty", tmp_path / "o.npz", "--batch-size", "8") == 2
    assert main(["report", MODEL, "-i", str(inputs), "--batch-size", "8", "--resume"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(e.startswith("snnc: error: ") for e in errors)
    assert "--batch-size" in errors[0] and "-o OUT.npz" in errors[1] and "no .npz" in errors[2]
    assert "give -o" in errors[3]


def report(inputs, out, *flags):
    return main(["report", MODEL, "-t", "loihi2,spinnaker1", "-i", str(inputs), "--dt", "1e-3",
                 "--format", "json", "-o", str(out), "--quiet", *flags])


def assert_close(a, b, where=""):
    """Equal reports, floats to 1e-12 relative: a streamed run's shares are weighted means of
    per-batch shares, which round differently in the last bits from one mean over all rows
    (counts, spikes and energies from the summed counters are exact)."""
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for key in a:
            if key != "timings":
                assert_close(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{k}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-300), where
    else:
        assert a == b, where


def test_streamed_report_equals_the_whole_report_and_resumes(tmp_path, monkeypatch):
    import json

    inputs = data_set(tmp_path / "data.npz", 3)
    assert report(inputs, tmp_path / "whole.json") == 0
    whole = json.loads((tmp_path / "whole.json").read_text())
    assert whole["batch"] == 192
    real, calls = snnc.backends.get_target, []

    def get_target(name):  # Ctrl-C while spinnaker1 runs the third batch
        target = real(name)

        def simulate_batch(*args, **kwargs):
            calls.append(name)
            if name == "spinnaker1" and calls.count(name) == 3:
                raise KeyboardInterrupt
            return target.simulate(*args, **kwargs)
        return dataclasses.replace(target, simulate=simulate_batch)

    monkeypatch.setattr(snnc.backends, "get_target", get_target)
    out = tmp_path / "streamed.json"
    assert report(inputs, out, "--batch-size", "50") == 130
    assert not out.exists() and (tmp_path / "streamed.json.parts" / "state.npz").is_file()
    assert report(inputs, out, "--batch-size", "50") == 2  # --resume or remove the folder
    calls.clear()
    assert report(inputs, out, "--batch-size", "50", "--resume") == 0
    assert calls.count("reference") == 2  # batches 2 and 3 of 4: the first two were kept
    assert not (tmp_path / "streamed.json.parts").exists()
    assert_close(json.loads(out.read_text()), whole)
