"""route: the spike traffic between cores, from the graph's synapses and (optionally) activity.

For every matrix from a source (population or Input) into a target population, a source neuron
sends one packet per target core that holds at least one of its synapses (multicast per core,
as Loihi and SpiNNaker route). A link (source core -> target core) records:

- ``axons``: distinct source neurons with a synapse into the target core (what the target
  core's input axons and the source core's routing must hold);
- ``packets``: spikes that travel it, given per-neuron spike totals (``activity``), else 0;
- ``hops``: router hops of one packet (``Placement.hops``), ``packet_hops`` = packets x hops;
- ``inter_chip``: whether the link crosses from one chip to another (off-chip links are the
  slow, costly ones).

Input nodes live off-chip: their links have ``source_core = -1`` and count as host I/O, with no
hops. ``core.output_axons`` bounds the distinct target cores of one core; more raise
``ResourceExceededError``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np

from snnc.errors import ResourceExceededError
from snnc.hw_models import Chip
from snnc.ir import Graph, flatten
from snnc.ir import nodes as n

from . import artefacts
from .partition import Partition, connectivity, incoming
from .place import Placement

HOST = -1


@dataclass(frozen=True)
class Link:
    source: str  # the source population or Input
    source_core: int  # HOST for an Input
    target_core: int
    axons: int
    packets: int
    hops: int
    inter_chip: bool = False

    @property
    def packet_hops(self) -> int:
        return self.packets * self.hops


@dataclass(frozen=True)
class Routes:
    links: tuple[Link, ...]

    def totals(self) -> dict[str, int]:
        on_chip = [k for k in self.links if k.source_core != HOST]
        return {"links": len(self.links),
                "packets": sum(k.packets for k in on_chip),
                "packet_hops": sum(k.packet_hops for k in on_chip),
                "inter_chip_packets": sum(k.packets for k in on_chip if k.inter_chip),
                "host_packets": sum(k.packets for k in self.links if k.source_core == HOST)}

    def to_json(self) -> str:
        return artefacts.dump("routes", {"totals": self.totals(),
                                         "links": [asdict(k) for k in self.links]})

    @classmethod
    def from_json(cls, text: str, origin: str = "routes.json") -> "Routes":
        data = artefacts.load("routes", text, origin)
        return cls(artefacts.records(Link, data.get("links"), origin, "links"))


def route(graph: Graph, part: Partition, placement: Placement, chip: Chip,
          activity: Mapping[str, np.ndarray] | None = None) -> Routes:
    """Links between cores; ``activity`` maps a population or Input to its per-neuron spike
    totals over the run being costed (any shape with that many elements)."""
    graph = graph if graph.is_flat else flatten(graph)
    home = {}  # population -> (core ids, slice starts)
    for name in dict.fromkeys(c.population for c in part.cores):  # partition order, not a set's
        slices = part.of(name)
        home[name] = ([c.core for c in slices], [c.start for c in slices])
    links = []
    for target, (target_cores, starts) in home.items():
        size = math.prod(graph.shapes[target])
        bounds = [*starts, size]
        for matrix, source in incoming(graph, target):
            reach = connectivity(graph, matrix, size)
            # reach_core[j, k]: source neuron j has a synapse into target core k
            reach_core = np.stack([reach[a:b].any(axis=0) for a, b in zip(bounds, bounds[1:])],
                                  axis=1)
            links += _links(graph, source, reach_core, target_cores, home, placement, activity)
    _check_output_axons(links, part, chip)
    return Routes(tuple(links))


def _links(graph, source, reach_core, target_cores, home, placement, activity) -> list[Link]:
    spikes = (np.asarray(activity[source], np.int64).reshape(-1) if activity and source in activity
              else np.zeros(reach_core.shape[0], np.int64))
    if source not in home:  # an Input that takes no core: its spikes come from the host
        source_slices = [(HOST, 0, reach_core.shape[0])]
    else:
        cores, starts = home[source]
        ends = [*starts[1:], reach_core.shape[0]]
        source_slices = list(zip(cores, starts, ends))
    out = []
    for src_core, a, b in source_slices:
        axons = reach_core[a:b].sum(axis=0)
        packets = spikes[a:b] @ reach_core[a:b]
        for k, dst_core in enumerate(target_cores):
            if axons[k]:
                host = src_core == HOST
                hops = 0 if host else placement.hops(src_core, dst_core)
                crossing = not host and (placement.cores[src_core].chip
                                         != placement.cores[dst_core].chip)
                out.append(Link(source, src_core, dst_core, int(axons[k]), int(packets[k]),
                                hops, crossing))
    return out


def _check_output_axons(links: list[Link], part: Partition, chip: Chip) -> None:
    limit = chip.core.output_axons
    if limit is None:
        return
    targets = defaultdict(set)
    for k in links:
        if k.source_core != HOST:
            targets[k.source_core].add(k.target_core)
    for core, dests in targets.items():
        if len(dests) > limit:
            raise ResourceExceededError(
                f"node '{part.cores[core].population}': core {core} sends to {len(dests)} "
                f"cores, more than {chip.name}'s {limit} output axons per core",
                resource="output axons per core", need=len(dests), limit=limit,
                node=part.cores[core].population)
