"""route: multicast trees between chips and one routing table per chip.

Destinations (sPyNNaker's machine edges): a population or source slice sends to every target
slice it has an on-core-delay synapse into, and to its own DelayExtension slice when its
application vertex has one; a DelayExtension slice sends to every target slice its source
slice has a delayed synapse into.

Trees: from the source chip to each destination chip along PACMAN's longest-dimension-first
path on the triangular mesh (``routing_algorithm_utilities.longest_dimension_first``: the
shortest vector in x, y and the north-east diagonal, its longest component walked first;
a breadth-first shortest path over existing links where that path would leave the machine);
paths join the tree at the last chip they share with it, so each chip is entered once.

Tables: on each chip of a tree an entry (key, mask, route): route bits 0-5 the out-links, bit
6 + p processor p. Entries of consecutive slices of one application vertex with the same route
are merged into power-of-two blocks (``MergedRoutingTableGenerator``,
``AppVertexRoutingInfo.merge_machine_entries``). An entry is default-routable when the packet
arrives on a link and leaves only by the opposite link (a router passes an unmatched packet
straight on): those are removed before compression, and kept as blockers so that a
compressed entry never captures their keys.

``deliver`` follows one key through the tables hop by hop, as a router does: first matching
entry in table order, else straight on (from a link) or dropped (from a local core).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from snnc.errors import MappingError

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


def destinations(part: Partition) -> dict[int, set[int]]:
    """Vertex -> the vertices it sends packets to."""
    lookup = {(v.app, v.index): v.core for v in part.vertices}
    out: dict[int, set[int]] = {}
    for b in part.blocks:
        src, tgt = b.proj.source, b.proj.target
        for s, t in b.direct.tolist():
            out.setdefault(lookup[src, s], set()).add(lookup[tgt, t])
        if src in part.delays:
            app = part.delays[src].app
            for s, t in b.delayed.tolist():
                out.setdefault(lookup[app, s], set()).add(lookup[tgt, t])
    for plan in part.delays.values():  # every source slice feeds its DelayExtension slice
        for v in part.of(plan.source):
            out.setdefault(v.core, set()).add(lookup[plan.app, v.index])
    return out


def _vector(dx: int, dy: int) -> tuple[int, int, int]:
    """PACMAN's shortest (x, y, diagonal) vector for a move of dx, dy (no wrap-around)."""
    if dx * dy > 0:  # same sign: the diagonal (link 1 / 4) covers the common part
        z = min(abs(dx), abs(dy)) * (1 if dx > 0 else -1)
        return dx - z, dy - z, z
    return dx, dy, 0


def ldf_path(machine: Machine, a: tuple, b: tuple) -> list[tuple[tuple, int]]:
    """(chip, out-link) steps from chip a to chip b (longest dimension first)."""
    x, y, z = _vector(b[0] - a[0], b[1] - a[1])
    moves = sorted(((abs(x), 0 if x > 0 else 3), (abs(y), 2 if y > 0 else 5),
                    (abs(z), 1 if z > 0 else 4)), key=lambda m: -m[0])
    path, here = [], a
    for length, link in moves:
        for _ in range(length):
            there = machine.over(here, link)
            if there is None:
                return _bfs_path(machine, a, b)
            path.append((here, link))
            here = there
    return path


def _bfs_path(machine: Machine, a: tuple, b: tuple) -> list[tuple[tuple, int]]:
    came: dict = {a: None}
    todo = deque([a])
    while todo:
        here = todo.popleft()
        if here == b:
            break
        for link in range(6):
            there = machine.over(here, link)
            if there is not None and there not in came:
                came[there] = (here, link)
                todo.append(there)
    if b not in came:
        raise MappingError(f"no route between chips {a} and {b} on the machine")
    path, here = [], b
    while came[here] is not None:
        path.append(came[here])
        here = came[here][0]
    return path[::-1]


def tree(machine: Machine, source: tuple, targets: list[tuple]) -> dict[tuple, tuple]:
    """Chip -> (arrival link or None at the source, set of out-links) of the multicast tree."""
    nodes: dict[tuple, list] = {source: [None, set()]}
    for target in targets:
        if target in nodes:
            continue
        path = ldf_path(machine, source, target)
        join = max(i for i, (chip, _) in enumerate(path) if chip in nodes)
        for chip, link in path[join:]:  # chips past the join are not in the tree yet
            nodes[chip][1].add(link)
            nodes[machine.over(chip, link)] = [opposite(link), set()]
    return {chip: (arrival, frozenset(links)) for chip, (arrival, links) in nodes.items()}


def route_bits(links, processors) -> int:
    return sum(1 << link for link in links) + sum(1 << (6 + p) for p in processors)


def build_tables(part: Partition, placement: Placement, keys: Keys, dests: dict
                 ) -> tuple[dict, dict]:
    """(per chip its merged entries in table order, per vertex its tree)."""
    where = {p.core: p for p in placement.places}
    machine = placement.machine
    trees, rows = {}, {}  # rows[chip]: [(app index, machine index, vertex, route, default)]
    for core in sorted(dests, key=lambda c: (keys.keys[c].app, keys.keys[c].index)):
        local: dict[tuple, list[int]] = {}
        for d in dests[core]:
            local.setdefault(where[d].xy, []).append(where[d].p)
        grown = tree(machine, where[core].xy, sorted(local))
        trees[core] = grown
        for chip, (arrival, links) in grown.items():
            procs = local.get(chip, [])
            straight = (arrival is not None and not procs and len(links) == 1
                        and next(iter(links)) == opposite(arrival))
            rows.setdefault(chip, []).append((keys.keys[core], route_bits(links, procs),
                                              straight))
    apps = list(keys.apps.values())
    return {chip: _merged(found, apps) for chip, found in rows.items()}, trees


def _merged(rows: list, apps: list) -> list[Entry]:
    """Consecutive slices of one application vertex with one route, merged as PACMAN does."""
    out, i = [], 0
    while i < len(rows):
        j = i + 1
        while (j < len(rows) and rows[j][0].app == rows[i][0].app
               and rows[j][0].index == rows[j - 1][0].index + 1 and rows[j][1] == rows[i][1]):
            j += 1
        out += _blocks(rows[i:j], apps[rows[i][0].app])
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


__all__ = ["Entry", "LINKS", "build_tables", "deliver", "destinations", "ldf_path", "tree"]
