"""`snnc report` for every target: the JSON against its versioned schema, the side-by-side
table with the dense baselines, the HTML page in headless Chromium, --quiet and --deployment."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target, target_names
from snnc.cli import main
from snnc.report_schema import _check, load_schema, validate

EXAMPLE = Path(__file__).parents[2] / "examples" / "digits"
BASE = ["report", str(EXAMPLE / "digits.nir"), "-i", str(EXAMPLE / "test_spikes.npz"),
        "--dt", "1e-3"]


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    out = tmp_path_factory.mktemp("json") / "digits.json"
    assert main([*BASE, "-q", "--format", "json", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_json_follows_its_schema_with_finite_positive_figures_for_every_chip(document):
    assert document["schema"] == load_schema()["$id"] == "snnc-report/1"
    assert validate(document) == []
    schema = load_schema()
    assert list(_check(document, schema, schema, "$")) == []  # the fallback validator agrees
    chips = [t for t in target_names() if get_target(t).chip is not None]
    rows = {r["target"]: r for r in document["summary"]}
    for name in chips:
        row = rows[name]
        assert "error" not in row, row.get("error")
        for key in ("energy_per_inference", "latency_per_step", "latency_per_inference",
                    "throughput"):
            assert np.isfinite(row[key]) and row[key] > 0, (name, key)
        # the categories add up to the total
        assert sum(row["breakdown"].values()) == pytest.approx(row["energy_per_inference"])
        assert row["evidence"] and row["chip"] and row["resources"]


def test_the_schema_refuses_what_breaks_it(document):
    broken = json.loads(json.dumps(document))
    del broken["summary"]
    name = next(iter(broken["targets"]))
    broken["targets"][name]["cost"]["terms"][0]["evidence"] = "guessed"
    problems = validate(broken)
    assert any("summary" in p for p in problems) and any("guessed" in p for p in problems)
    schema = load_schema()
    assert len(list(_check(broken, schema, schema, "$"))) >= 2


def test_dense_baseline_rows_are_sourced_estimates(document):
    gpu = next(b for b in document["baseline"] if b["name"] == "gpu")
    # digits: 64x128 + 128x10 weights, each used on each of 40 steps
    assert gpu["macs_per_inference"] == (64 * 128 + 128 * 10) * 40
    assert gpu["estimate"] is True and gpu["energy_per_mac"]["unit"] == "J/MAC"
    assert gpu["energy_per_inference"] == pytest.approx(gpu["macs_per_inference"] * 4.1e-11)
    assert gpu["energy_per_mac"]["source"] and gpu["latency_per_inference"] > 0


def test_table_puts_every_target_side_by_side_and_stage_times_go_to_stderr(capsys):
    assert main(BASE) == 0
    captured = capsys.readouterr()
    assert "every target side by side:" in captured.out
    for name in target_names():
        if name != "reference":
            assert f"\n  {name} " in captured.out
    assert "dense gpu" in captured.out and "estimate" in captured.out
    assert "] simulating on loihi2" in captured.err and "] pricing on loihi2" in captured.err
    assert main([*BASE, "-t", "loihi2", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_deployment_reaches_the_cost_model(monkeypatch, tmp_path):
    seen = []
    from snnc import report as report_module

    real = report_module.slice_cost

    def spy(*args, deployment=None, **kwargs):
        seen.append(deployment)
        return real(*args, deployment=None, **kwargs)

    monkeypatch.setattr(report_module, "slice_cost", spy)
    out = tmp_path / "r.json"
    assert main([*BASE, "-t", "loihi2", "-q", "--deployment", "preloaded", "--format", "json",
                 "-o", str(out)]) == 0
    assert seen == ["preloaded"]
    assert json.loads(out.read_text())["deployment"] == "preloaded"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/venv.sh installs it (apt-get install "
                        "chromium, as root); the HTML test must run in CI")
        pytest.skip("chromium not installed (scripts/venv.sh installs it where it runs as root)")
    return found


def test_html_page_renders_every_plot_offline_in_headless_chromium(tmp_path):
    from PIL import Image

    browser = _chromium()
    page = tmp_path / "digits.html"
    assert main([*BASE, "-q", "--format", "html", "-o", str(page)]) == 0
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    assert text.count("data:image/png;base64,") == 5
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=90)
    assert 'data-plots-loaded="5/5"' in dom.stdout, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    shot = tmp_path / "page.png"
    subprocess.run([browser, *flags, "--window-size=1200,4000", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=90, check=True)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    # not blank: the plots' ink spreads over the page (each plot is ~300 px tall)
    rows_with_ink = (pixels < 200).any(axis=1).mean()
    assert pixels.std() > 10 and rows_with_ink > 0.3


def test_a_program_records_its_deployment_and_report_prices_it(tmp_path):
    """``compile --deployment streamed`` is kept in program.json; ``report PROGRAM`` prices
    the host I/O of streaming every step, and ``report --deployment`` still overrides it."""
    program = tmp_path / "prog"
    assert main(["compile", str(EXAMPLE / "digits.nir"), "-t", "loihi1", "--dt", "1e-3",
                 "--deployment", "streamed", "-o", str(program)]) == 0
    assert json.loads((program / "program.json").read_text())["deployment"] == "streamed"
    rows = {}
    for mode in (None, "preloaded"):
        out = tmp_path / f"{mode}.json"
        given = ["--deployment", mode] if mode else []
        assert main(["report", str(program), "-i", str(EXAMPLE / "test_spikes.npz"), "-t",
                     "loihi1", "-q", "--format", "json", "-o", str(out), *given]) == 0
        document = json.loads(out.read_text())
        rows[document["deployment"]] = document["summary"][0]["latency_per_step"]
    assert set(rows) == {"streamed", "preloaded"}
    assert rows["streamed"] > 10 * rows["preloaded"]  # the host loop (282 us) dominates
