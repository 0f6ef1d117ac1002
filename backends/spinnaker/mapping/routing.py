"""route: one routing table per chip, as sPyNNaker 1!7.4.1 builds them.

Destinations (what PACMAN's application router delivers, ``app_router.graph``): every slice
of a sending application vertex is a sender; a population or source slice sends to every
target slice it has a synapse into (any delay: ``FromListConnector.get_connected_vertices``)
and to its own DelayExtension slice; a DelayExtension slice sends to every slice of a target
it serves that its source slice has a synapse into.

Routes: ``app_router.route_application_graph`` (PACMAN's application router): per
application vertex one tree into its targets' chips and on within them, entries per machine
vertex (on chips with target or source cores) or per application vertex (its application
key and mask, on the chips between), in PACMAN's insertion order.

Tables: an entry (key, mask, route): route bits 0-5 the out-links, bit 6 + p processor p.
Entries of consecutive slices of one application vertex with the same route are merged into
power-of-two blocks (``MergedRoutingTableGenerator``,
``AppVertexRoutingInfo.merge_machine_entries``). An entry is default-routable when the packet
arrives on a link and leaves only by the opposite link, to no core (a router passes an
unmatched packet straight on): those are removed before compression, and kept as blockers so
that a compressed entry never captures their keys.

Trees (``vertex_tree``, for traffic): per sending vertex the chips its packets cross, from
its routes.

``deliver`` follows one key through the tables hop by hop, as a router does: first matching
entry in table order, else straight on (from a link) or dropped (from a local core).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from snnc.errors import MappingError

from .app_router import graph, route_application_graph
from .keys import Keys
from .machine import LINKS, Machine, opposite
from .place import Placement
from .vertices import Partition


@dataclass(frozen=True)
class Entry:
    key: int
    mask: int
    route: int
    defaultable: bool = False
    sources: tuple = ()  # vertices whose keys it carries (empty after compression)


def app_graph(part: Partition, placement: Placement):
    """What the application router reads (``app_router.graph``), with every core's place."""
    return graph(part, {p.core: (p.x, p.y, p.p) for p in placement.places})


def destinations(g) -> dict[int, set[int]]:
    """Vertex -> the vertices it sends packets to, for every slice of a sending application
    vertex (``get_source_specific_in_coming_vertices`` in ``g``, an ``app_graph``)."""
    out = {v: set() for src, _ in g.partitions for v in g.out_going[src]}
    for found in g.incoming.values():
        for target, sources in found:
            for s in sources:
                out[s].add(target)
    return out


def build_tables(g, machine: Machine, keys: Keys, dests: dict) -> tuple[dict, dict]:
    """(per chip its merged entries in table order, per vertex its tree)."""
    routed = route_application_graph(g, machine)
    tables = {chip: _merged(list(found.items()), keys, g) for chip, found in routed.items()}
    trees = {v: vertex_tree(routed, machine, g, v) for v in dests}
    return tables, trees


def vertex_tree(routed: dict, machine: Machine, g, vertex: int) -> dict[tuple, tuple]:
    """Chip -> (arrival link or None at the source, out-links) of the packets of ``vertex``:
    its routes (its own entry on a chip, else its application vertex's) from its chip on."""
    start = g.where[vertex][:2]
    grown: dict[tuple, tuple] = {}
    todo = deque([(start, None)])
    while todo:
        chip, arrival = todo.popleft()
        if chip in grown:
            continue
        found = routed.get(chip, {})
        route = found.get(vertex, found.get(g.app_of[vertex], [0, False]))[0]
        links = frozenset(link for link in range(6) if route >> link & 1)
        grown[chip] = (arrival, links)
        todo += [(machine.over(chip, link), opposite(link)) for link in sorted(links)]
    return grown


def _merged(rows: list, keys: Keys, g) -> list[Entry]:
    """``MergedRoutingTableGenerator``: an application vertex's entry as it is; runs of
    consecutive slices of one application vertex with one route merged (``_blocks``)."""
    out, i = [], 0
    while i < len(rows):
        source, (route, default) = rows[i]
        if isinstance(source, str):
            key, mask, _, _ = keys.apps[source]
            out.append(Entry(key, mask, route, default, tuple(g.out_going[source])))
            i += 1
            continue
        j = i + 1
        while (j < len(rows) and not isinstance(rows[j][0], str)
               and g.app_of[rows[j][0]] == g.app_of[source]
               and keys.keys[rows[j][0]].index == keys.keys[rows[j - 1][0]].index + 1
               and rows[j][1][0] == route):
            j += 1
        run = [(keys.keys[v], r, d) for v, (r, d) in rows[i:j]]
        out += _blocks(run, keys.apps[g.app_of[source]])
        i = j
    return out


def _blocks(run: list, app) -> list[Entry]:
    """``merge_machine_entries``: aligned power-of-two groups of machine indices."""
    if len(run) == 1:
        k, route, default = run[0]
        return [Entry(k.key, k.mask, route, default, (k.core,))]
    _, _, machine_mask, last = app
    atom_bits = (~machine_mask & 0xFFFFFFFF).bit_length()
    is_last = run[-1][0].index == last
    out, i, n = [], 0, len(run)
    while i < n:
        index = run[i][0].index
        step = index & -index if index > 0 else 2 ** int(np.ceil(np.log2(n)))
        if step <= n - i or is_last:
            sizes = [step]
        else:
            sizes, left = [], n - i
            while left > 0:
                sizes.append(2 ** int(np.log2(left)))
                left -= sizes[-1]
        for size in sizes:
            group = run[i:i + size]
            mask = machine_mask - ((size - 1) << atom_bits)
            out.append(Entry(group[0][0].key, mask & 0xFFFFFFFF, group[0][1],
                             all(g[2] for g in group), tuple(g[0].core for g in group)))
            i += size
    return out


def deliver(tables: dict, machine: Machine, chip: tuple, key: int) -> set[tuple]:
    """(x, y, p) of every core that receives ``key`` sent from a core of ``chip``, following
    ``tables`` ({chip: [Entry...]} in table order); a drop or a loop raises MappingError."""
    got, seen = set(), set()
    todo = deque([(chip, None)])
    while todo:
        here, arrival = todo.popleft()
        if (here, arrival) in seen:
            raise MappingError(f"key {key:#x} loops through chip {here}")
        seen.add((here, arrival))
        route = next((e.route for e in tables.get(here, ()) if key & e.mask == e.key), None)
        if route is None:
            if arrival is None:
                raise MappingError(f"key {key:#x} matches nothing on its source chip {here}")
            route = 1 << opposite(arrival)  # default routing: straight on
        for link in range(6):
            if route >> link & 1:
                far = machine.over(here, link)
                if far is None:
                    raise MappingError(f"key {key:#x} leaves chip {here} by missing link {link}")
                todo.append((far, opposite(link)))
        got |= {(*here, p) for p in range(1, 27) if route >> (6 + p) & 1}
    return got


__all__ = ["Entry", "LINKS", "app_graph", "build_tables", "deliver", "destinations", "vertex_tree"]
