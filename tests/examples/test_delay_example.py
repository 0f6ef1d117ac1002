"""The delay example: built delays beyond the Loihi limit compile through relays, with the
reference spikes unchanged and all test patterns still recognised."""
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "delays"


@pytest.mark.parametrize("limit, option", [(62, "chip=loihi1"), (63, "chip=loihi2"),
                                           (288, "chip=spinnaker1"), (16, "max_delay=16")])
def test_delay_example_maps_with_identical_spikes(limit, option):
    graph = load_model(EXAMPLE / "delays.nir")
    assert graph.nodes["synapses"].delay.max() > 62e-3  # longer than Loihi allows
    with np.load(EXAMPLE / "test_spikes.npz") as data:
        spikes, labels = data["spikes"], data["labels"]
    ctx = PassContext(SimOptions(dt=1e-3), spikes, labels)
    mapped, [record] = run_pipeline(graph, parse(f"map-delays{{{option}}}"), ctx)
    assert record.report["limit_steps"] == limit and record.report["max_delay_steps"] <= limit
    # SpiNNaker's delay extensions reach 288 steps: no relays; Loihi's 62/63 need them
    assert bool(record.report["relay_neurons"]) == (limit < 160)
    assert record.report["accuracy_before"] == record.report["accuracy_after"] == 1.0
    before = simulate(graph, spikes, ctx.options).outputs["output"]
    np.testing.assert_array_equal(simulate(mapped, spikes, ctx.options).outputs["output"], before)
