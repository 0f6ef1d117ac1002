"""The SFQ cost model: junction switchings x I_c * flux quantum, RSFQ bias power, time per
inference from the circuit's timestep, and the cooling factor to the wall plug.

Dynamic energy counts the junctions a run switches (every junction of a cell on a pulse's
path switches once, an estimate): per spike, its splitter tree (fan-out - 1 splitters) and the
JTL wiring to its gates; per gate input pulse, the gate; per pulse that leaves a gate, the
mergers up its tree; per delivered pulse, the neuron's input junction (2); per spike fired,
the neuron cell; per step, the clock pulse into every clocked cell (neurons, delay and
serialiser DROs). Junction counts per delivered pulse and per clock pulse are the chip model's
(``sfq.neuron_input_jjs``, ``sfq.clock_jjs``). Mergers: each pulse that leaves a gate is
charged its own tree's depth (the runner counts them; a lost pulse too: an upper bound). Static power: RSFQ bias
resistors per junction over the inference (none for ERSFQ/eSFQ). At 4 K: dynamic + static; at
the wall plug: times the energy model's cooling factor, with the chip's other energy models
(Carnot, a practical plant) beside it. The circuit is priced in the run's own settings
(serialised or not, pulses per spike), read from its counters.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from snnc.errors import OptionError
from snnc.hw_models.schema import ChipModelError
from snnc.hw_models.cost_report import Term

from .circuit import Mode

FLUX_QUANTUM = 2.067833848e-15  # Wb, h / 2e (CODATA 2018, exact in the SI since 2019)
SWITCH_TOLERANCE = 0.02  # the chip files round jj_switch to two digits


@dataclass(frozen=True)
class LayerPulses:
    name: str
    pulses_in: float
    pulses: float
    collisions: float
    pulse_level_share: float


@dataclass(frozen=True)
class SfqCost:
    """Energy (J) and time (s) per inference; ``total`` is at the wall plug."""

    chip: str
    model: str
    steps_per_inference: int
    inferences: float
    serialized: bool
    jjs: int
    area_mm2: float | None
    critical_path: float
    step_time: float
    clock_cycles_per_step: int | None
    inference_time: float
    switchings: float
    dynamic: float
    static: float
    energy_4k: float
    cooling_factor: float
    total: float
    wall_alternatives: dict
    terms: tuple
    layers: tuple

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        area = "" if self.area_mm2 is None else f", {self.area_mm2:.4g} mm^2"
        mode = "serialised" if self.serialized else "unserialised"
        cycles = (f" = {self.clock_cycles_per_step} clock cycles"
                  if self.clock_cycles_per_step else "")
        out = [f"circuit: {self.jjs:,} JJs{area}; critical path "
               f"{self.critical_path * 1e12:.1f} ps ({mode}) -> timestep "
               f"{self.step_time * 1e12:.1f} ps{cycles}; {self.inference_time * 1e9:.4g} ns "
               f"per inference ({self.steps_per_inference} steps)",
               f"energy per inference: {self.energy_4k:.4g} J at 4 K (dynamic "
               f"{self.dynamic:.4g} J from {self.switchings:.4g} JJ switchings, static "
               f"{self.static:.4g} J); {self.total:.4g} J at the wall plug "
               f"(x{self.cooling_factor:g})"]
        out += [f"  at the wall with {name}: {value:.4g} J"
                for name, value in self.wall_alternatives.items()]
        for t in self.terms:
            out.append(f"  {t.name:<24} {t.energy:10.4g} J  {t.count:12.4g} x {t.unit:.4g}  "
                       f"[{t.evidence}] {t.source}")
        for layer in self.layers:
            out.append(f"  {layer.name}: {layer.pulses_in:.4g} pulses in, {layer.pulses:.4g} "
                       f"delivered, {layer.collisions:.4g} lost to collisions, "
                       f"{100 * layer.pulse_level_share:.1f} % of steps pulse-level")
        return out


def estimate(chip, recording, mapping, *, model=None, deployment=None) -> SfqCost:
    """The cost of one run (per inference: one batch row) on the mapped circuit."""
    name = model or chip.energy_model
    if name not in chip.energy:
        raise OptionError(f"chip '{chip.name}' has no energy model '{name}' (has: "
                          f"{', '.join(chip.energy) or 'none'})")
    energy, src = chip.energy[name], chip.sources
    counts, batch = recording.counters.counts, max(1, recording.batch)
    steps = len(next(iter(counts["neuron_updates"].values()), np.zeros(recording.steps)))
    mode = run_mode(counts, mapping)
    serialized, sfq = mode.serialize, chip.sfq
    switch = _switchings(mapping, recording, counts, serialized, steps, chip)
    per = {k: v / batch for k, v in switch.items()}
    unit = switch_energy(chip, name)
    terms = [Term(f"dynamic: {k}", v * unit, v, unit, src[f"energy.{name}.jj_switch"].evidence,
                  src[f"energy.{name}.jj_switch"].source) for k, v in per.items()]
    jjs = mapping.jjs(mode)
    step_time = mapping.step_period(mode)
    time = steps * step_time
    static_per_jj = sfq.static_power_per_jj or 0.0
    static = jjs * static_per_jj * time
    if "sfq.static_power_per_jj" in src:
        s = src["sfq.static_power_per_jj"]
        terms.append(Term("static: bias resistors", static, jjs * time, static_per_jj,
                          s.evidence, s.source))
    dynamic = sum(per.values()) * unit
    cooling = _need(energy.cooling_factor, "energy.cooling_factor", chip)
    e4k = dynamic + static
    if f"energy.{name}.cooling_factor" in src:  # the cryocooler's work to lift e4k out of 4 K
        c = src[f"energy.{name}.cooling_factor"]
        terms.append(Term("cooling: 4 K to the wall plug", e4k * (cooling - 1), e4k,
                          cooling - 1, c.evidence, c.source))
    alternatives = {f"{other} ({model.cooling_factor:g} W/W)":
                    (dynamic / unit * switch_energy(chip, other) + static) * model.cooling_factor
                    for other, model in chip.energy.items()
                    if other != name and model.cooling_factor}
    return SfqCost(
        chip=chip.name, model=name, steps_per_inference=steps, inferences=float(batch),
        serialized=serialized, jjs=jjs, area_mm2=mapping.area_mm2(mode),
        critical_path=mapping.critical_path(mode) * mapping.tick, step_time=step_time,
        clock_cycles_per_step=(int(round(step_time * mapping.clock)) if mapping.clock else None),
        inference_time=time, switchings=sum(per.values()), dynamic=dynamic, static=static,
        energy_4k=e4k, cooling_factor=cooling, total=e4k * cooling,
        wall_alternatives=alternatives, terms=tuple(terms), layers=_layers(counts, batch))


def _need(value, key: str, chip):
    if value is None:
        raise OptionError(f"chip '{chip.name}' gives no {key}, which the SFQ cost model needs")
    return value


def switch_energy(chip, model: str) -> float:
    """J per junction switching of energy model ``model``, checked against the chip's
    I_c * flux quantum (times ``sfq.switch_energy_factor``) so the two cannot drift apart."""
    value = _need(chip.energy[model].jj_switch, f"energy.{model}.jj_switch", chip)
    current = chip.sfq.critical_current
    if current:
        expected = current * FLUX_QUANTUM * (chip.sfq.switch_energy_factor or 1.0)
        if abs(value / expected - 1) > SWITCH_TOLERANCE:
            raise ChipModelError(
                f"chip '{chip.name}': energy.{model}.jj_switch ({value:.4g} J) is not "
                f"sfq.critical_current x flux quantum x sfq.switch_energy_factor "
                f"({expected:.4g} J)")
    return value


def run_mode(counts: dict, mapping) -> Mode:
    """The settings the run used, from its counters (the chip default where it kept none):
    serialised gates, and pulses per spike of stochastic gates (None: deterministic)."""
    if not counts.get("serialized"):
        return mapping.mode
    serialized = any(int(v.sum()) > 0 for v in counts["serialized"].values())
    rows = sum(float(counts["fast_path"][k].sum() + counts["pulse_level"][k].sum())
               for k in counts["fast_path"])
    drawn = sum(float(v.sum()) for v in counts.get("pulses_per_spike", {}).values())
    k = int(round(drawn / rows)) if rows and drawn else None
    return Mode(serialized, k)


def _total(counts: dict, kind: str, name: str) -> float:
    return float(counts.get(kind, {}).get(name, np.zeros(1)).sum())


def _switchings(mapping, recording, counts, serialized: bool, steps: int, chip) -> dict:
    jj, total = mapping.jj, partial(_total, counts)
    input_jjs = _need(chip.sfq.neuron_input_jjs, "sfq.neuron_input_jjs", chip)
    clock_jjs = _need(chip.sfq.clock_jjs, "sfq.clock_jjs", chip)
    splitters = wires = gates = mergers = inputs = 0.0
    for layer in mapping.layers:
        fired = np.asarray(recording.activity.get(layer.source, np.zeros(len(layer.fanout))),
                           np.float64).reshape(-1)
        splitters += float(fired @ np.maximum(layer.fanout - 1, 0)) * jj["splitter"]
        wires += float(fired @ layer.wires) * jj["jtl"]
        gates += total("pulses_in", layer.name) * jj["gate"]
        passed = total("pulses", layer.name) + total("collisions", layer.name)
        levels = (total("merger_passes", layer.name) if "merger_passes" in counts
                  else passed * layer.tree_depth)  # counters of an older run: the mean
        mergers += levels * jj["merger"]
        inputs += total("pulses", layer.name) * input_jjs
        if serialized:
            gates += passed * jj["dro"]
    fired_out = sum(float(v.sum()) for name, v in counts["spikes"].items()
                    if name in mapping.populations)
    clocked = sum(mapping.populations.values()) + sum(
        layer.delay_dros + (layer.synapses if serialized else 0) for layer in mapping.layers)
    batch = max(1, recording.batch)
    out = {"splitter trees": splitters, "JTL wiring": wires, "gates": gates,
           "merger trees": mergers, "neuron inputs": inputs,
           "neuron firing": fired_out * jj["neuron"],
           "clock": float(clocked) * steps * batch * clock_jjs}
    return out


def _layers(counts: dict, batch: int) -> tuple:
    found = []
    for name in counts.get("pulses", {}):
        got = {k: float(counts[k][name].sum()) for k in ("pulses_in", "pulses", "collisions",
                                                          "fast_path", "pulse_level")}
        rows = got["fast_path"] + got["pulse_level"]
        found.append(LayerPulses(name, got["pulses_in"] / batch, got["pulses"] / batch,
                                 got["collisions"] / batch,
                                 got["pulse_level"] / rows if rows else 0.0))
    return tuple(found)
