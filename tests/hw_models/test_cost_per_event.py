"""Hand-countable: one LIF neuron on one core, fed N input spikes through one synapse, run on
snnc's engine; each per-event figure of the Loihi 1 models comes back exactly (to float
rounding) as term energy / count, and each term is count x figure with counts by hand."""
import numpy as np
import pytest

from snnc.backends.engine import run
from snnc.backends.loihi import Lif, LoihiNetwork, Synapse, to_engine
from snnc.hw_models import load_chip
from snnc.hw_models.cost import estimate

STEPS, N = 20, 7  # 7 input spikes over 20 steps


@pytest.fixture(scope="module")
def one_neuron():
    chip = load_chip("loihi1")
    # a weight of 2 * 2**6 against vth 100 << 6: every input spike makes the neuron fire
    net = LoihiNetwork({"in": 1}, {"n": Lif(1, du=4095, dv=0, vth=100)},
                       (("in", "n", Synapse(np.array([[254]]), weight_exp=0)),))
    spikes = np.zeros((STEPS, 1), bool)
    spikes[np.arange(N) * 2, 0] = True
    counters = run(to_engine(net, chip), {"in": spikes}).counters
    return chip, counters


def terms(report):
    return {t.name: t for t in report.terms}


def test_counts_are_the_hand_counts(one_neuron):
    _, counters = one_neuron
    assert counters.spikes["in"].sum() == N and counters.synaptic_events["in->n"].sum() == N
    assert counters.neuron_updates["n"].sum() == STEPS
    assert counters.spikes["n"].sum() == N  # one output spike per input spike


@pytest.mark.parametrize("kind, figure", [("dense", "synaptic_op"),
                                          ("sparse", "synaptic_op_sparse"),
                                          ("conv", "synaptic_op_conv")])
def test_each_synapse_figure(one_neuron, kind, figure):
    chip, counters = one_neuron
    r = estimate(chip, counters, steps_per_inference=STEPS, synapse_kinds={"in->n": kind},
                 hops={"in->n": 5})
    name = "synaptic_ops" if kind == "dense" else f"synaptic_ops_{kind}"
    t, s = terms(r)[name], chip.energy["sanafe"]
    assert t.count == N and t.unit == getattr(s, figure)  # 35.5 / 33.6 / 24.0 pJ
    assert t.energy == pytest.approx(N * getattr(s, figure), rel=1e-12)
    assert t.source == f"energy.sanafe.{figure}" and t.evidence == "calibrated"


def test_neuron_spike_message_and_hop_figures(one_neuron):
    chip, counters = one_neuron
    s = chip.energy["sanafe"]
    r = terms(estimate(chip, counters, steps_per_inference=STEPS, hops={"in->n": 5}))
    assert r["neuron_updates"].energy == pytest.approx(STEPS * (51.2e-12 + 21.6e-12))
    assert r["neuron_updates"].unit == pytest.approx(s.neuron_access + s.neuron_update)
    assert r["spikes_out"].energy == pytest.approx(N * 69.3e-12)
    assert r["messages"].energy == pytest.approx(N * 111e-12)  # N spikes x 1 target core
    assert r["hops"].energy == pytest.approx(5 * (3.0e-12 + 4.2e-12) / 2)


def test_davies_figures_with_the_active_inactive_split(one_neuron):
    chip, counters = one_neuron
    d = chip.energy["davies2018"]
    r = terms(estimate(chip, counters, steps_per_inference=STEPS, model="davies2018"))
    assert r["synaptic_ops"].energy == pytest.approx(N * 23.6e-12)
    # 20 updates at the inactive 52 pJ, the N that spiked at the active 81 pJ
    assert r["neuron_updates"].energy == pytest.approx((STEPS - N) * 52e-12 + N * 81e-12)
    assert r["messages"].energy == pytest.approx(N * d.spike_local)


def test_step_time_by_hand(one_neuron):
    chip, counters = one_neuron
    t, c = chip.timing, chip.energy["calibrated"]
    r = estimate(chip, counters, steps_per_inference=STEPS, synapse_kinds={"in->n": "conv"})
    work = (N * t.synaptic_op_conv + STEPS * t.neuron_update_inactive
            + N * (t.neuron_update - t.neuron_update_inactive + t.spike_local))
    fixed = c.management_time + t.barrier_sync_min
    assert r.inference_time == pytest.approx(STEPS * fixed + work, rel=1e-12)
