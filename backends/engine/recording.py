"""What runs produce.

- ``Trace``: the raw result of one engine run of a ``Network`` (spikes and probed state per
  population, ``Counters``), in the network's own populations and steps.
- ``Recording``: what every target's ``simulate`` returns (the reference included), in the
  graph's terms: values per Output node, recorded states, spike counts; emulated targets add
  the engine's counters and per-neuron activity for the mapping and cost models.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np


BUILTIN_KINDS = ("spikes", "synaptic_events", "neuron_updates")


def kind_property(kind: str) -> property:
    """One counter kind as an attribute: ``counters.spikes`` is ``counters.counts["spikes"]``."""
    def get(self) -> dict[str, np.ndarray]:
        return self.counts[kind]

    def put(self, per_name: Mapping[str, np.ndarray]) -> None:
        self.counts[kind] = dict(per_name)

    return property(get, put)


class Counters:
    """Per-step activity, summed over the batch: ``counts[kind][name]`` is an int64 array
    shaped (steps,) for one population or connection ``name``.

    The engine counts three kinds for every run (also attributes of the same names):
    spikes[population]: spikes emitted at the step (input populations included).
    synaptic_events[connection]: spikes sent at the step x the sender's fan-out nonzeros (each
        synapse a spike traverses, counted when it is sent, whatever its delay).
    neuron_updates[population]: neuron state updates at the step (every neuron of a neuron
        population, every step: the chips emulated here update synchronously).
    Process and synapse models add their own kinds (``ring_buffer_saturations``,
    ``collisions``, ``adc_conversions``, ...) through their runners' ``counts()``; a cost model
    reads the kinds it prices and lists the others.
    """

    def __init__(self, spikes: Mapping[str, np.ndarray] | None = None,
                 synaptic_events: Mapping[str, np.ndarray] | None = None,
                 neuron_updates: Mapping[str, np.ndarray] | None = None,
                 **kinds: Mapping[str, np.ndarray]):
        given = dict(spikes=spikes, synaptic_events=synaptic_events,
                     neuron_updates=neuron_updates, **kinds)
        self.counts: dict[str, dict[str, np.ndarray]] = {
            kind: dict(per_name or {}) for kind, per_name in given.items()}

    spikes = kind_property("spikes")
    synaptic_events = kind_property("synaptic_events")
    neuron_updates = kind_property("neuron_updates")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.counts)

    def add(self, kind: str, name: str, per_step: np.ndarray) -> None:
        """Record one more counter; a (kind, name) is counted once."""
        per_name = self.counts.setdefault(kind, {})
        if name in per_name:
            raise ValueError(f"counter '{kind}' of '{name}' is already recorded")
        per_name[name] = np.asarray(per_step, np.int64)

    def totals(self) -> dict[str, int]:
        """Run totals of each counter kind, over all populations or connections."""
        return {kind: int(sum(int(v.sum()) for v in per_name.values()))
                for kind, per_name in self.counts.items()}

    @classmethod
    def summed(cls, parts: Sequence["Counters"]) -> "Counters":
        """The counters of runs over disjoint slices of one batch, added (same steps)."""
        first = parts[0]
        return cls(**{kind: {name: sum(p.counts[kind][name] for p in parts)
                             for name in per_name} for kind, per_name in first.counts.items()})

    def __eq__(self, other) -> bool:
        if not isinstance(other, Counters) or other.counts.keys() != self.counts.keys():
            return NotImplemented if not isinstance(other, Counters) else False
        return all(mine.keys() == other.counts[kind].keys()
                   and all(np.array_equal(v, other.counts[kind][k]) for k, v in mine.items())
                   for kind, mine in self.counts.items())

    def __repr__(self) -> str:
        return f"Counters({', '.join(f'{k}={sorted(v)}' for k, v in self.counts.items())})"


@dataclass
class Trace:
    """One engine run. spikes: bool (steps, batch, size) per population; states:
    (steps, batch, size) per probed "population.var" in the network's dtype, recorded after
    the step's update and reset."""

    spikes: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    counters: Counters
    steps: int
    batch: int


@dataclass
class Recording:
    """What a target's simulation produced. Arrays are shaped (steps, batch, *shape)."""

    outputs: dict[str, np.ndarray]  # per Output node
    states: dict[str, np.ndarray] = field(default_factory=dict)  # "node.var" for recorded nodes
    spike_counts: dict[str, int] = field(default_factory=dict)  # per spiking node, all steps
    steps: int = 0
    batch: int = 0
    # Emulated chips only: the engine's counters over every step run (alignment steps too) and
    # per population or input, per-neuron spike totals (what routing and cost models read).
    counters: Optional[Counters] = None
    activity: dict[str, np.ndarray] = field(default_factory=dict)
