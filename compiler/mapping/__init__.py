"""Mapping: partition -> place -> route, pure functions of (graph, chip model).

Each stage returns a frozen artefact with ``to_json``/``from_json``; ``map_graph`` runs the
chain and ``Mapping.write`` stores the artefacts as ``partition.json``, ``placement.json``,
``routes.json`` and ``fit_report.json``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping as MappingType

import numpy as np

from snnc.hw_models import Chip
from snnc.ir import Graph

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

    def summary(self) -> str:
        t = self.routes.totals()
        return (f"{len(self.partition.cores)} cores on {self.placement.chips} chip(s) of "
                f"{self.partition.chip}, {t['links']} core-to-core links")


def map_graph(graph: Graph, chip: Chip, chips: int | None = None,
              activity: MappingType[str, np.ndarray] | None = None,
              part: Partition | None = None) -> Mapping:
    """Partition (unless ``part`` is given), place and route ``graph`` on ``chip``
    (``chips`` caps the board)."""
    part = part or partition(graph, chip)
    placement = place(part, chip, chips)
    return Mapping(part, placement, route(graph, part, placement, chip, activity),
                   fit_report(graph, chip, part, chips))


__all__ = ["CorePlace", "CoreSlice", "HOST", "Link", "Mapping", "Partition", "Placement",
           "Routes", "fit_report", "map_graph", "partition", "place", "route"]
