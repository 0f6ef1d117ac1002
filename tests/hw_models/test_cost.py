"""The Loihi cost model against the published measurements, and its arithmetic by hand.

The keyword spotter (Loihi 1) and PilotNet (Loihi 2) are rebuilt (``tests.loihi_workloads``),
run on the engine and costed. Their static power is measured and their per-step overheads
were fitted to these same rebuilds (see the chip files), so those checks guard the fit; the
branch delta (events only, nothing fitted) and the events-alone bound are predictions.
"""
import dataclasses
import json

import numpy as np
import pytest

from snnc.backends.engine import Counters, run
from snnc.backends.loihi import to_engine
from snnc.hw_models import ChipModelError, load_chip
from snnc.hw_models.cost import CostModelError, estimate
from tests import loihi_workloads as W

FRAMES = 4  # the keyword spotter streams frames without reset: cost the last, warmed-up one


def within(estimated: float, measured: float, factor: float = 2.0) -> bool:
    return measured / factor <= estimated <= measured * factor


def last_steps(counters: Counters, steps: int) -> Counters:
    cut = {kind: {k: v[-steps:] for k, v in getattr(counters, kind).items()}
           for kind in ("spikes", "synaptic_events", "neuron_updates")}
    return Counters(**cut)


def kws_counters(chip, branches: int = 0) -> Counters:
    net = to_engine(W.kws(0, branches), chip)
    rec = run(net, {"in": W.kws_input(0, FRAMES)})
    return last_steps(rec.counters, W.KWS_STEPS)


@pytest.fixture(scope="module")
def loihi1():
    return load_chip("loihi1")


@pytest.fixture(scope="module")
def kws(loihi1):
    return estimate(loihi1, kws_counters(loihi1), steps_per_inference=W.KWS_STEPS)


@pytest.fixture(scope="module")
def pilotnet():
    chip = load_chip("loihi2")
    net = to_engine(W.pilotnet(0), chip)
    rec = run(net, {}, steps=W.PILOTNET_STEPS, batch=1)
    m = chip.measurements["pilotnet_lif"]
    placement = W.spread(net, m.cores, chip.core.neurons_per_core,
                         chip.topology.cores_per_chip)
    return estimate(chip, rec.counters, steps_per_inference=W.PILOTNET_STEPS,
                    placement=placement, model="calibrated"), m


def test_kws_within_2x_of_measured(kws, loihi1):
    m = loihi1.measurements["kws"]
    assert kws.model == "calibrated" and kws.chips == 1 and kws.cores == 3
    assert within(kws.dynamic, m.energy_per_inference_dynamic)
    assert within(kws.total, m.energy_per_inference_total)
    assert within(kws.inference_rate, m.inference_rate)
    assert kws.events < 0.05 * kws.dynamic  # the lesson: overhead, not events


def test_kws_branch_adds_the_measured_event_energy(loihi1, kws):
    """One branch of 10 random 256-neuron layers: the event energy it adds (Davies 2018
    per-event figures, nothing fitted) against the ~17 uJ measured per branch."""
    branch = estimate(loihi1, kws_counters(loihi1, branches=1),
                      steps_per_inference=W.KWS_STEPS)
    delta = branch.events - kws.events
    assert within(delta, loihi1.measurements["kws_branch"].energy_per_inference_dynamic)
    assert branch.overhead == kws.overhead  # the same chip: the overhead does not move


def all_spiking_counters(network, steps: int) -> Counters:
    """Every neuron (and input) spikes at every step: the most events a network can make."""
    sizes = {p.name: p.size for p in network.populations}
    spikes = {name: np.full(steps, size) for name, size in sizes.items()}
    events = {c.name: np.full(steps, c.synapses.nnz) for c in network.connections}
    updates = {p.name: np.full(steps, p.size) for p in network.populations if not p.is_input}
    return Counters(spikes, events, updates)


def test_events_alone_underpredict_kws(loihi1, kws):
    """Events x Davies Table 2 alone fall far short of the measured dynamic energy: at most
    41 uJ of 271 even if every neuron spiked every step (energy_cases.md), and ~55x short at
    the rebuild's 5-15% rates."""
    measured = loihi1.measurements["kws"].energy_per_inference_dynamic
    davies = estimate(loihi1, kws_counters(loihi1), steps_per_inference=W.KWS_STEPS,
                      model="davies2018")
    assert davies.events == pytest.approx(kws.events)
    assert measured / davies.events > 16
    net = to_engine(W.kws(0), loihi1)
    bound = estimate(loihi1, all_spiking_counters(net, W.KWS_STEPS),
                     steps_per_inference=W.KWS_STEPS, model="davies2018")
    synaptic = next(t for t in bound.terms if t.name == "synaptic_ops")
    synapses = sum(c.synapses.nnz for c in net.connections)  # 172,800 less random zeros
    assert synaptic.count == synapses * W.KWS_STEPS and synapses > 0.98 * 172_800
    assert synaptic.energy == pytest.approx(41e-6, rel=0.03)
    assert 6 < measured / bound.events < 7
    # the bare hardware step (barrier sync, no fitted overhead) is far faster than measured
    assert davies.step_overhead_source.startswith("simulated")
    assert davies.inference_rate > 5 * loihi1.measurements["kws"].inference_rate


def test_pilotnet_within_2x_of_measured(pilotnet):
    report, m = pilotnet
    assert report.cores == m.cores and report.chips == 1
    assert within(report.total, m.energy_per_inference_total)
    assert within(report.dynamic, m.energy_per_inference_dynamic)
    assert within(report.step_time, m.step_time)
    assert within(report.inference_rate, m.inference_rate)
    evidence = {t.name: t.evidence for t in report.terms}
    assert evidence["static"] == "measured" and evidence["overhead"] == "calibrated"
    assert evidence["synaptic_ops"] == "estimated"


def test_pilotnet_per_layer_and_per_core(pilotnet):
    report, _ = pilotnet
    layers = {lay.name: lay for lay in report.layers}
    assert layers["conv1->conv2"].cores == layers["conv2"].cores == sum(
        c.population == "conv2" for c in report.per_core)
    ops = sum(lay.events["synaptic_ops"] for lay in report.layers if lay.kind == "connection")
    assert sum(c.synaptic_ops for c in report.per_core) == pytest.approx(ops)
    assert sum(sum(lay.energy.values()) for lay in report.layers) == pytest.approx(report.events)
    slowest = max(c.busy for c in report.per_core)
    assert report.step_work_time * W.PILOTNET_STEPS >= slowest * (1 - 1e-9)
    text = report.format()
    assert "conv3" in text and "calibrated" in text and "estimated" in text
    json.dumps(report.to_dict())


def hand_counters() -> Counters:
    """Two steps of a 3-input -> 4-neuron layer ("in" is a host input)."""
    return Counters(spikes={"in": np.array([3, 1]), "a": np.array([1, 2])},
                    synaptic_events={"in->a": np.array([6, 2])},
                    neuron_updates={"a": np.array([4, 4])})


def test_terms_by_hand(loihi1):
    r = estimate(loihi1, hand_counters(), steps_per_inference=2)
    d, c, t = loihi1.energy["davies2018"], loihi1.energy["calibrated"], loihi1.timing
    work = [6 * t.synaptic_op + 4 * t.neuron_update_inactive
            + 1 * (t.neuron_update - t.neuron_update_inactive),
            2 * t.synaptic_op + 4 * t.neuron_update_inactive
            + 2 * (t.neuron_update - t.neuron_update_inactive)]
    assert r.inference_time == pytest.approx(2 * c.step_overhead_time + sum(work))
    terms = {x.name: x.energy for x in r.terms}
    assert terms["static"] == pytest.approx(c.static_power * r.inference_time)
    assert terms["overhead"] == pytest.approx(2 * c.step_overhead_energy)
    assert terms["synaptic_ops"] == pytest.approx(8 * d.synaptic_op)
    assert terms["neuron_updates"] == pytest.approx(
        8 * d.neuron_update_inactive + 3 * (d.neuron_update - d.neuron_update_inactive))
    assert terms["messages"] == pytest.approx(4 * d.spike_local)  # 4 input spikes x 1 core
    assert r.total == pytest.approx(sum(terms.values()))
    assert "spikes_out" in r.unpriced  # Davies 2018 gives no spike-out energy
    halved = estimate(loihi1, hand_counters(), steps_per_inference=2, batch=2)
    assert halved.inferences == 2 and halved.events == pytest.approx(r.events / 2)


def test_placement_hops_and_chips(loihi1):
    placement = {"a": [(0, 0, 2), (1, 1, 2)]}
    r = estimate(loihi1, hand_counters(), steps_per_inference=2, placement=placement,
                 hops={"in->a": 10})
    assert (r.chips, r.cores) == (2, 2)
    terms = {x.name: x.energy for x in r.terms}
    d, c = loihi1.energy["davies2018"], loihi1.energy["calibrated"]
    assert terms["overhead"] == pytest.approx(2 * 2 * c.step_overhead_energy)
    assert terms["hops"] == pytest.approx(10 * (d.hop_ew + d.hop_ns) / 2)
    assert terms["messages"] == pytest.approx(4 * 2 * d.spike_local)
    assert [core.synaptic_ops for core in r.per_core] == [4, 4]


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps_per_inference=3), "2 counted steps are not whole inferences of 3"),
    (dict(steps_per_inference=2, model="x"), "no energy model 'x'"),
    (dict(steps_per_inference=2, placement={}), "no cores for population"),
])
def test_errors_name_the_problem(loihi1, kwargs, message):
    with pytest.raises(CostModelError, match=message):
        estimate(loihi1, hand_counters(), **kwargs)


def test_unparsed_connection_and_no_default_model(loihi1):
    counters = hand_counters()
    counters.synaptic_events = {"w0": counters.synaptic_events["in->a"]}
    with pytest.raises(CostModelError, match="connection 'w0'"):
        estimate(loihi1, counters, steps_per_inference=2)
    r = estimate(loihi1, counters, steps_per_inference=2, connections={"w0": ("in", "a")})
    assert r.layers[-1].name == "w0"
    no_default = dataclasses.replace(load_chip("loihi2"), energy_model=None)
    with pytest.raises(CostModelError, match="no default energy model.*calibrated"):
        estimate(no_default, hand_counters(), steps_per_inference=2)


def test_events_from_must_name_another_model(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text('[chip]\nname = "toy"\ndescription = "d"\nkind = "loihi"\n'
                    'step_semantics = "barrier"\n[energy.a]\nevents_from = "b"\n')
    with pytest.raises(ChipModelError, match="energy.a.events_from: 'b' is not another"):
        load_chip(path)
