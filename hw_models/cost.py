"""Energy and step time of a run, from the engine's counters and the chip model, by what one
step is on the chip (``chip.step_semantics``):

- ``barrier`` (Loihi): a step ends when the slowest core reaches the mesh-wide barrier, so
  its length follows the load (below);
- ``timer`` (SpiNNaker): every core ticks on a fixed real-time timer, so every step lasts
  ``timing.timestep`` whatever the load (work that overruns it is dropped on the chip; the
  per-core work, where the chip gives per-event times, is reported to show the margin);
- ``clock`` (SFQ) and ``read`` (RRAM) have no cost model yet: ``CostModelError``.

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

and T_inference is the sum of T_step over the inference's steps (timer: steps x timestep).
Where the model gives an inactive neuron-update figure, neurons that spiked are counted as the
active ones. A model that gives ``core_active_power`` (SpiNNaker) adds
``active = core_active_power * cores * T_inference``, the running cores' power beyond idle.

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
  core): an upper bound when a neuron reaches only some of those cores. They are counted once
  per (source population, target population) pair, on the first of its connections (in the
  counters' order; the others show 0 messages): a spike reaches a core once whatever the
  connections or receptors it feeds there (SpiNNaker's lowering splits each matrix into an
  excitatory and an inhibitory connection: one packet per spike and target core for both).
  Priced as the model's ``message_out``, else ``spike_local``, else ``packet`` (a packet
  through one router); a hop as the mean of ``hop_ew``/``hop_ns``, else ``packet``.

A figure the model leaves out (None) is unknown, never zero: its term is listed in
``unpriced`` and left out of the sums. Every term carries the evidence kind of its figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from snnc.errors import SnncError

from .cost_report import CoreCost, CostReport, LayerCost, Term
from .schema import Chip

__all__ = ["CoreCost", "CostModelError", "CostReport", "LayerCost", "Term", "estimate"]


class CostModelError(SnncError, ValueError):
    """Counters, placement or chip model cannot be costed; the message names what and why."""


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
    clock = _CLOCKS.get(chip.step_semantics)
    if clock is None:
        raise CostModelError(f"{chip.name}: no cost model for step semantics "
                             f"'{chip.step_semantics}' yet (have: {', '.join(_CLOCKS)})")
    figures = _Figures(chip, model)
    steps = _steps(counters)
    if steps_per_inference < 1 or steps % steps_per_inference:
        raise CostModelError(f"{chip.name}: {steps} counted steps are not whole inferences of "
                             f"{steps_per_inference} steps")
    inferences = batch * steps / steps_per_inference
    ends = _connection_ends(counters, connections)
    placement = _placement(chip, counters, batch, placement)
    per_core = _core_activity(counters, placement, ends)  # rows of (steps,) arrays
    work, step_times, overhead_time, time_source = clock(chip, figures, per_core, batch, steps)
    inference_time = float(step_times.sum()) * batch / inferences
    chips = len({chip_id for rows in placement.values() for _, chip_id, _ in rows})
    cores = sum(len(rows) for rows in placement.values())
    prices = _prices(figures)
    event_terms, layers, unpriced = _event_terms(prices, counters, ends, placement, hops,
                                                 inferences)
    fixed = _fixed_terms(figures, chips, cores, steps_per_inference, inference_time)
    unpriced += [t for t in ("static", "overhead") if t not in {f.name for f in fixed}]
    core_costs = _core_costs(prices, per_core, work, inferences, batch)
    return CostReport(
        chip=chip.name, model=figures.name, steps_per_inference=steps_per_inference,
        inferences=inferences, chips=chips, cores=cores,
        step_time=inference_time / steps_per_inference, step_overhead_time=overhead_time,
        step_overhead_source=time_source,
        step_work_time=float(work.max(axis=0, initial=0.0).mean()),
        inference_time=inference_time,
        static=sum(t.energy for t in fixed if t.name == "static"),
        overhead=sum(t.energy for t in fixed if t.name == "overhead"),
        active=sum(t.energy for t in fixed if t.name == "active"),
        step_semantics=chip.step_semantics,
        events=sum(t.energy for t in event_terms), terms=tuple(fixed + event_terms),
        layers=tuple(layers), per_core=tuple(core_costs), unpriced=tuple(unpriced))


def _barrier_steps(chip: Chip, figures: _Figures, per_core: list[dict], batch: int, steps: int):
    """(work per core and step, step times, overhead time, its source): a step lasts the
    overhead plus the slowest core's work."""
    work = _core_work(chip, per_core) / batch  # (cores, steps)
    overhead_time, time_source = _overhead_time(chip, figures)
    return work, overhead_time + work.max(axis=0), overhead_time, time_source


def _timer_steps(chip: Chip, figures: _Figures, per_core: list[dict], batch: int, steps: int):
    """The same for a timer-driven chip: every step lasts ``timing.timestep``; the work per
    core (where the chip gives per-event times; else zeros) only shows the margin."""
    t = chip.timing
    if t.timestep is None:
        raise CostModelError(f"{chip.name}: a timer-driven chip needs timing.timestep")
    known = t.synaptic_op is not None and t.neuron_update is not None
    work = _core_work(chip, per_core) / batch if known else np.zeros((len(per_core), steps))
    key = "timing.timestep"
    return (work, np.full(steps, t.timestep), t.timestep,
            f"{chip.sources[key].evidence} ({key}, fixed by the timer)")


_CLOCKS = {"barrier": _barrier_steps, "timer": _timer_steps}


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
    lengths = {len(v) for per_name in counters.counts.values() for v in per_name.values()}
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


@dataclass(frozen=True)
class _Price:
    """Joules per event (None: the model gives no figure), with evidence and source key."""

    unit: Optional[float]
    evidence: str = ""
    key: str = ""

    def of(self, count: float) -> float:
        return 0.0 if self.unit is None else self.unit * count


def _prices(figures: _Figures) -> dict[str, _Price]:
    """The price of each event term. ``spiking`` is the extra of an active (spiking) neuron's
    update over an inactive one, where the model tells them apart."""
    get = lambda field: _Price(*figures.get(field))  # noqa: E731
    active, inactive = get("neuron_update"), get("neuron_update_inactive")
    if active.unit is not None and inactive.unit is not None:
        update, spiking = inactive, _Price(active.unit - inactive.unit)
    else:  # one figure per update, plus the state access where the model splits it out
        access = get("neuron_access")
        parts = [x for x in (active, access) if x.unit is not None]
        update = _Price(sum(x.unit for x in parts), "/".join(sorted({x.evidence for x in parts})),
                        ",".join(x.key for x in parts)) if parts else _Price(None)
        spiking = _Price(0.0)
    message = _first(get("message_out"), get("spike_local"), get("packet"))
    hops = [x for x in (get("hop_ew"), get("hop_ns")) if x.unit is not None]
    hop = _Price(sum(x.unit for x in hops) / len(hops),  # routes give no direction: the mean
                 "/".join(sorted({x.evidence for x in hops})), ",".join(x.key for x in hops)) \
        if hops else get("packet")  # SpiNNaker: a packet's energy per router it crosses
    return {"synaptic_ops": get("synaptic_op"), "neuron_updates": update, "spiking": spiking,
            "spikes_out": get("spike_out"), "messages": message, "hops": hop}


def _first(*prices: _Price) -> _Price:
    """The first price the model gives."""
    return next((p for p in prices if p.unit is not None), prices[-1])


def _event_terms(prices, counters, ends, placement, hops, inferences):
    """The event terms per inference, the per-layer split and the unpriced term names."""
    per_inference = lambda a: float(np.sum(a)) / inferences  # noqa: E731
    spikes = {k: per_inference(v) for k, v in counters.spikes.items()}
    layers = []
    for pop, updates in counters.neuron_updates.items():
        counts = {"neuron_updates": per_inference(updates), "spikes_out": spikes[pop]}
        energy = {"neuron_updates": prices["neuron_updates"].of(counts["neuron_updates"])
                  + prices["spiking"].of(spikes[pop]),
                  "spikes_out": prices["spikes_out"].of(spikes[pop])}
        layers.append(LayerCost(pop, "population", len(placement[pop]), counts, energy))
    messaged = set()  # (source, target) pairs whose messages are counted
    for name, (source, target) in ends.items():
        first = (source, target) not in messaged
        messaged.add((source, target))
        counts = {"synaptic_ops": per_inference(counters.synaptic_events[name]),
                  "messages": spikes.get(source, 0.0) * len(placement.get(target, ()))
                  if first else 0.0,
                  "hops": per_inference(hops[name]) if hops and name in hops else 0.0}
        energy = {k: prices[k].of(v) for k, v in counts.items()}
        layers.append(LayerCost(name, "connection", len(placement.get(target, ())), counts,
                                energy))
    terms, unpriced = [], []
    for name in ("synaptic_ops", "neuron_updates", "spikes_out", "messages", "hops"):
        price = prices[name]
        if name == "hops" and not hops:
            unpriced.append("hops (no routes given)")
        elif price.unit is None:
            unpriced.append(name)
        else:
            found = [lay for lay in layers if name in lay.events]
            terms.append(Term(name, sum(lay.energy[name] for lay in found),
                              sum(lay.events[name] for lay in found), price.unit,
                              price.evidence, price.key))
    return terms, layers, unpriced


def _fixed_terms(figures, chips: int, cores: int, steps: int, inference_time: float
                 ) -> list[Term]:
    """Static power over the inference and the per-step overhead, for the chips in use; the
    active cores' power over the inference, where the model gives it."""
    terms = []
    power, evidence, key = figures.get("static_power")
    if power is not None:
        terms.append(Term("static", power * chips * inference_time, chips * inference_time,
                          power, evidence, key))
    step_e, evidence, key = figures.get("step_overhead_energy")
    if step_e is not None:
        terms.append(Term("overhead", step_e * chips * steps, chips * steps, step_e,
                          evidence, key))
    power, evidence, key = figures.get("core_active_power")
    if power is not None:
        terms.append(Term("active", power * cores * inference_time, cores * inference_time,
                          power, evidence, key))
    return terms


def _core_costs(prices, rows, work, inferences, batch) -> list[CoreCost]:
    """Each core's events and their energy per inference (messages and hops, which belong to
    links, excluded), and its busy time."""
    out = []
    for r, busy in zip(rows, work):
        ops, updates, spikes = (float(np.sum(r[k])) / inferences
                                for k in ("synaptic_ops", "neuron_updates", "spikes"))
        energy = (prices["synaptic_ops"].of(ops) + prices["neuron_updates"].of(updates)
                  + prices["spiking"].of(spikes) + prices["spikes_out"].of(spikes))
        out.append(CoreCost(r["core"], r["chip"], r["population"], r["neurons"], ops, updates,
                            spikes, energy, float(busy.sum()) * batch / inferences))
    return out
