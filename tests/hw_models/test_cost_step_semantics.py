"""The cost model dispatched on the chip's step semantics: barrier (Loihi, see test_cost.py),
timer (SpiNNaker: every step lasts the fixed timestep), none yet for clock and read."""
import numpy as np
import pytest

from snnc.backends.engine import Counters
from snnc.hw_models import load_chip
from snnc.hw_models.cost import CostModelError, estimate


def counters() -> Counters:
    """Two steps of a 3-input -> 300-neuron layer ("in" is a host input): two 256-neuron
    SpiNNaker cores."""
    return Counters(spikes={"in": np.array([3, 1]), "a": np.array([10, 20])},
                    synaptic_events={"in->a": np.array([600, 200])},
                    neuron_updates={"a": np.array([300, 300])})


@pytest.fixture(scope="module")
def spinnaker():
    return load_chip("spinnaker1")


def test_a_timer_step_lasts_the_timestep_whatever_the_load(spinnaker):
    r = estimate(spinnaker, counters(), steps_per_inference=2)
    busy = Counters(**{k: {n: 10 * v for n, v in per.items()}
                       for k, per in counters().counts.items()})
    assert r.step_semantics == "timer" and r.cores == 2 and r.chips == 1
    assert r.step_time == spinnaker.timing.timestep == 1e-3
    assert r.inference_time == pytest.approx(2e-3)
    assert estimate(spinnaker, busy, steps_per_inference=2).inference_time == r.inference_time
    assert "timing.timestep" in r.step_overhead_source and "fixed by the timer" in r.format()


def test_timer_energy_is_power_times_time_plus_events(spinnaker):
    r = estimate(spinnaker, counters(), steps_per_inference=2)
    m = spinnaker.energy["spinnmachine"]
    terms = {t.name: t for t in r.terms}
    assert terms["static"].energy == pytest.approx(m.static_power * 1 * 2e-3)
    assert terms["active"].energy == pytest.approx(m.core_active_power * 2 * 2e-3)
    assert r.active == terms["active"].energy
    # one multicast packet per input spike and target core: 4 spikes x 2 cores, 1 nJ each
    assert terms["messages"].energy == pytest.approx(8 * m.packet)
    assert r.total == pytest.approx(sum(t.energy for t in r.terms))
    assert {"synaptic_ops", "neuron_updates", "overhead"} <= set(r.unpriced)
    sharp = estimate(spinnaker, counters(), steps_per_inference=2, model="sharp2012")
    per = {t.name: t.energy for t in sharp.terms}
    assert per["neuron_updates"] == pytest.approx(600 * 100e-9)
    assert per["synaptic_ops"] == pytest.approx(800 * 43e-9)


def test_barrier_reports_keep_their_shape():
    r = estimate(load_chip("loihi1"), counters(), steps_per_inference=2)
    assert r.step_semantics == "barrier" and r.active == 0.0
    assert "active" not in {t.name for t in r.terms} and "active cores" not in r.format()


@pytest.mark.parametrize("chip, semantics", [("sfq", "clock"), ("rram", "read")])
def test_no_cost_model_yet_for_clock_and_read(chip, semantics):
    with pytest.raises(CostModelError, match=f"no cost model for step semantics '{semantics}' "
                                             "yet"):
        estimate(load_chip(chip), counters(), steps_per_inference=2)


@pytest.mark.parametrize("chip", ["spinnaker1", "loihi1"])
def test_messages_count_once_per_source_and_target_population(chip):
    """SpiNNaker's lowering splits a matrix into an excitatory and an inhibitory connection
    (``source->target#matrix.exc`` / ``.inh``), but a spike is one multicast packet per target
    core whatever the receptor: the split must not double the messages (it did: 16 here)."""
    split = Counters(spikes={"in": np.array([3, 1]), "a": np.array([10, 20])},
                     synaptic_events={"in->a#fc.exc": np.array([400, 100]),
                                      "in->a#fc.inh": np.array([200, 100])},
                     neuron_updates={"a": np.array([300, 300])})
    model = load_chip(chip)
    one = estimate(model, counters(), steps_per_inference=2)
    two = estimate(model, split, steps_per_inference=2)
    messages = lambda r: next(t for t in r.terms if t.name == "messages")  # noqa: E731
    assert messages(two).count == messages(one).count == 4 * one.cores  # 4 spikes x cores
    assert messages(two).energy == pytest.approx(messages(one).energy)
    per_layer = {lay.name: lay.events["messages"] for lay in two.layers
                 if lay.kind == "connection"}
    assert per_layer == {"in->a#fc.exc": 4 * one.cores, "in->a#fc.inh": 0.0}
    ops = lambda r: next(t for t in r.terms if t.name == "synaptic_ops")  # noqa: E731
    if chip == "loihi1":  # the split keeps every synaptic event
        assert ops(two).count == ops(one).count == 800
