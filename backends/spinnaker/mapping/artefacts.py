"""The SpiNNaker mapping's files: the generic core-slice artefacts of its population and
source cores (``snnc.mapping``: ``partition.json``, ``placement.json``, ``routes.json``), its
fit report, and ``keys.json``, ``routing_tables.json``, ``delay_extensions.json``.

Generic ``placement.json``: ``chip`` is the chip's number in the machine's placement order,
``tile`` the processor id, x and y the chip's coordinates. Generic ``routes.json``: a link
per (source core, target core) with synapses between them, ``axons`` the distinct source
atoms, ``packets`` their spikes in the run given, ``hops`` the chip-to-chip links from the
source chip to the target chip along its tree (through the DelayExtension core for delayed
synapses). DelayExtension cores are listed in ``delay_extensions.json`` only.
"""
from __future__ import annotations

import json
from collections import deque
from functools import lru_cache

import numpy as np

from snnc.mapping import CorePlace, CoreSlice, Link, Partition, Placement, Routes
from snnc.mapping import artefacts as generic


def _network_vertices(m):
    return [v for v in m.part.vertices if v.kind != "delay"]


@lru_cache(maxsize=8)
def core_slices(m) -> Partition:
    axons = _axons_in(m)
    word = m.chip.core.synapse_word_bits
    return Partition(m.chip.name, tuple(
        CoreSlice(v.core, v.app, v.start, v.stop, v.synapses, v.synapses * word,
                  axons.get(v.core, 0)) for v in _network_vertices(m)))


@lru_cache(maxsize=8)
def core_places(m) -> Placement:
    number = m.layout.machine.index
    places = [m.layout.places[v.core] for v in _network_vertices(m)]
    return Placement(len(m.layout.chips_used), tuple(
        CorePlace(p.core, number[p.xy], p.p, p.x, p.y) for p in places))


def _depths(grown: dict) -> dict:
    """Chip -> links from the tree's root."""
    root = next(chip for chip, (arrival, _) in grown.items() if arrival is None)
    depth, todo = {root: 0}, deque([root])
    from .machine import LINKS
    while todo:
        here = todo.popleft()
        for link in grown[here][1]:
            far = (here[0] + LINKS[link][0], here[1] + LINKS[link][1])
            depth[far] = depth[here] + 1
            todo.append(far)
    return depth


def _pairs(m):
    """Per (source population, target population): unique (pre, target slice) of synapses,
    split into on-core and delayed."""
    out: dict[tuple, list] = {}
    for b in m.part.blocks:
        n_t = len(m.part.of(b.proj.target))
        late = b.proj.delay > m.part.spans[b.proj.target]
        for delayed in (False, True):
            keep = late if delayed else ~late
            code = np.unique(b.proj.pre[keep] * n_t + b.target_slice[keep])
            out.setdefault((b.proj.source, b.proj.target, delayed), []).append(code)
    return {k: np.unique(np.concatenate(v)) for k, v in out.items()}


@lru_cache(maxsize=8)
def links(m) -> Routes:
    lookup = {(v.app, v.index): v for v in m.part.vertices}
    where = {p.core: p.xy for p in m.layout.places}
    depths = {core: _depths(grown) for core, grown in m.trees.items()}
    found: dict[tuple, list] = {}
    for (src, tgt, delayed), code in _pairs(m).items():
        n_t = len(m.part.of(tgt))
        pre, tk = code // n_t, code % n_t
        spikes = np.asarray(m.activity.get(src, np.zeros(0)), np.int64).reshape(-1)
        counts = spikes[pre] if len(spikes) == m.net.pop(src).size else np.zeros(len(pre))
        a_src = m.part.atoms[src]
        block = (pre // a_src) * n_t + tk
        uniq, inverse = np.unique(block, return_inverse=True)
        axons = np.bincount(inverse)
        packets = np.bincount(inverse, weights=counts)
        for b, n_ax, n_pk in zip(uniq.tolist(), axons.tolist(), packets.tolist()):
            s, t = lookup[src, b // n_t], lookup[tgt, b % n_t]
            if delayed:
                d = lookup[m.part.delays[src].app, s.index]
                hops = depths[s.core][where[d.core]] + depths[d.core][where[t.core]]
            else:
                hops = depths[s.core][where[t.core]]
            entry = found.setdefault((src, s.core, t.core), [0, 0, hops])
            entry[0] += n_ax
            entry[1] += int(round(n_pk))
            entry[2] = max(entry[2], hops)
    return Routes(tuple(Link(src, s, t, a, p, h, where[s] != where[t])
                        for (src, s, t), (a, p, h) in found.items()))


def _axons_in(m) -> dict:
    out: dict[int, int] = {}
    for link in links(m).links:
        out[link.target_core] = out.get(link.target_core, 0) + link.axons
    return out


def fit(m, chip, chips) -> dict:
    """Need against limit per resource (the report's "resources"), and "fits"."""
    vertices = m.part.vertices
    per_chip: dict[tuple, list] = {}
    for p in m.layout.places:
        per_chip.setdefault(p.xy, []).append(vertices[p.core])
    most = lambda values: max(values, default=0)  # noqa: E731
    entries = m.entries()
    return {
        "chip": chip.name, "fits": True, "error": None,
        "cores": {"need": len(vertices), "per_chip": chip.topology.app_cores_per_chip,
                  "unit": "cores"},
        "chips": {"need": len(m.layout.chips_used), "given": chips,
                  "max": chip.topology.max_chips, "unit": "chips"},
        "boards": {"need": m.layout.machine.boards, "unit": "SpiNN-5 boards"},
        "delay_extension_cores": {"need": sum(v.kind == "delay" for v in vertices),
                                  "unit": "cores"},
        "dtcm_per_core": {"need": most(v.dtcm for v in vertices),
                          "limit": chip.arm.dtcm_data // 8, "unit": "bytes"},
        "sdram_per_chip": {"need": most(sum(v.sdram for v in vs) for vs in per_chip.values()),
                           "limit": chip.topology.chip_memory // 8, "unit": "bytes"},
        "router_entries": {"need": most(c for _, _, c in entries.values()),
                           "limit": chip.topology.router_entries, "unit": "entries",
                           "uncompressed": most(u for u, _, _ in entries.values())},
        "delay_steps": {"need": most(int(p.delay.max(initial=0)) for p in m.net.projs),
                        "limit": chip.delays.max_steps, "unit": "steps"},
    }


def _tables_json(m) -> str:
    chips = []
    for xy in sorted(m.tables):
        chips.append({"x": xy[0], "y": xy[1], "uncompressed": len(m.tables[xy]),
                      "defaultable": len(m.tables[xy]) - len(m.routed[xy]),
                      "compressed": len(m.compressed[xy]),
                      "entries": [[e.key, e.mask, e.route] for e in m.compressed[xy]]})
    return generic.dump("spinnaker-routing-tables", {
        "route_bits": "bits 0-5: links E, NE, N, W, SW, S; bit 6 + p: processor p",
        "chips": chips})


def files(m) -> dict[str, str]:
    where = {p.core: p for p in m.layout.places}
    delays = [{"source": plan.source, "span_steps": plan.span, "stages": plan.stages,
               "cores": [{"core": v.core, "atoms": [v.start, v.stop], "x": where[v.core].x,
                          "y": where[v.core].y, "p": where[v.core].p}
                         for v in m.part.of(plan.app)]} for plan in m.part.delays.values()]
    return {"partition.json": m.partition.to_json(),
            "placement.json": m.placement.to_json(),
            "routes.json": m.routes.to_json(),
            "fit_report.json": json.dumps(m.fit, indent=1),
            "keys.json": generic.dump("spinnaker-keys", m.keys.to_dict()),
            "routing_tables.json": _tables_json(m),
            "delay_extensions.json": generic.dump("spinnaker-delay-extensions", {
                "on_core_spans": m.part.spans, "delay_extensions": delays}),
            "spinnaker_placement.json": generic.dump("spinnaker-placement",
                                                     m.layout.to_dict())}
