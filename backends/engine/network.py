"""The engine's data model: a lowered program as populations and connections.

A ``Network`` is what every emulated target lowers a graph to:

- ``Population(name, size, model)``: ``size`` neurons that share one process model (the neuron
  arithmetic of a target, e.g. Lava's bit-accurate LIF). ``model=None`` marks an input
  population, whose spikes are given for every step (like Lava's ``io.source.RingBuffer``).
- ``Connection(name, source, target, synapses, latency, model, port)``: synapses (see
  ``synapses.Synapses``; each synapse has its own delay d >= 0 in steps). A spike that ``source``
  emits at step t reaches ``target`` at step ``t + latency + d``; ``latency`` is the chip's
  (the target reads it from its chip model). Every step and every delay slot, the synapses of
  one delay that saw a spike sum to one *partial sum* per target neuron; the synapse model
  maps each partial sum to what is delivered (Loihi: the weight-exponent shift). A target's
  input at step t (per port, see ``models``) is the sum of everything delivered at t.

``Network.dtype`` is what the network computes in: int64 (exact; a process model narrows
where its hardware does) or float64. The protocols are in ``models``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnc.errors import GraphError
from snnc.ir.graph import strongly_connected

from .models import IDENTITY, NeuronModel, SynapseModel
from .synapses import Synapses


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
    port: str | None = None  # the target model's input port; None: its only one

    def arrival_offsets(self) -> np.ndarray:
        """Steps from send to arrival, one per delay slot of ``synapses`` (ascending)."""
        return self.latency + self.synapses.delays


@dataclass(frozen=True)
class Network:
    populations: tuple[Population, ...]
    connections: tuple[Connection, ...] = ()
    dtype: type = np.int64  # or np.float64 (float process models)

    def __post_init__(self) -> None:
        _check(self)

    @property
    def by_name(self) -> dict[str, Population]:
        return {p.name: p for p in self.populations}

    def incoming(self, target: str) -> list[Connection]:
        return [c for c in self.connections if c.target == target]

    def ports(self, population: str) -> tuple[str, ...]:
        """The input ports of a neuron population's model (empty: one unnamed port)."""
        return tuple(getattr(self.by_name[population].model, "ports", ()))

    def port_index(self, c: Connection) -> int | None:
        """Where ``c`` delivers along the target's axis of ports; None: the model has fewer
        than two ports, so its input is the plain sum."""
        ports = self.ports(c.target)
        return ports.index(c.port) if len(ports) > 1 else None

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
        return [_zero_delay_order(self, comp) for comp in strongly_connected(neurons, succ)]

    def cyclic(self, block: list[str]) -> bool:
        """Whether a block must run step by step: several members, or a self-connection."""
        return len(block) > 1 or any(c.source == c.target == block[0] for c in self.connections)


def _check(net: Network) -> None:
    pops = net.by_name
    if np.dtype(net.dtype) not in (np.dtype(np.int64), np.dtype(np.float64)):
        raise GraphError(f"a network computes in int64 or float64, not {np.dtype(net.dtype)}")
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
        if c.synapses.dtype.kind == "f" and np.dtype(net.dtype).kind == "i":
            raise GraphError(f"connection '{c.name}': float weights in an integer network")
        _check_port(net, c)


def _check_port(net: Network, c: Connection) -> None:
    ports = net.ports(c.target)
    if c.port is None and len(ports) > 1:
        raise GraphError(f"connection '{c.name}': '{c.target}' has ports {list(ports)}; "
                         "name one")
    if c.port is not None and c.port not in ports:
        raise GraphError(f"connection '{c.name}': '{c.target}' has no port '{c.port}' "
                         f"(ports: {list(ports) or 'one, unnamed'})")


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
