"""What an engine run produces: spikes, probed state and the counters cost models read."""
from __future__ import annotations

from dataclasses import dataclass, field

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
class Recording:
    """spikes: bool (steps, batch, size) per population; states: int64 (steps, batch, size)
    per probed "population.var", recorded after the step's update and reset."""

    spikes: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    counters: Counters
    steps: int
    batch: int
