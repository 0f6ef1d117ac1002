"""What the mapper sees of a network: PyNN populations and projections, as the emitted script
gives them to sPyNNaker.

A ``Netlist`` is the lowered ``target.spinnaker_network`` (the same populations, projections,
receptor split and per-synapse delays in steps, lags included, that ``pynn_network.py``
declares), stripped to what mapping needs: sizes, which populations are SpikeSourceArrays,
and each projection's (pre, post, delay) lists. The benchmark builds one directly from
connection lists, as a user's ``FromListConnector`` would give them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pop:
    name: str
    size: int
    source: bool  # a SpikeSourceArray (no synapses, no neuron state)


@dataclass(frozen=True, eq=False)
class Proj:
    """One PyNN projection: synapse k joins neuron ``pre[k]`` of ``source`` to ``post[k]`` of
    ``target`` with ``delay[k]`` steps (>= 1)."""

    source: str
    target: str
    pre: np.ndarray
    post: np.ndarray
    delay: np.ndarray
    name: str = ""  # the engine connection's (what the run's counters are keyed by)


@dataclass(frozen=True, eq=False)
class Netlist:
    pops: tuple[Pop, ...]
    projs: tuple[Proj, ...]

    def pop(self, name: str) -> Pop:
        return next(p for p in self.pops if p.name == name)

    @property
    def synapses(self) -> int:
        return sum(len(p.pre) for p in self.projs)


def from_network(net, order: list[str] | None = None) -> Netlist:
    """The netlist of an ``engine.Network`` built by ``target.spinnaker_network``;
    ``order`` lists population names first in that order (the graph's execution order)."""
    rank = {name: i for i, name in enumerate(order or [])}
    pops = sorted(net.populations, key=lambda p: rank.get(p.name, len(rank)))
    projs = []
    for c in net.connections:
        indptr, target, _, slot = c.synapses.fanout_lists()
        pre = np.repeat(np.arange(c.synapses.n_in, dtype=np.int64), np.diff(indptr))
        delay = (c.latency + c.synapses.delays[slot]).astype(np.int64)
        projs.append(Proj(c.source, c.target, pre, np.asarray(target, np.int64), delay, c.name))
    return Netlist(tuple(Pop(p.name, p.size, p.is_input) for p in pops), tuple(projs))
