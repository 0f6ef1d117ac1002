"""The published Loihi cases that ``snnc.hw_models.calibrate`` fits and leaves out one by one,
each rebuilt (``calibration_workloads``), run on snnc's engine and costed once, so that the
structured model's prediction of it is a closed form in the free parameters:

    T_step   = work + barrier + management_time + chip_sync_time * log2(chips)
               + io_time_streamed                      (streamed cases)
    E_dyn    = events + management_power * chips * T_inference + io_energy_streamed * steps
    E_total  = E_dyn + static_power * chips * T_inference

``work`` (the slowest core's mean event work per step), ``barrier`` (Davies Table 2 for the
tiles in use) and ``events`` (the per-event energies of the chip's model) come from
``snnc.hw_models.cost.estimate`` on the rebuild. Measured values are read from the chip
files' ``[measurements.*]`` tables, so each carries its source there.

The scaling sweep of the keyword spotter (N = 0, 1, 4, 10 branches) ran with a slower host
loop than the keyword spotter itself (126 against 297 inferences/s on the same network at
N = 0, at the same ~78 mW of dynamic power): it gets a host-loop time of its own
(``sweep_io_time``, fitted on N = 0 and N = 10), a property of that measurement set-up that
is not written into the chip model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import calibration_workloads as W
from .cost_structure import barrier_part
from . import load_chip

KWS_FRAMES = 4  # the spotter streams frames without reset: cost the last, warmed-up one


@dataclass(frozen=True)
class Case:
    """One published case: its rebuild's fixed parts and what was measured."""

    name: str
    chip: str
    deployment: str
    steps: int
    """Steps per inference."""
    chips: int
    cores: int
    work: float
    """The slowest core's mean event work per step (s)."""
    barrier: float
    events: float
    """Event energy per inference (J)."""
    static_power: float
    measured: dict = field(default_factory=dict)
    """{"step_time" | "energy_dynamic" | "energy_total": (value, source key)}."""
    io: str = "io_time_streamed"
    """The parameter that is this case's host I/O time (streamed cases)."""
    rate: float = 0.0
    """Spikes per neuron per step of the rebuild."""
    note: str = ""

    def predict(self, p: dict) -> dict:
        """Step time and energies for parameters ``p`` (see the module doc)."""
        streamed = self.deployment == "streamed"
        step = (self.work + self.barrier + p["management_time"]
                + p["chip_sync_time"] * math.log2(self.chips)
                + (p[self.io] if streamed else 0.0))
        time = step * self.steps
        power = p["management_power_" + self.chip]
        dynamic = (self.events + power * self.chips * time
                   + (p["io_energy_streamed"] * self.steps if streamed else 0.0))
        return {"step_time": step, "energy_dynamic": dynamic,
                "energy_total": dynamic + self.static_power * self.chips * time}


def _measured(chip, name: str) -> dict:
    m, out = chip.measurements[name], {}
    if m.step_time is not None:
        out["step_time"] = (m.step_time, f"measurements.{name}.step_time")
    elif m.inference_rate is not None and m.steps_per_inference is not None:
        out["step_time"] = (1 / m.inference_rate / m.steps_per_inference,
                            f"measurements.{name}.inference_rate")
    for key in ("dynamic", "total"):
        value = getattr(m, f"energy_per_inference_{key}")
        if value is not None:
            out[f"energy_{key}"] = (value, f"measurements.{name}.energy_per_inference_{key}")
    return out


def _rebuilt(name, chip, counters, steps, deployment, measured, placement=None,
             synapse_kinds=None, io="io_time_streamed", note="") -> Case:
    from .cost import estimate

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
