"""The engine's data model: a lowered program as integer populations and connections.

A ``Network`` is what every emulated target lowers a graph to:

- ``Population(name, size, model)``: ``size`` neurons that share one process model (the neuron
  arithmetic of a target, e.g. Lava's bit-accurate LIF). ``model=None`` marks an input
  population, whose spikes are given for every step (like Lava's ``io.source.RingBuffer``).
- ``Connection(name, source, target, synapses, latency, model)``: integer synapses (see
  ``synapses.Synapses``; each synapse has its own delay d >= 0 in steps). A spike that ``source``
  emits at step t reaches ``target`` at step ``t + latency + d``. Every step and every delay
  slot, the synapses of one delay that saw a spike sum to one integer *partial sum* per target
  neuron; ``model.apply`` maps each partial sum to what is delivered (Loihi: the weight-exponent
  shift). A target's input at step t is the int64 sum of everything delivered at t.

Integers are int64 throughout; a process model narrows them where its hardware does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Protocol

import numpy as np

from snnc.errors import GraphError

from .synapses import Synapses


class NeuronRunner(Protocol):
    """The live state of one population during a run: ``batch`` x ``size`` neurons."""

    def step(self, a_in: np.ndarray) -> np.ndarray:
        """One step: int64 input (batch, size) -> bool spikes (batch, size); state advances."""

    def scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        """All steps at once: int64 input (steps, batch, size) -> bool spikes (steps, batch,
        size) and int64 traces (steps, batch, size) of the ``probe`` variables. Must give the
        same result as calling ``step`` once per step."""

    def state(self, var: str) -> np.ndarray:
        """A copy of one state variable as int64 (batch, size)."""

    # Optional: ``counts() -> Mapping[kind, np.ndarray (steps,)]``, the runner's own per-step
    # counters summed over the batch (e.g. ``ring_buffer_saturations``), read once after the
    # run into ``Trace.counters`` under the population's name. ``step`` and ``scan`` are
    # called over consecutive steps from 0, in time order, so a runner can keep a cursor.


class NeuronModel(Protocol):
    """A process model: the per-step integer arithmetic of a population's neurons."""

    state_vars: tuple[str, ...]

    def start(self, size: int, batch: int, input_bound: int) -> NeuronRunner:
        """Initial state for ``batch`` independent copies. ``input_bound`` bounds |input| of
        every step, so the model can prove which overflow checks it may skip."""


class SynapseModel(Protocol):
    """How one partial sum (per send step, delay and target neuron) becomes the delivered value."""

    def apply(self, partial: np.ndarray) -> np.ndarray:
        """int64 partial sums -> int64 delivered values (may work in place)."""

    def bound(self, magnitude: int, slots: int) -> int:
        """Upper bound on |sum of ``slots`` delivered values| whose partial sums add up to at
        most ``magnitude`` in absolute value."""


class Identity:
    """Deliver partial sums unchanged."""

    def apply(self, partial: np.ndarray) -> np.ndarray:
        return partial

    def bound(self, magnitude: int, slots: int) -> int:
        return magnitude


IDENTITY = Identity()


@dataclass(frozen=True)
class Population:
    name: str
    size: int
    model: NeuronModel | None = None  # None: an input population

    @property
    def is_input(self) -> bool:
        return self.model is None


@dataclass(frozen=True)
class Connection:
    name: str
    source: str
    target: str
    synapses: Synapses
    latency: int  # steps added to every synapse's delay: the chip model's, from the target
    model: SynapseModel = field(default=IDENTITY)

    def arrival_offsets(self) -> np.ndarray:
        """Steps from send to arrival, one per delay slot of ``synapses`` (ascending)."""
        return self.latency + self.synapses.delays


@dataclass(frozen=True)
class Network:
    populations: tuple[Population, ...]
    connections: tuple[Connection, ...] = ()

    def __post_init__(self) -> None:
        _check(self)

    @property
    def by_name(self) -> dict[str, Population]:
        return {p.name: p for p in self.populations}

    def incoming(self, target: str) -> list[Connection]:
        return [c for c in self.connections if c.target == target]

    def input_bound(self, target: str) -> int:
        """Upper bound on |input| of ``target`` at any step (sum over incoming connections)."""
        return sum(c.model.bound(c.synapses.max_abs_row_sum, len(c.synapses.delays))
                   for c in self.incoming(target))

    def blocks(self) -> list[list[str]]:
        """Neuron populations grouped for scheduling, in an order that respects every
        connection: one population, or all members of one cycle (strongly connected
        component). Within a block, members are ordered so that zero-delay connections run
        forward."""
        neurons = [p.name for p in self.populations if not p.is_input]
        succ = {n: set() for n in neurons}
        for c in self.connections:
            if c.source in succ:
                succ[c.source].add(c.target)
        return [_zero_delay_order(self, comp) for comp in _components_in_order(neurons, succ)]

    def cyclic(self, block: list[str]) -> bool:
        """Whether a block must run step by step: several members, or a self-connection."""
        return len(block) > 1 or any(c.source == c.target == block[0] for c in self.connections)


def _check(net: Network) -> None:
    pops = net.by_name
    if len(pops) != len(net.populations):
        raise GraphError("population names must be unique")
    if len({c.name for c in net.connections}) != len(net.connections):
        raise GraphError("connection names must be unique")
    for p in net.populations:
        if p.size < 1:
            raise GraphError(f"population '{p.name}': size must be positive, got {p.size}")
    for c in net.connections:
        for end in (c.source, c.target):
            if end not in pops:
                raise GraphError(f"connection '{c.name}': no population '{end}'")
        if pops[c.target].is_input:
            raise GraphError(f"connection '{c.name}': target '{c.target}' is an input population")
        want = (pops[c.target].size, pops[c.source].size)
        if (c.synapses.n_out, c.synapses.n_in) != want:
            raise GraphError(f"connection '{c.name}': synapses are {c.synapses.n_out}x"
                             f"{c.synapses.n_in}, populations need {want[0]}x{want[1]}")
        if c.latency < 0:
            raise GraphError(f"connection '{c.name}': latency must be >= 0, got {c.latency}")


def _components_in_order(nodes: list[str], succ: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components in topological order (Tarjan's algorithm emits them in
    reverse topological order; iterative, so deep chains do not hit the recursion limit)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    out.append(sorted(comp, key=nodes.index))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(succ[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out[::-1]


def _zero_delay_order(net: Network, block: list[str]) -> list[str]:
    """Order a block so that every zero-delay connection inside it goes forward."""
    members = set(block)
    edges = {(c.source, c.target) for c in net.connections
             if c.source in members and c.target in members and c.arrival_offsets()[0] == 0}
    order, left = [], list(block)
    while left:
        ready = [n for n in left if not any(t == n and s in left for s, t in edges)]
        if not ready:
            raise GraphError(f"populations {', '.join(left)} form a cycle of zero-delay "
                             "connections; some connection on it needs a delay >= 1")
        order.append(ready[0])
        left.remove(ready[0])
    return order
