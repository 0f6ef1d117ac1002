"""The calibration cases of ``snnc.hw_models.calibrate`` rebuilt on this backend: each
published workload (``calibration_workloads``) run on snnc's engine and costed once by
``snnc.hw_models.cost.estimate``, giving a ``snnc.hw_models.calibration_cases.Case`` (see its
module doc for the closed form and the measured values).
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from snnc.hw_models import load_chip
from snnc.hw_models.calibration_cases import Case
from snnc.hw_models.calibration_cases import measured_of as _measured
from snnc.hw_models.cost_structure import barrier_part

from . import calibration_workloads as W

KWS_FRAMES = 4  # the spotter streams frames without reset: cost the last, warmed-up one


def _rebuilt(name, chip, counters, steps, deployment, measured, placement=None,
             synapse_kinds=None, io="io_time_streamed", note="") -> Case:
    from snnc.hw_models.cost import estimate

    r = estimate(chip, counters, steps_per_inference=steps, placement=placement,
                 deployment=deployment, synapse_kinds=synapse_kinds)
    on_busiest = max(sum(1 for c in r.per_core if c.chip == k) for k in {c.chip
                                                                      for c in r.per_core})
    static = next(t.unit for t in r.terms if t.name == "static")
    return Case(name, chip.name, deployment, steps, r.chips, r.cores, r.step_work_time,
                barrier_part(chip, on_busiest).seconds, r.events, static, measured, io,
                _rate(counters), note)


def _rate(counters) -> float:
    updates = sum(float(np.sum(v)) for v in counters.neuron_updates.values())
    return sum(float(np.sum(counters.spikes[p])) for p in counters.neuron_updates) / updates


def _last(counters, steps: int):
    from snnc.backends.engine import Counters

    return Counters(**{kind: {k: v[-steps:] for k, v in per.items()}
                       for kind, per in counters.counts.items()})


def _run(net, chip, inputs, steps=None):
    from snnc.backends.engine import run
    from snnc.backends.loihi import to_engine

    engine = to_engine(net, chip)
    return engine, run(engine, inputs, steps=steps, batch=1).counters


def memory_placement(engine, chip) -> dict:
    """Each population on the fewest cores that hold its neurons and the synapses into it
    (``formats.weight_bits`` each in ``core.synapse_memory``), split evenly, numbered in
    order: how Loihi toolchains must split layers whose fan-in fills synapse memory."""
    out, core = {}, 0
    per_chip = chip.topology.cores_per_chip
    for p in engine.populations:
        if p.is_input:
            continue
        bits = sum(c.synapses.nnz for c in engine.incoming(p.name)) * chip.formats.weight_bits
        n = max(math.ceil(p.size / chip.core.neurons_per_core),
                math.ceil(bits / chip.core.synapse_memory), 1)
        bounds = np.linspace(0, p.size, n + 1).round().astype(int)
        out[p.name] = [(core + k, (core + k) // per_chip, int(bounds[k + 1] - bounds[k]))
                       for k in range(n)]
        core += n
    return out


def kws_case(chip, branches: Optional[int] = None) -> Case:
    """The keyword spotter (``branches`` None) or its sweep with that many branches."""
    engine, counters = _run(W.kws(0, branches or 0), chip, {"in": W.kws_input(0, KWS_FRAMES)})
    counters = _last(counters, W.KWS_STEPS)
    if branches is None:
        measured = {**_measured(chip, "kws")}
        measured["step_time"] = (1 / chip.measurements["kws"].inference_rate / W.KWS_STEPS,
                                 "measurements.kws.inference_rate")
        return _rebuilt("kws", chip, counters, W.KWS_STEPS, "streamed", measured,
                        memory_placement(engine, chip), note="streamed: nengo-loihi, host I/O every step")
    name = f"kws_branches_{branches}"
    measured = _measured(chip, name)
    m = chip.measurements[name]
    if m.inference_rate is not None:
        measured["step_time"] = (1 / m.inference_rate / W.KWS_STEPS,
                                 f"measurements.{name}.inference_rate")
    return _rebuilt(name, chip, counters, W.KWS_STEPS, "streamed", measured,
                    memory_placement(engine, chip), io="sweep_io_time", note=f"sweep, {branches} branches of 10 layers")


def pilotnet_case(chip) -> Case:
    engine, counters = _run(W.pilotnet(0), chip, {}, steps=W.PILOTNET_STEPS)
    m = chip.measurements["pilotnet_lif"]
    placement = W.spread(engine, m.cores, chip.core.neurons_per_core,
                         chip.topology.cores_per_chip)
    kinds = {c.name: "conv" for c in engine.connections if c.name.split("->")[1][:4] == "conv"}
    return _rebuilt("pilotnet", chip, counters, W.PILOTNET_STEPS, "bias",
                    _measured(chip, "pilotnet_lif"), placement, kinds,
                    note="bias input, 74 cores")


def nxtf_case(chip) -> Case:
    engine, counters = _run(W.nxtf_mnist(0), chip, {"in": W.nxtf_input(0)})
    kinds = {c.name: "conv" for c in engine.connections}
    return _rebuilt("nxtf_mnist", chip, counters, W.NXTF_STEPS, "preloaded",
                    _measured(chip, "nxtf_mnist"), memory_placement(engine, chip), kinds,
                    note="preloaded conv net, timing only")


def quiet_case(chip) -> Case:
    """The floor of the unthrottled range: the least a workload does, on one core."""
    engine, counters = _run(W.quiet_core(0), chip, {"in": W.quiet_input(0)})
    measured = {"step_time": (chip.timing.step_time_min, "timing.step_time_min")}
    return _rebuilt("unthrottled_floor", chip, counters, W.QUIET_STEPS, "preloaded", measured,
                    note="one quiet core against the 5.8 us floor of 5.8-13 us")


def pohoiki_case(chip, name: str) -> Case:
    """A multi-chip barrier: every core of every chip in use; the kNN search's per-core work
    is not published, so it is taken as none (the fit then gives an upper bound of the
    chip-sync time)."""
    m = chip.measurements[name]
    return Case(name, chip.name, "preloaded", 1, m.chips, m.chips * chip.topology.cores_per_chip,
                0.0, barrier_part(chip, chip.topology.cores_per_chip).seconds, 0.0,
                0.0, _measured(chip, name), note=f"{m.chips} chips, work taken as none")


BUILDERS: tuple[Callable, ...] = (
    lambda l1, l2: kws_case(l1),
    *(lambda l1, l2, n=n: kws_case(l1, n) for n in (0, 1, 4, 10)),
    lambda l1, l2: pilotnet_case(l2),
    lambda l1, l2: nxtf_case(l1),
    lambda l1, l2: quiet_case(l1),
    lambda l1, l2: pohoiki_case(l1, "pohoiki_column"),
    lambda l1, l2: pohoiki_case(l1, "pohoiki_springs"),
)


def all_cases(loihi1=None, loihi2=None) -> list[Case]:
    """Every calibration case, rebuilt and costed (a few seconds)."""
    l1 = loihi1 or load_chip("loihi1")
    l2 = loihi2 or load_chip("loihi2")
    return [build(l1, l2) for build in BUILDERS]
