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
                + spiking neurons * (timing.neuron_update - timing.neuron_update_inactive
                                     + timing.spike_local)]

A *structured* model (one that gives ``management_time``: Loihi's ``calibrated``) replaces
the one fitted ``step_overhead_time``/``step_overhead_energy`` by named parts, each a figure
of the chip model (``cost_structure``): management time, the barrier growing with the tiles
and chips in use, and the host I/O of the ``deployment`` (streamed / preloaded / bias); its
energy adds ``overhead`` (here management_power x chips x T_inference) and ``host_io`` (per
streamed step) to static and events. Its report carries the leave-one-out error bands of
the calibration (``snnc.hw_models.calibrate``) and warns when the network lies far outside
the calibrated cores, steps or activity.

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

from . import cost_events as events
from . import cost_structure as structure
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
             model: Optional[str] = None, deployment: Optional[str] = None,
             synapse_kinds: Optional[Mapping[str, str]] = None) -> CostReport:
    """Cost a run whose ``counters`` cover ``batch`` inputs of whole inferences (see the
    module doc); ``model`` names an ``[energy.*]`` table (default: the chip's);
    ``deployment`` how input reaches the chip (``cost_structure.DEPLOYMENTS``, default
    preloaded); ``synapse_kinds`` maps connections to dense/sparse/conv (default dense)."""
    clock = _CLOCKS.get(chip.step_semantics)
    if clock is None:
        raise CostModelError(f"{chip.name}: no cost model for step semantics "
                             f"'{chip.step_semantics}' yet (have: {', '.join(_CLOCKS)})")
    figures = _Figures(chip, model)
    deployment = structure.check_deployment(chip.name, deployment)
    steps = _steps(counters)
    if steps_per_inference < 1 or steps % steps_per_inference:
        raise CostModelError(f"{chip.name}: {steps} counted steps are not whole inferences of "
                             f"{steps_per_inference} steps")
    inferences = batch * steps / steps_per_inference
    ends = _connection_ends(counters, connections)
    placement = _placement(chip, counters, batch, placement)
    per_core = _core_activity(chip, counters, placement, ends, synapse_kinds)  # (steps,) rows
    parts = (structure.step_parts(chip, figures, placement, deployment)
             if structure.is_structured(figures) else None)
    work, step_times, overhead_time, time_source = clock(chip, figures, per_core, batch, steps,
                                                         parts)
    inference_time = float(step_times.sum()) * batch / inferences
    chips = len({chip_id for rows in placement.values() for _, chip_id, _ in rows})
    cores = sum(len(rows) for rows in placement.values())
    prices = events.prices(figures)
    event_terms, layers, unpriced = events.event_terms(prices, counters, ends, placement, hops,
                                                       inferences, synapse_kinds)
    fixed = _fixed_terms(figures, chips, cores, steps_per_inference, inference_time)
    if parts is not None:
        fixed += structure.fixed_energy_terms(figures, chips, steps_per_inference,
                                              inference_time, deployment)
    unpriced += [t for t in ("static", "overhead") if t not in {f.name for f in fixed}]
    bands, warnings = structure.uncertainty(figures, cores, steps_per_inference,
                                            _mean_rate(counters), deployment)
    return CostReport(
        chip=chip.name, model=figures.name, steps_per_inference=steps_per_inference,
        inferences=inferences, chips=chips, cores=cores,
        step_time=inference_time / steps_per_inference, step_overhead_time=overhead_time,
        step_overhead_source=time_source,
        step_work_time=float(work.max(axis=0, initial=0.0).mean()),
        inference_time=inference_time,
        static=sum(t.energy for t in fixed if t.name == "static"),
        overhead=sum(t.energy for t in fixed if t.name in _OVERHEAD_TERMS),
        active=sum(t.energy for t in fixed if t.name == "active"),
        step_semantics=chip.step_semantics,
        events=sum(t.energy for t in event_terms), terms=tuple(fixed + event_terms),
        layers=tuple(layers), per_core=tuple(events.core_costs(prices, per_core, work,
                                                               inferences, batch)),
        unpriced=tuple(unpriced), deployment=deployment,
        step_parts=tuple(parts or ()), error_bands=bands, warnings=warnings)


# Fixed terms that CostReport.overhead sums: the fitted per-step overhead of an unstructured
# model, the management power and host I/O of a structured one.
_OVERHEAD_TERMS = ("overhead", "host_io")


def _mean_rate(counters) -> float:
    """Spikes per neuron per step over the neuron populations (host inputs excluded)."""
    updates = sum(float(np.sum(v)) for v in counters.neuron_updates.values())
    spikes = sum(float(np.sum(counters.spikes.get(p, 0))) for p in counters.neuron_updates)
    return spikes / updates if updates else 0.0


def _barrier_steps(chip: Chip, figures: _Figures, per_core: list[dict], batch: int, steps: int,
                   parts=None):
    """(work per core and step, step times, overhead time, its source): a step lasts the
    overhead (the structured ``parts``, else the model's one figure) plus the slowest core's
    work."""
    work = _core_work(chip, per_core) / batch  # (cores, steps)
    if parts is not None:
        overhead_time = sum(p.seconds for p in parts)
        time_source = " + ".join(p.name for p in parts)  # each listed with its source
    else:
        overhead_time, time_source = _overhead_time(chip, figures)
    return work, overhead_time + work.max(axis=0), overhead_time, time_source


def _timer_steps(chip: Chip, figures: _Figures, per_core: list[dict], batch: int, steps: int,
                 parts=None):
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


def _core_activity(chip, counters, placement, ends, synapse_kinds=None) -> list[dict]:
    """Per core: its population's share of updates and spikes, and of the synaptic ops of the
    connections into that population (per step, batch summed), with the time those ops take
    at the per-op time of each connection's kind (``timing.synaptic_op_sparse``/``_conv``
    where the chip gives them, else ``timing.synaptic_op``)."""
    into: dict[str, np.ndarray] = {}
    busy: dict[str, np.ndarray] = {}
    for name, (_, target) in ends.items():
        events = np.asarray(counters.synaptic_events[name], np.float64)
        into[target] = into.get(target, 0) + events
        busy[target] = busy.get(target, 0) + events * _op_time(chip, name, synapse_kinds)
    rows = []
    for pop, cores in placement.items():
        size = sum(n for *_, n in cores)
        for core, chip_id, n in cores:
            share = n / size
            rows.append(dict(core=core, chip=chip_id, population=pop, neurons=n,
                             synaptic_ops=share * into.get(pop, np.zeros(1)),
                             synaptic_time=share * busy.get(pop, np.zeros(1)),
                             neuron_updates=share * np.asarray(counters.neuron_updates[pop],
                                                               np.float64),
                             spikes=share * np.asarray(counters.spikes[pop], np.float64)))
    return rows


def _op_time(chip: Chip, connection: str, synapse_kinds) -> float:
    kind = (synapse_kinds or {}).get(connection, "dense")
    t = chip.timing
    own = getattr(t, f"synaptic_op_{kind}", None) if kind != "dense" else None
    base = t.synaptic_op if t.synaptic_op is not None else 0.0
    return own if own is not None else base


def _core_work(chip: Chip, rows: list[dict]) -> np.ndarray:
    """Event work time per core and step (cores, steps), batch summed."""
    t = chip.timing
    if t.synaptic_op is None or t.neuron_update is None:
        raise CostModelError(f"{chip.name}: needs timing.synaptic_op and timing.neuron_update "
                             "to give step times")
    update = t.neuron_update_inactive if t.neuron_update_inactive is not None \
        else t.neuron_update
    active_extra = t.neuron_update - update
    send = t.spike_local or 0.0  # a spike leaving the core, where the chip times it
    return np.array([r["synaptic_time"] + r["neuron_updates"] * update
                     + r["spikes"] * (active_extra + send) for r in rows])


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


