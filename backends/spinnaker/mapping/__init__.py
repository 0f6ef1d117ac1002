"""SpiNNaker's own mapping (the ``spinnaker`` family's ``Family.mapping``), in the order
sPyNNaker 1!7.4.1 / PACMAN run it on a virtual board (loihi_spinnaker.md B1):

  netlist (the emitted PyNN network)  ->  ``vertices.partition`` (cores, DelayExtensions,
  DTCM / SDRAM)  ->  ``place.place`` (SpiNN-5 boards)  ->  ``keys.allocate`` (key and mask per
  sending core)  ->  ``routing.build_tables`` (``app_router``: PACMAN's application router;
  merged tables, default routes)  ->  ``compress.pair_compress`` (to fit
  ``topology.router_entries``)  ->  ``traffic``.

Each stage is a pure function of its inputs. ``SpinnakerMapping.write`` stores
``partition.json``, ``placement.json``, ``routes.json`` (the generic core-slice artefacts of
the network's population and source cores, which the generic cost reads), ``fit_report.json``,
and beside them ``keys.json``, ``routing_tables.json`` and ``delay_extensions.json``.
A network that does not fit raises ``ResourceExceededError`` naming the resource, the need
and the limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from snnc.errors import ResourceExceededError

from . import artefacts
from .compress import pair_compress
from .keys import Keys, allocate
from .netlist import Netlist, from_network
from .place import Placement, place
from .routing import app_graph, build_tables, destinations
from .traffic import totals
from .vertices import Partition, partition


@dataclass(frozen=True, eq=False)
class SpinnakerMapping:
    chip: object  # the chip model (snnc.hw_models.Chip)
    net: Netlist
    part: Partition
    layout: Placement  # vertices on chips and processors (the generic view: ``placement``)
    keys: Keys
    dests: dict  # vertex -> vertices it sends to
    trees: dict  # vertex -> {chip: (arrival link, out-links)}
    tables: dict  # chip -> merged entries (uncompressed, sPyNNaker's get_uncompressed)
    routed: dict  # chip -> entries after default-route removal
    compressed: dict  # chip -> pair-compressed entries
    fit: dict
    activity: dict = field(default_factory=dict)

    @property
    def traffic(self) -> dict:
        return totals(self, self.activity)

    @property
    def partition(self):  # the generic artefacts (report.placement_of / hops_of read them)
        return artefacts.core_slices(self)

    @property
    def placement(self):
        return artefacts.core_places(self)

    @property
    def routes(self):
        return artefacts.links(self)

    def entries(self) -> dict:
        """Per chip "x,y": [uncompressed, without default routes, compressed] entry counts."""
        return {f"{x},{y}": [len(self.tables[x, y]), len(self.routed[x, y]),
                             len(self.compressed[x, y])] for x, y in sorted(self.tables)}

    def summary(self) -> str:
        kinds = [v.kind for v in self.part.vertices]
        most = max((c for _, _, c in self.entries().values()), default=0)
        return (f"{len(kinds)} cores ({kinds.count('population')} neuron, "
                f"{kinds.count('source')} spike source, {kinds.count('delay')} DelayExtension) "
                f"on {len(self.layout.chips_used)} chip(s) of {self.layout.machine.boards} "
                f"SpiNN-5 board(s); at most {most} routing entries per chip after compression")

    def write(self, directory: str | Path) -> list[str]:
        directory = Path(directory)
        files = artefacts.files(self)
        for name, text in files.items():
            (directory / name).write_text(text + "\n")
        return list(files)


def map_netlist(net: Netlist, chip, chips: int | None = None, activity=None,
                generic_fit: dict | None = None, compress_all: bool = False
                ) -> SpinnakerMapping:
    """Every stage on a netlist; raises the fit error (``ResourceExceededError``). A table
    is compressed only when it does not fit (PACMAN's default; ``compress_all``: every table,
    as ``router_table_compress_as_far_as_possible = True``)."""
    part = partition(net, chip)
    placement = place(part, chip, chips)
    g = app_graph(part, placement)
    dests = destinations(g)
    keys = allocate(part, list(dests), chip.arm.colour_bits or 0)
    tables, trees = build_tables(g, placement.machine, keys, dests)
    routed, compressed = {}, {}
    for xy, entries in tables.items():
        routed[xy] = [e for e in entries if not e.defaultable]
        blockers = [e for e in entries if e.defaultable]
        fits = len(routed[xy]) <= chip.topology.router_entries
        compressed[xy] = (routed[xy] if fits and not compress_all
                          else pair_compress(routed[xy], blockers))
        if not fits and len(compressed[xy]) > chip.topology.router_entries:
            raise ResourceExceededError(
                f"chip {xy}: {len(compressed[xy])} routing entries after pair compression "
                f"({len(routed[xy])} before), more than {chip.name}'s "
                f"{chip.topology.router_entries}", resource="router entries",
                need=len(compressed[xy]), limit=chip.topology.router_entries)
    mapping = SpinnakerMapping(chip, net, part, placement, keys, dests, trees, tables, routed,
                               compressed, {}, dict(activity or {}))
    return replace(mapping, fit={**(generic_fit or {}), **artefacts.fit(mapping, chip, chips)})


def map_spinnaker(graph, chip, chips: int | None = None, activity=None, family=None,
                  options=None) -> SpinnakerMapping:
    """``Family.mapping`` of the spinnaker family: the graph lowered as ``spinnaker1``
    simulates and emits it (``target.spinnaker_network``), then ``map_netlist``."""
    from snnc.ir import flatten
    from snnc.mapping import fit_report
    from snnc.options import SimOptions

    from ..target import spinnaker_network

    options = options or SimOptions(dt=float(graph.metadata.get("dt", SimOptions.dt)))
    flat = graph if graph.is_flat else flatten(graph)
    net = from_network(spinnaker_network(flat, options, chip.name), list(flat.order))
    mapping = map_netlist(net, chip, chips, activity)
    generic = fit_report(flat, chip, mapping.partition, chips)
    return replace(mapping, fit={**generic, **mapping.fit})


__all__ = ["SpinnakerMapping", "map_netlist", "map_spinnaker"]
