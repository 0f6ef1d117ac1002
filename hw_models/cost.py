"""Energy and step time of a run on a barrier-synchronised chip (Loihi), from the engine's
counters and the chip model.

Per inference, three energy terms, reported apart because on Loihi the events are a small
share of what is measured (``/work/shared/reference/energy_cases.md``):

    static   = static_power * chips * T_inference          leakage / idle power of the chips
    overhead = step_overhead_energy * chips * steps         barrier sync, x86 management, host I/O
    events   = sum of count * energy per event              synaptic ops, neuron updates, spikes
                                                            out, messages, hops

Each step ends at a mesh-wide barrier, when the slowest core is done:

    T_step(t) = step_overhead_time + max over cores of [synaptic ops * timing.synaptic_op
                + neuron updates * timing.neuron_update_inactive
                + spiking neurons * (timing.neuron_update - timing.neuron_update_inactive)]

and T_inference is the sum of T_step over the inference's steps. Where the model gives an
inactive neuron-update figure, neurons that spiked are counted as the active ones.

Inputs are plain data so any mapper plugs in:

- ``counters``: ``snnc.backends.engine.Counters`` (per-step arrays summed over the batch).
  Neuron populations are those with ``neuron_updates``; the others are host inputs.
  Connections are named ``"source->target"`` (``#k`` suffixes allowed) unless ``connections``
  maps each name to ``(source, target)``. A connection's synaptic events are the work of its
  target's cores.
- ``placement``: ``{population: [(core_id, chip_id, neurons), ...]}``; without it each
  population takes the fewest cores ``core.neurons_per_core`` allows, split evenly, numbered in
  order, ``topology.cores_per_chip`` to a chip.
- ``hops``: optional packet hops per connection over the run (a number or a per-step array).
- Messages are spikes x cores of the target population (one multicast packet per target
  core): an upper bound when a neuron reaches only some of those cores.

A figure the model leaves out (None) is unknown, never zero: its term is listed in
``unpriced`` and left out of the sums. Every term carries the evidence kind of its figures.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from snnc.errors import SnncError

from .schema import Chip


class CostModelError(SnncError, ValueError):
    """Counters, placement or chip model cannot be costed; the message names what and why."""


@dataclass(frozen=True)
class Term:
    """One energy term per inference: ``count`` events (steps for overhead, seconds x chips
    for static) at ``unit`` joules (watts for static) each."""

    name: str
    energy: float
    count: float
    unit: float
    evidence: str
    source: str


@dataclass(frozen=True)
class LayerCost:
    """A population (neuron updates, spikes out) or a connection (synaptic ops, messages),
    per inference."""

    name: str
    kind: str  # "population" or "connection"
    cores: int
    events: Mapping[str, float]
    energy: Mapping[str, float]


@dataclass(frozen=True)
class CoreCost:
    """One core's share of its population's work, per inference; ``busy`` is its event work
    time summed over the inference's steps."""

    core: int
    chip: int
    population: str
    neurons: int
    synaptic_ops: float
    neuron_updates: float
    spikes: float
    energy: float
    busy: float


@dataclass(frozen=True)
class CostReport:
    """Energy (J) and time (s) per inference, the terms apart, per layer and per core."""

    chip: str
    model: str
    steps_per_inference: int
    inferences: float
    chips: int
    cores: int
    step_time: float
    """Mean step length: overhead plus the slowest core's work."""
    step_overhead_time: float
    step_overhead_source: str
    """Evidence and key of the overhead time (a fitted overhead, else a bare barrier sync)."""
    step_work_time: float
    """Mean over steps of the slowest core's event work."""
    inference_time: float
    static: float
    overhead: float
    events: float
    terms: tuple[Term, ...]
    layers: tuple[LayerCost, ...]
    per_core: tuple[CoreCost, ...]
    unpriced: tuple[str, ...]

    @property
    def dynamic(self) -> float:
        return self.overhead + self.events

    @property
    def total(self) -> float:
        return self.static + self.dynamic

    @property
    def inference_rate(self) -> float:
        return 1.0 / self.inference_time

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(dynamic=self.dynamic, total=self.total, inference_rate=self.inference_rate)
        return out

    def lines(self) -> list[str]:
        """A text table: the summary, the terms, then layers and cores."""
        out = [f"{self.chip} / energy model '{self.model}': {self.chips} chip(s), {self.cores} "
               f"cores, {self.steps_per_inference} steps per inference",
               f"  step {_us(self.step_time)} = overhead {_us(self.step_overhead_time)} "
               f"[{self.step_overhead_source}] + slowest core {_us(self.step_work_time)}; "
               f"inference {_us(self.inference_time)} ({self.inference_rate:.1f}/s)",
               f"  energy per inference {_uj(self.total)} = static {_uj(self.static)} + "
               f"overhead {_uj(self.overhead)} + events {_uj(self.events)} "
               f"(dynamic {_uj(self.dynamic)})",
               f"  {'term':16} {'per inference':>14} {'count':>12} {'each':>10}  evidence"]
        for t in self.terms:
            out.append(f"  {t.name:16} {_uj(t.energy):>14} {t.count:12.4g} {t.unit:10.3g}  "
                       f"{t.evidence} ({t.source})")
        if self.unpriced:
            out.append(f"  unpriced (no figure in the model): {', '.join(self.unpriced)}")
        out.append(f"  {'layer':24} {'cores':>5} {'events per inference':40} {'energy':>12}")
        for lay in self.layers:
            events = ", ".join(f"{k} {v:.4g}" for k, v in lay.events.items())
            out.append(f"  {lay.name:24} {lay.cores:5d} {events:40} "
                       f"{_uj(sum(lay.energy.values())):>12}")
        out.append(f"  {'core':>5} {'chip':>4} {'population':20} {'neurons':>7} {'syn ops':>10} "
                   f"{'busy':>10} {'energy':>12}")
        for c in self.per_core:
            out.append(f"  {c.core:5d} {c.chip:4d} {c.population:20} {c.neurons:7d} "
                       f"{c.synaptic_ops:10.4g} {_us(c.busy):>10} {_uj(c.energy):>12}")
        return out

    def format(self) -> str:
        return "\n".join(self.lines())


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def _uj(joules: float) -> str:
    return f"{joules * 1e6:.2f} uJ"


class _Figures:
    """The figures of one energy model, falling back to its ``events_from`` model, with the
    evidence and key of each."""

    def __init__(self, chip: Chip, name: Optional[str]):
        name = name or chip.energy_model
        if name is None:
            raise CostModelError(f"{chip.name}: no default energy model; pass model= one of "
                                 f"{', '.join(chip.energy) or 'none'}")
        if name not in chip.energy:
            raise CostModelError(f"{chip.name}: no energy model '{name}' (have: "
                                 f"{', '.join(chip.energy) or 'none'})")
        self.chip, self.name = chip, name
        self.chain = [name] + ([chip.energy[name].events_from]
                               if chip.energy[name].events_from else [])

    def get(self, field: str) -> tuple[Optional[float], str, str]:
        """(value, evidence, source key); value None when no model in the chain gives it."""
        for name in self.chain:
            value = getattr(self.chip.energy[name], field)
            if value is not None:
                key = f"energy.{name}.{field}"
                return value, self.chip.sources[key].evidence, key
        return None, "", ""


def estimate(chip: Chip, counters, *, steps_per_inference: int, batch: int = 1,
             placement: Optional[Mapping[str, Sequence[tuple[int, int, int]]]] = None,
             hops: Optional[Mapping[str, object]] = None,
             connections: Optional[Mapping[str, tuple[str, str]]] = None,
             model: Optional[str] = None) -> CostReport:
    """Cost a run whose ``counters`` cover ``batch`` inputs of whole inferences (see the
    module doc); ``model`` names an ``[energy.*]`` table (default: the chip's)."""
    figures = _Figures(chip, model)
    steps = _steps(counters)
    if steps_per_inference < 1 or steps % steps_per_inference:
        raise CostModelError(f"{chip.name}: {steps} counted steps are not whole inferences of "
                             f"{steps_per_inference} steps")
    inferences = batch * steps / steps_per_inference
    ends = _connection_ends(counters, connections)
    placement = _placement(chip, counters, batch, placement)
    per_core = _core_activity(counters, placement, ends)  # rows of (steps,) arrays
    work = _core_work(chip, per_core) / batch  # (cores, steps)
    overhead_time, time_source = _overhead_time(chip, figures)
    step_times = overhead_time + work.max(axis=0)
    inference_time = float(step_times.sum()) * batch / inferences
    chips = len({chip_id for rows in placement.values() for _, chip_id, _ in rows})
    cores = sum(len(rows) for rows in placement.values())
    event_terms, layers, unpriced = _event_terms(figures, counters, ends, placement, hops,
                                                 inferences)
    fixed = _fixed_terms(figures, chips, steps_per_inference, inference_time)
    unpriced += [t for t in ("static", "overhead") if t not in {f.name for f in fixed}]
    core_costs = _core_costs(figures, per_core, work, inferences, batch)
    return CostReport(
        chip=chip.name, model=figures.name, steps_per_inference=steps_per_inference,
        inferences=inferences, chips=chips, cores=cores,
        step_time=inference_time / steps_per_inference, step_overhead_time=overhead_time,
        step_overhead_source=time_source,
        step_work_time=float(work.max(axis=0).mean()), inference_time=inference_time,
        static=sum(t.energy for t in fixed if t.name == "static"),
        overhead=sum(t.energy for t in fixed if t.name == "overhead"),
        events=sum(t.energy for t in event_terms), terms=tuple(fixed + event_terms),
        layers=tuple(layers), per_core=tuple(core_costs), unpriced=tuple(unpriced))


def _overhead_time(chip: Chip, figures: _Figures) -> tuple[float, str]:
    """The step overhead time: the model's fitted one, else its sync time, else the chip's
    barrier sync (a per-event-only model then gives the bare-hardware step)."""
    for field in ("step_overhead_time", "sync_time_max"):
        value, evidence, key = figures.get(field)
        if value is not None:
            return value, f"{evidence} ({key})"
    if chip.timing.barrier_sync_max is not None:
        key = "timing.barrier_sync_max"
        return chip.timing.barrier_sync_max, f"{chip.sources[key].evidence} ({key})"
    raise CostModelError(f"{chip.name}: energy model '{figures.name}' has no "
                         "step_overhead_time or sync time, nor the chip a barrier_sync_max")


def _steps(counters) -> int:
    lengths = {len(v) for kind in (counters.spikes, counters.synaptic_events,
                                   counters.neuron_updates) for v in kind.values()}
    if len(lengths) != 1:
        raise CostModelError(f"counters must all cover the same steps, got lengths "
                             f"{sorted(lengths)}")
    return lengths.pop()


def _connection_ends(counters, connections) -> dict[str, tuple[str, str]]:
    ends = {}
    for name in counters.synaptic_events:
        if connections and name in connections:
            ends[name] = tuple(connections[name])
            continue
        parts = name.split("#")[0].split("->")
        if len(parts) != 2:
            raise CostModelError(f"connection '{name}': name is not 'source->target'; pass "
                                 "connections={name: (source, target)}")
        ends[name] = (parts[0], parts[1])
    return ends


def _placement(chip: Chip, counters, batch: int, placement) -> dict[str, list[tuple]]:
    """The given placement checked against the counted populations, or the fewest cores."""
    neurons = list(counters.neuron_updates)
    if placement is not None:
        missing = [p for p in neurons if p not in placement]
        if missing:
            raise CostModelError(f"placement has no cores for population(s) {', '.join(missing)}")
        return {p: [tuple(int(x) for x in row) for row in placement[p]] for p in neurons}
    per_core = chip.core.neurons_per_core
    per_chip = chip.topology.cores_per_chip
    if per_core is None or per_chip is None:
        raise CostModelError(f"{chip.name}: needs core.neurons_per_core and "
                             "topology.cores_per_chip to place populations; pass placement=")
    out, core = {}, 0
    for p in neurons:
        size = int(counters.neuron_updates[p][0]) // batch
        n = max(1, math.ceil(size / per_core))
        bounds = np.linspace(0, size, n + 1).round().astype(int)
        out[p] = [(core + k, (core + k) // per_chip, int(bounds[k + 1] - bounds[k]))
                  for k in range(n)]
        core += n
    return out


def _core_activity(counters, placement, ends) -> list[dict]:
    """Per core: its population's share of updates and spikes, and of the synaptic ops of the
    connections into that population (per step, batch summed)."""
    into: dict[str, np.ndarray] = {}
    for name, (_, target) in ends.items():
        events = np.asarray(counters.synaptic_events[name], np.float64)
        into[target] = into.get(target, 0) + events
    rows = []
    for pop, cores in placement.items():
        size = sum(n for *_, n in cores)
        for core, chip_id, n in cores:
            share = n / size
            rows.append(dict(core=core, chip=chip_id, population=pop, neurons=n,
                             synaptic_ops=share * into.get(pop, np.zeros(1)),
                             neuron_updates=share * np.asarray(counters.neuron_updates[pop],
                                                               np.float64),
                             spikes=share * np.asarray(counters.spikes[pop], np.float64)))
    return rows


def _core_work(chip: Chip, rows: list[dict]) -> np.ndarray:
    """Event work time per core and step (cores, steps), batch summed."""
    t = chip.timing
    if t.synaptic_op is None or t.neuron_update is None:
        raise CostModelError(f"{chip.name}: needs timing.synaptic_op and timing.neuron_update "
                             "to give step times")
    update = t.neuron_update_inactive if t.neuron_update_inactive is not None \
        else t.neuron_update
    active_extra = t.neuron_update - update
    return np.array([r["synaptic_ops"] * t.synaptic_op + r["neuron_updates"] * update
                     + r["spikes"] * active_extra for r in rows])


def _neuron_prices(figures: _Figures) -> tuple[Optional[float], float, str, str]:
    """(energy per update, extra per spiking neuron, evidence, key) of the neuron updates."""
    inactive, evidence, key = figures.get("neuron_update_inactive")
    active, a_evidence, a_key = figures.get("neuron_update")
    if inactive is not None and active is not None:
        return inactive, active - inactive, evidence, key
    access, c_evidence, c_key = figures.get("neuron_access")
    if active is None and access is None:
        return None, 0.0, "", ""
    kinds = sorted({e for e in (a_evidence, c_evidence) if e})
    return (active or 0.0) + (access or 0.0), 0.0, "/".join(kinds), a_key or c_key


def _event_terms(figures, counters, ends, placement, hops, inferences):
    """The event terms per inference, the per-layer split and the unpriced term names."""
    totals = {k: float(np.sum(v)) / inferences for k, v in counters.spikes.items()}
    syn_e, syn_ev, syn_key = figures.get("synaptic_op")
    upd_e, extra_e, upd_ev, upd_key = _neuron_prices(figures)
    out_e, out_ev, out_key = figures.get("spike_out")
    msg_e, msg_ev, msg_key = figures.get("message_out")
    if msg_e is None:
        msg_e, msg_ev, msg_key = figures.get("spike_local")
    hop_e, hop_ev, hop_key = _hop_price(figures)
    layers, sums = [], {k: 0.0 for k in ("synaptic_ops", "neuron_updates", "spikes_out",
                                         "messages", "hops")}
    for pop in counters.neuron_updates:
        updates = float(np.sum(counters.neuron_updates[pop])) / inferences
        spikes = totals[pop]
        energy = {"neuron_updates": _price(upd_e, updates) + _price(extra_e, spikes),
                  "spikes_out": _price(out_e, spikes)}
        sums["neuron_updates"] += updates
        sums["spikes_out"] += spikes
        layers.append(LayerCost(pop, "population", len(placement[pop]),
                                {"neuron_updates": updates, "spikes": spikes}, energy))
    for name, (source, target) in ends.items():
        ops = float(np.sum(counters.synaptic_events[name])) / inferences
        messages = totals.get(source, 0.0) * len(placement.get(target, ()))
        hop_count = float(np.sum(hops[name])) / inferences if hops and name in hops else 0.0
        for key, value in (("synaptic_ops", ops), ("messages", messages), ("hops", hop_count)):
            sums[key] += value
        energy = {"synaptic_ops": _price(syn_e, ops), "messages": _price(msg_e, messages),
                  "hops": _price(hop_e, hop_count)}
        layers.append(LayerCost(name, "connection", len(placement.get(target, ())),
                                {"synaptic_ops": ops, "messages": messages, "hops": hop_count},
                                energy))
    prices = {"synaptic_ops": (syn_e, syn_ev, syn_key), "neuron_updates": (upd_e, upd_ev,
                                                                           upd_key),
              "spikes_out": (out_e, out_ev, out_key), "messages": (msg_e, msg_ev, msg_key),
              "hops": (hop_e if hops else None, hop_ev, hop_key)}
    terms, unpriced = [], []
    for name, (unit, evidence, key) in prices.items():
        if unit is None:
            unpriced.append(name if name != "hops" or hops else "hops (no routes given)")
            continue
        energy = sum(lay.energy[name] for lay in layers if name in lay.energy)
        terms.append(Term(name, energy, sums[name], unit, evidence, key))
    return terms, layers, unpriced


def _hop_price(figures) -> tuple[Optional[float], str, str]:
    """Mean of the east-west and north-south hop energies (routes give no direction)."""
    found = [figures.get(f) for f in ("hop_ew", "hop_ns")]
    found = [f for f in found if f[0] is not None]
    if not found:
        return None, "", ""
    return (sum(f[0] for f in found) / len(found), "/".join(sorted({f[1] for f in found})),
            ",".join(f[2] for f in found))


def _price(unit: Optional[float], count: float) -> float:
    return 0.0 if unit is None else unit * count


def _fixed_terms(figures, chips: int, steps: int, inference_time: float) -> list[Term]:
    terms = []
    power, evidence, key = figures.get("static_power")
    if power is not None:
        terms.append(Term("static", power * chips * inference_time, chips * inference_time,
                          power, evidence, key))
    step_e, evidence, key = figures.get("step_overhead_energy")
    if step_e is not None:
        terms.append(Term("overhead", step_e * chips * steps, chips * steps, step_e,
                          evidence, key))
    return terms


def _core_costs(figures, rows, work, inferences, batch) -> list[CoreCost]:
    """Each core's events and event energy per inference, and its busy time."""
    syn_e = figures.get("synaptic_op")[0] or 0.0
    upd_e, extra_e, _, _ = _neuron_prices(figures)
    out_e = figures.get("spike_out")[0] or 0.0
    out = []
    for r, busy in zip(rows, work):
        ops, updates, spikes = (float(np.sum(r[k])) / inferences
                                for k in ("synaptic_ops", "neuron_updates", "spikes"))
        energy = ops * syn_e + updates * (upd_e or 0.0) + spikes * (extra_e + out_e)
        out.append(CoreCost(r["core"], r["chip"], r["population"], r["neurons"], ops, updates,
                            spikes, energy, float(busy.sum()) * batch / inferences))
    return out
