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


@pytest.mark.parametrize("chip", ["loihi2", "loihi1"])
def test_delay_example_on_loihi_equals_the_reference(chip):
    """The targets' default pipelines map the delays through relay chains; Lava's one-step
    latency per relay is taken back out of the relayed synapses' delays, so the emulated
    chip's output spikes equal the float model's on all 40 test patterns."""
    from snnc.backends import get_target

    target = get_target(chip)
    graph = load_model(EXAMPLE / "delays.nir")
    with np.load(EXAMPLE / "test_spikes.npz") as data:
        spikes = data["spikes"]
    options = SimOptions(dt=1e-3)
    compiled, _ = target.compile(graph, options)
    assert any(name.startswith("synapses.relay") for name in compiled.nodes)
    expected = simulate(graph, spikes, options).outputs["output"]
    assert expected.sum() >= 40
    np.testing.assert_array_equal(target.simulate(compiled, spikes, options).outputs["output"],
                                  expected)
