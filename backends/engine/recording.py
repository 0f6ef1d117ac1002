"""What runs produce.

- ``Trace``: the raw result of one engine run of a ``Network`` (spikes and probed state per
  population, ``Counters``), in the network's own populations and steps.
- ``Recording``: what every target's ``simulate`` returns (the reference included), in the
  graph's terms: values per Output node, recorded states, spike counts; emulated targets add
  the engine's counters and per-neuron activity for the mapping and cost models.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass
class Counters:
    """Per-step activity, summed over the batch; every array is shaped (steps,).

    spikes[population]: spikes emitted at the step (input populations included).
    synaptic_events[connection]: spikes sent at the step x the sender's fan-out nonzeros (each
        synapse a spike traverses, counted when it is sent, whatever its delay).
    neuron_updates[population]: neuron state updates at the step (every neuron of a neuron
        population, every step: the chips emulated here update synchronously).
    """

    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    synaptic_events: dict[str, np.ndarray] = field(default_factory=dict)
    neuron_updates: dict[str, np.ndarray] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """Run totals of each counter kind, over all populations or connections."""
        return {kind: int(sum(int(v.sum()) for v in getattr(self, kind).values()))
                for kind in ("spikes", "synaptic_events", "neuron_updates")}


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
