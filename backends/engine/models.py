"""The protocols a target implements to run on the engine: process (neuron) models and
synapse models, and the live runners they start for one run.

Numbers: a network computes in its ``dtype`` (``Network.dtype``): int64 (the default; every
sum is exact and a process model narrows where its hardware does) or float64 (float process
models: conductances, analog currents). Below, "numbers" are arrays of that dtype.

Input ports: a neuron model may declare ``ports`` (e.g. ``("exc", "inh")``), the receptors its
input arrives on; every connection into it names one (``Connection.port``). A model with two or
more ports receives its input stacked along an axis of ports, in the order of ``ports``:
``step`` gets (ports, batch, size), ``scan`` gets (steps, ports, batch, size). A model without
``ports`` (or with one) gets the plain sum, as before: (batch, size) and (steps, batch, size).

Optional counters: a runner of either kind may define ``counts() -> Mapping[kind,
np.ndarray (steps,)]``, its own per-step counters summed over the batch (e.g.
``ring_buffer_saturations``, ``collisions``, ``adc_conversions``). The engine reads it once
after the run into ``Trace.counters.counts[kind][name]`` (population or connection name).
"""
from __future__ import annotations

from typing import Collection, Mapping, Protocol

import numpy as np


class NeuronRunner(Protocol):
    """The live state of one population during a run: ``batch`` x ``size`` neurons.

    ``step`` and ``scan`` are called over consecutive steps from 0, in time order, so a
    runner may keep a cursor (for its own counters)."""

    def step(self, a_in: np.ndarray) -> np.ndarray:
        """One step: input numbers (batch, size) -> bool spikes (batch, size); state advances."""

    def scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        """Several steps at once: input (steps, batch, size) -> bool spikes (steps, batch,
        size) and traces (steps, batch, size) of the ``probe`` variables. Must give the same
        result as calling ``step`` once per step."""

    def state(self, var: str) -> np.ndarray:
        """A copy of one state variable (batch, size), in the network's dtype."""


class NeuronModel(Protocol):
    """A process model: the per-step arithmetic of a population's neurons. Optional
    attribute ``ports: tuple[str, ...]`` (see the module doc)."""

    state_vars: tuple[str, ...]

    def start(self, size: int, batch: int, input_bound: int) -> NeuronRunner:
        """Initial state for ``batch`` independent copies. ``input_bound`` bounds |input| of
        every step (of every port), so the model can prove which overflow checks it may skip."""


class SynapseRunner(Protocol):
    """A synapse model's live state for one run of one connection (see ``SynapseModel.start``).

    Delivery order: ``deliver`` is called once for every send step 0 .. steps-1, in
    ascending order, in calls of consecutive steps (how many per call depends on the
    schedule and on ``CHUNK``), sends whose arrival lies past the run included. So state
    carried from call to call sees the steps in time order, and a model that draws a fixed
    count of random numbers per element or per event (e.g. ``rng.random(shape)``) gives the
    same result under either schedule."""

    def deliver(self, partial: np.ndarray, sent: np.ndarray, first_step: int) -> np.ndarray:
        """Partial sums (rows, batch, slots, n_out) of the spikes ``sent`` (rows, batch,
        n_in, bool) at steps first_step .. first_step + rows - 1 -> the delivered numbers,
        same shape (may work in place)."""


class SynapseModel(Protocol):
    """How one partial sum (per send step, delay and target neuron) becomes the delivered value.

    Stateless models define ``apply``. A model with state or randomness defines ``start``
    instead: the engine calls it once per run and delivers through the runner it returns."""

    def apply(self, partial: np.ndarray) -> np.ndarray:
        """Partial sums -> delivered numbers (may work in place)."""

    def bound(self, magnitude: int, slots: int) -> int:
        """Upper bound on |sum of ``slots`` delivered values| whose partial sums add up to at
        most ``magnitude`` in absolute value."""

    # Optional: start(synapses, steps, batch, rng) -> SynapseRunner, with ``rng`` a
    # numpy.random.Generator of its own per connection, derived from ``run(..., seed=)`` and
    # the connection's name (``connection_rng``).


class Identity:
    """Deliver partial sums unchanged."""

    def apply(self, partial: np.ndarray) -> np.ndarray:
        return partial

    def bound(self, magnitude: int, slots: int) -> int:
        return magnitude


IDENTITY = Identity()


def model_counts(runner) -> Mapping[str, np.ndarray]:
    """A runner's own counters, or none."""
    return runner.counts() if hasattr(runner, "counts") else {}
