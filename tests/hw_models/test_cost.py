"""The Loihi cost model against the published measurements, and its arithmetic by hand.

The keyword spotter (Loihi 1) and PilotNet (Loihi 2) are rebuilt
(``snnc.backends.loihi.calibration_workloads``, as the calibration rebuilds them), run on
the engine and costed with the structured model (``hw_models/cost_structure.py``),
whose free parameters ``snnc.hw_models.calibrate`` fitted on these and the other published
cases (its leave-one-out is tested in test_calibration.py); these checks guard the fit on all
cases. The branch delta (events at SANA-FE's figures) and the events-alone bound are
predictions.
"""
import dataclasses
import json

import numpy as np
import pytest

from snnc.backends.engine import Counters, run
from snnc.backends.loihi import to_engine
from snnc.hw_models import ChipModelError, load_chip
from snnc.hw_models.cost import CostModelError, estimate
from snnc.backends.loihi import calibration_workloads as W

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
    return estimate(loihi1, kws_counters(loihi1), steps_per_inference=W.KWS_STEPS,
                    deployment="streamed")


@pytest.fixture(scope="module")
def pilotnet():
    chip = load_chip("loihi2")
    net = to_engine(W.pilotnet(0), chip)
    rec = run(net, {}, steps=W.PILOTNET_STEPS, batch=1)
    m = chip.measurements["pilotnet_lif"]
    placement = W.spread(net, m.cores, chip.core.neurons_per_core,
                         chip.topology.cores_per_chip)
    kinds = {c.name: "conv" for c in net.connections if c.name.split("->")[1][:4] == "conv"}
    return estimate(chip, rec.counters, steps_per_inference=W.PILOTNET_STEPS,
                    placement=placement, model="calibrated", deployment="bias",
                    synapse_kinds=kinds), m


def test_kws_within_2x_of_measured(kws, loihi1):
    m = loihi1.measurements["kws"]
    assert kws.model == "calibrated" and kws.chips == 1 and kws.cores == 3
    assert within(kws.dynamic, m.energy_per_inference_dynamic)
    assert within(kws.total, m.energy_per_inference_total)
    assert within(kws.inference_rate, m.inference_rate)
    assert kws.events < 0.05 * kws.dynamic  # the lesson: overhead, not events
    assert kws.deployment == "streamed" and "host I/O (streamed)" in kws.format()


def test_kws_branch_adds_the_measured_event_energy(loihi1, kws):
    """One branch of 10 random 256-neuron layers: the event energy it adds (Davies 2018
    per-event figures, nothing fitted) against the ~17 uJ measured per branch."""
    branch = estimate(loihi1, kws_counters(loihi1, branches=1),
                      steps_per_inference=W.KWS_STEPS, deployment="streamed")
    delta = branch.events - kws.events
    assert within(delta, loihi1.measurements["kws_branch"].energy_per_inference_dynamic)
    # the same chip and step: the running power over the run does not move
    assert branch.overhead == pytest.approx(kws.overhead, rel=0.01)


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
    the rebuild's 5-15% rates. SANA-FE's silicon-calibrated figures (the calibrated model's
    events) are higher, and still far short."""
    measured = loihi1.measurements["kws"].energy_per_inference_dynamic
    davies = estimate(loihi1, kws_counters(loihi1), steps_per_inference=W.KWS_STEPS,
                      model="davies2018")
    assert 1.2 < kws.events / davies.events < 2.5  # 35.5 vs 23.6 pJ, 72.8 vs 52 pJ, ...
    assert measured / davies.events > 16 and measured / kws.events > 16
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
    assert report.deployment == "bias" and "host_io" not in evidence


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
    """The structured model's every term counted by hand on two steps of one core: step =
    management + barrier (one tile) + the core's work; energy = (static + management power)
    x time + events at SANA-FE's figures (the calibrated model's events_from)."""
    r = estimate(loihi1, hand_counters(), steps_per_inference=2)
    s, c, t = loihi1.energy["sanafe"], loihi1.energy["calibrated"], loihi1.timing
    spike = t.neuron_update - t.neuron_update_inactive + t.spike_local
    work = [6 * t.synaptic_op + 4 * t.neuron_update_inactive + 1 * spike,
            2 * t.synaptic_op + 4 * t.neuron_update_inactive + 2 * spike]
    fixed = c.management_time + t.barrier_sync_min  # one tile: Davies' 1-tile barrier
    assert r.deployment == "preloaded" and r.step_overhead_time == pytest.approx(fixed)
    assert r.inference_time == pytest.approx(2 * fixed + sum(work))
    terms = {x.name: x.energy for x in r.terms}
    assert terms["static"] == pytest.approx(c.static_power * r.inference_time)
    assert terms["overhead"] == pytest.approx(c.management_power * r.inference_time)
    assert terms["synaptic_ops"] == pytest.approx(8 * s.synaptic_op)
    assert terms["neuron_updates"] == pytest.approx(8 * (s.neuron_update + s.neuron_access))
    assert terms["spikes_out"] == pytest.approx(3 * s.spike_out)
    assert terms["messages"] == pytest.approx(4 * s.message_out)  # 4 input spikes x 1 core
    assert r.total == pytest.approx(sum(terms.values()))
    assert "host_io" not in terms and "hops (no routes given)" in r.unpriced
    halved = estimate(loihi1, hand_counters(), steps_per_inference=2, batch=2)
    assert halved.inferences == 2 and halved.events == pytest.approx(r.events / 2)


def test_streamed_adds_the_host_loop_and_its_energy(loihi1):
    c = loihi1.energy["calibrated"]
    pre = estimate(loihi1, hand_counters(), steps_per_inference=2)
    streamed = estimate(loihi1, hand_counters(), steps_per_inference=2, deployment="streamed")
    bias = estimate(loihi1, hand_counters(), steps_per_inference=2, deployment="bias")
    assert bias.inference_time == pre.inference_time and bias.deployment == "bias"
    assert streamed.inference_time == pytest.approx(pre.inference_time
                                                    + 2 * c.io_time_streamed)
    io = next(t for t in streamed.terms if t.name == "host_io")
    assert io.energy == pytest.approx(2 * c.io_energy_streamed) and io.evidence == "calibrated"
    assert streamed.to_dict()["deployment"] == "streamed"
    assert streamed.error_bands["energy"]["factor"] == c.energy_error_streamed
    assert pre.error_bands["step_time"]["factor"] == c.time_error
    with pytest.raises(CostModelError, match="deployment 'host' is not one of streamed"):
        estimate(loihi1, hand_counters(), steps_per_inference=2, deployment="host")


def test_placement_hops_and_chips(loihi1):
    placement = {"a": [(0, 0, 2), (1, 1, 2)]}
    r = estimate(loihi1, hand_counters(), steps_per_inference=2, placement=placement,
                 hops={"in->a": 10})
    assert (r.chips, r.cores) == (2, 2)
    terms = {x.name: x.energy for x in r.terms}
    s, c, t = loihi1.energy["sanafe"], loihi1.energy["calibrated"], loihi1.timing
    # two chips: one chip-sync doubling on top of management and a one-tile barrier
    assert r.step_overhead_time == pytest.approx(c.management_time + t.barrier_sync_min
                                                 + c.chip_sync_time)
    assert terms["overhead"] == pytest.approx(2 * c.management_power * r.inference_time)
    assert terms["hops"] == pytest.approx(10 * (s.hop_ew + s.hop_ns) / 2)
    assert terms["messages"] == pytest.approx(4 * 2 * s.message_out)
    assert [core.synaptic_ops for core in r.per_core] == [4, 4]


def test_far_outside_the_calibrated_range_is_flagged(loihi1):
    c = loihi1.energy["calibrated"]
    cores = 4 * c.calibrated_cores_max + 1
    placement = {"a": [(k, k // 128, 1) for k in range(cores)]}
    counters = Counters(spikes={"in": np.array([3, 1]), "a": np.array([1, 2])},
                        synaptic_events={"in->a": np.array([6, 2])},
                        neuron_updates={"a": np.array([cores, cores])})
    r = estimate(loihi1, counters, steps_per_inference=2, placement=placement)
    text = "\n".join(r.warnings)
    assert f"cores {cores} is far outside" in text and "steps per inference 2" in text
    assert "warning: cores" in r.format()
    assert not estimate(loihi1, kws_counters(loihi1), steps_per_inference=W.KWS_STEPS).warnings


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
