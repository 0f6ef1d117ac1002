"""The same model, options and seed give byte-identical compiled programs and identical report
files across runs, working directories and hash seeds; pass times live apart, in timings.json,
and the report's stage times in its "timings" field."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from snnc.backends import target_names

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits"


def snnc(cwd: Path, seed: str, *args) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-m", "snnc.cli", *map(str, args)], cwd=cwd, env=env,
                   check=True, capture_output=True)


@pytest.mark.parametrize("target", target_names())  # every target, the new ones as they land
def test_programs_and_reports_are_byte_identical(tmp_path, target):
    outs = []
    for seed in ("1", "2"):
        cwd = tmp_path / f"cwd{seed}"
        cwd.mkdir()
        snnc(cwd, seed, "compile", DIGITS / "digits.nir", "-t", target, "--dt", "1e-3",
             "-o", "prog")
        snnc(cwd, seed, "report", "prog", "-t", target, "-i", DIGITS / "test_spikes.npz",
             "--steps", "10", "--format", "json", "-o", "report.json")
        outs.append(cwd)
    first, second = outs
    names = sorted(p.name for p in (first / "prog").iterdir())
    assert names == sorted(p.name for p in (second / "prog").iterdir())
    assert "timings.json" in names
    for name in names:
        if name != "timings.json":
            assert (first / "prog" / name).read_bytes() == (second / "prog" / name).read_bytes(), name
    reports = [json.loads((cwd / "report.json").read_text()) for cwd in outs]
    for report in reports:  # the stages' wall times: the report's one field that may differ
        assert report.pop("timings")
    assert reports[0] == reports[1]
