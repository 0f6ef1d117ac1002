"""Large batches run in slices with progress on a terminal; the joined recording equals one
run over the whole batch, counters and activity included."""
import io
from pathlib import Path

import numpy as np

from snnc.backends import get_target
from snnc.frontends import load_model
from snnc.options import SimOptions
from snnc.progress import simulate_in_slices

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


class Terminal(io.StringIO):
    def isatty(self):
        return True


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
    assert terminal.getvalue().endswith("simulating: 64/64 batch rows\n")
    assert joined.batch == whole.batch == 64 and joined.steps == whole.steps
    for key in ("outputs", "states", "activity"):
        for name, value in getattr(whole, key).items():
            np.testing.assert_array_equal(getattr(joined, key)[name], value, err_msg=name)
    assert joined.spike_counts == whole.spike_counts
    for kind in ("spikes", "synaptic_events", "neuron_updates"):
        for name, value in getattr(whole.counters, kind).items():
            np.testing.assert_array_equal(getattr(joined.counters, kind)[name], value)
