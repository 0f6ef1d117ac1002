"""Mapping: one stage, with a strategy per chip family (``Family.mapping``).

Core slices (``map_graph``, the default of ``Family.mapping``): partition -> place -> route,
pure functions of (graph, chip model). Each stage returns a frozen artefact with ``to_json``/``from_json``
(versioned, schema-checked: ``artefacts``); ``map_graph`` runs the chain, ``Mapping.write``
stores ``partition.json``, ``placement.json``, ``routes.json`` and ``fit_report.json`` in a
program, and ``Mapping.read`` reads them back, so a compiled program is mapped once: a later
``report`` only routes the traffic of the run it prices over the stored cores
(``Mapping.routed``). Other strategies (crossbar tiles, SFQ cells, SpiNNaker's routing
tables) come with their families' backends.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping as MappingType

import numpy as np

from snnc.errors import MappingError
from snnc.hw_models import Chip
from snnc.ir import Graph, flatten
from snnc.ir.nodes import Neuron

from .fit import fit_report
from .partition import CoreSlice, Partition, partition
from .place import CorePlace, Placement, place
from .route import HOST, Link, Routes, route


@dataclass(frozen=True)
class Mapping:
    partition: Partition
    placement: Placement
    routes: Routes
    fit: dict

    def write(self, directory: str | Path) -> list[str]:
        """The artefacts as JSON files in ``directory``; returns their names."""
        directory = Path(directory)
        files = {"partition.json": self.partition.to_json(),
                 "placement.json": self.placement.to_json(),
                 "routes.json": self.routes.to_json(),
                 "fit_report.json": json.dumps(self.fit, indent=1)}
        for name, text in files.items():
            (directory / name).write_text(text + "\n")
        return list(files)

    @classmethod
    def read(cls, directory: str | Path) -> "Mapping":
        """The artefacts ``write`` stored in ``directory``, checked."""
        directory = Path(directory)

        def text(name: str) -> str:
            try:
                return (directory / name).read_text()
            except OSError as error:
                raise MappingError(f"{directory / name}: cannot read ({error.strerror})") \
                    from None

        fit = text("fit_report.json")
        try:
            fit = json.loads(fit)
        except ValueError:
            raise MappingError(f"{directory / 'fit_report.json'}: not JSON") from None
        return cls(Partition.from_json(text("partition.json"), str(directory / "partition.json")),
                   Placement.from_json(text("placement.json"), str(directory / "placement.json")),
                   Routes.from_json(text("routes.json"), str(directory / "routes.json")), fit)

    def routed(self, graph: Graph, chip: Chip, activity: MappingType[str, np.ndarray]
               ) -> "Mapping":
        """The same cores, with the traffic of a run's per-neuron spike totals."""
        if self.partition.chip != chip.name:
            raise MappingError(f"the program was mapped onto {self.partition.chip}, not "
                               f"{chip.name}")
        _check_covers(self, graph if graph.is_flat else flatten(graph))
        return replace(self, routes=route(graph, self.partition, self.placement, chip, activity))

    def summary(self) -> str:
        t = self.routes.totals()
        return (f"{len(self.partition.cores)} cores on {self.placement.chips} chip(s) of "
                f"{self.partition.chip}, {t['links']} core-to-core links")


def _check_covers(mapping: Mapping, graph: Graph) -> None:
    """A stored mapping must slice exactly the graph's populations, and place every slice."""
    sliced = {c.population for c in mapping.partition.cores}
    populations = [k for k in graph.order if isinstance(graph.nodes[k], Neuron)
                   or (k in graph.inputs and k in sliced)]  # sources that take cores
    if sorted({c.population for c in mapping.partition.cores}) != sorted(populations):
        raise MappingError("partition.json does not slice this graph's populations "
                           f"({', '.join(populations)})")
    for name in populations:
        size, edges = math.prod(graph.shapes[name]), [0]
        for c in mapping.partition.of(name):
            if c.start != edges[-1] or c.stop <= c.start:
                edges = []
                break
            edges.append(c.stop)
        if not edges or edges[-1] != size:
            raise MappingError(f"partition.json: the slices of node '{name}' do not cover its "
                               f"{size} neurons", node=name)
    if sorted(c.core for c in mapping.partition.cores) != sorted(
            p.core for p in mapping.placement.cores) or any(
            c.core != i for i, c in enumerate(mapping.placement.cores)):
        raise MappingError("placement.json does not place exactly the partition's cores")


def map_graph(graph: Graph, chip: Chip, chips: int | None = None,
              activity: MappingType[str, np.ndarray] | None = None,
              part: Partition | None = None, family=None, options=None) -> Mapping:
    """Partition (unless ``part`` is given), place and route ``graph`` on ``chip``
    (``chips`` caps the board); the ``family`` (``snnc.target.Family``) says whether spike
    sources take cores."""
    part = part or partition(graph, chip, sources=bool(family and family.sources_on_cores))
    placement = place(part, chip, chips)
    return Mapping(part, placement, route(graph, part, placement, chip, activity),
                   fit_report(graph, chip, part, chips))


__all__ = ["CorePlace", "CoreSlice", "HOST", "Link", "Mapping", "Partition",
           "Placement", "Routes", "fit_report", "map_graph", "partition", "place", "route"]
