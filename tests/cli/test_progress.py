"""Large batches run in slices with progress on a terminal; the joined recording equals one
run over the whole batch, counters and activity included. Rich progress bars (report
targets, sweep points, trials, slices) go to stderr on a terminal only, never to stdout, and
not at all with --quiet or when stderr is not a terminal."""
import io
import json
import re
import sys
from pathlib import Path

import pytest

import numpy as np

from snnc.backends import get_target
from snnc.frontends import load_model
from snnc.options import SimOptions
from snnc.cli import main
from snnc.progress import simulate_in_slices

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


MODEL, SPIKES = str(DIGITS / "digits.nir"), str(DIGITS / "test_spikes.npz")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def plain(text: str) -> str:
    """What a terminal shows of rich's output, without its escape sequences."""
    return ANSI.sub("", text)


def run_cli(monkeypatch, argv, stderr):
    """``snnc ARGV`` in this process with ``stderr`` as its stderr: (code, stdout, stderr)."""
    stdout = io.StringIO()
    monkeypatch.setattr("snnc.progress.QUIET_SECONDS", 0.0)  # draw bars at once
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(argv)
    monkeypatch.undo()
    return code, stdout.getvalue(), stderr.getvalue()


def test_slices_join_into_the_whole_batch_run(monkeypatch):
    options = SimOptions(dt=1e-3)
    target = get_target("loihi2")
    graph, _ = target.compile(load_model(DIGITS / "digits.nir"), options)
    with np.load(DIGITS / "test_spikes.npz") as data:
        inputs = {"input": data["spikes"]}
    run = lambda part: target.simulate(graph, part, options, record=["lif1"])  # noqa: E731
    whole = run(inputs)
    monkeypatch.setattr("snnc.progress.QUIET_SECONDS", 0.0)
    terminal = Terminal()
    joined = simulate_in_slices(run, inputs, "simulating", rows=20, stream=terminal)
    assert "simulating" in plain(terminal.getvalue())
    assert "64/64 batch rows" in plain(terminal.getvalue())
    assert joined.batch == whole.batch == 64 and joined.steps == whole.steps
    for key in ("outputs", "states", "activity"):
        for name, value in getattr(whole, key).items():
            np.testing.assert_array_equal(getattr(joined, key)[name], value, err_msg=name)
    assert joined.spike_counts == whole.spike_counts
    for kind in ("spikes", "synaptic_events", "neuron_updates"):
        for name, value in getattr(whole.counters, kind).items():
            np.testing.assert_array_equal(getattr(joined.counters, kind)[name], value)


REPORT = ["report", MODEL, "-t", "loihi2,spinnaker1", "-i", SPIKES, "--dt", "1e-3",
          "--format", "json"]


def test_report_draws_a_bar_per_target_on_stderr_only(monkeypatch):
    code, out, err = run_cli(monkeypatch, REPORT, Terminal())
    assert code == 0
    assert json.loads(out)["targets"].keys() == {"loihi2", "spinnaker1"}  # stdout: the JSON
    assert "\x1b" not in out and "━" not in out
    assert "report" in plain(err) and "2/2 targets" in plain(err)
    assert "━" in err  # the bar itself, not only the stage times


@pytest.mark.parametrize("flags, stream", [(["--quiet"], Terminal), ([], io.StringIO)])
def test_no_bars_when_quiet_or_not_a_terminal(monkeypatch, flags, stream):
    code, out, err = run_cli(monkeypatch, REPORT + flags, stream())
    assert code == 0 and json.loads(out)["schema"] == "snnc-report/1"
    assert "━" not in err and "\x1b" not in err and "targets" not in err
    if flags:  # --quiet: nothing at all on stderr
        assert err == ""
    else:  # not a terminal: the stage times only
        assert all(line.startswith("[") for line in err.splitlines())


def test_trials_and_sweep_points_draw_bars(monkeypatch, tmp_path):
    code, out, err = run_cli(monkeypatch, ["simulate", MODEL, "-t", "sfq", "-i", SPIKES,
                                           "--dt", "1e-3", "--trials", "3"], Terminal())
    assert code == 0 and "over 3 trials" in out and "3/3 trials" in plain(err)
    assert "━" not in out
    sweep = ["sweep", MODEL, "--grid", "target=loihi2;seed=0,1", "-i", SPIKES, "--dt", "1e-3",
             "--workers", "1", "-o", str(tmp_path / "sweep")]
    code, out, err = run_cli(monkeypatch, sweep, Terminal())
    assert code == 0 and "2/2 points" in plain(err) and "━" not in out
    code, out, err = run_cli(monkeypatch, sweep + ["--quiet"], Terminal())
    assert code == 0 and err == ""  # both points done: nothing to draw, nothing said
