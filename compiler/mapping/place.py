"""place: put the partition's cores on chips and on a mesh of router tiles.

Cores fill chips in partition order (populations in execution order, so consecutive layers
land close together): core k goes to chip k // cores-per-chip (``topology.app_cores_per_chip``
when the toolchain reserves cores, else ``cores_per_chip``), and within its chip to tile
(k mod cores-per-chip) // ``cores_per_tile`` (each core its own tile when the model gives no
tile size). Tiles form a square-ish grid per chip and chips a square-ish grid of chips, so a
spike's hops are the Manhattan distance between tiles. Intel publishes neither the tile
layout nor the board wiring used here: hop counts are estimates (Davies et al. 2018 give
per-hop costs, not layouts).

More chips than ``chips`` (the board at hand) or than ``topology.max_chips`` raise
``ResourceExceededError`` naming the need and the limit.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from snnc.errors import ResourceExceededError
from snnc.hw_models import Chip

from . import artefacts
from .partition import Partition


@dataclass(frozen=True)
class CorePlace:
    core: int
    chip: int
    tile: int
    x: int  # mesh column, counted across chips
    y: int  # mesh row, counted across chips


@dataclass(frozen=True)
class Placement:
    chips: int
    cores: tuple[CorePlace, ...]

    def hops(self, a: int, b: int) -> int:
        """Router hops from core a's tile to core b's: 0 within a tile."""
        pa, pb = self.cores[a], self.cores[b]
        return abs(pa.x - pb.x) + abs(pa.y - pb.y)

    def to_json(self) -> str:
        return artefacts.dump("placement", {"chips": self.chips,
                                            "cores": [asdict(c) for c in self.cores]})

    @classmethod
    def from_json(cls, text: str, origin: str = "placement.json") -> "Placement":
        data = artefacts.load("placement", text, origin)
        return cls(artefacts.field(data, "chips", int, origin),
                   artefacts.records(CorePlace, data.get("cores"), origin, "cores"))


def cores_per_chip(chip: Chip) -> int | None:
    return chip.topology.app_cores_per_chip or chip.topology.cores_per_chip


def place(part: Partition, chip: Chip, chips: int | None = None) -> Placement:
    """Placement of every core of ``part``; ``chips`` caps the chips available."""
    per_chip = cores_per_chip(chip) or max(1, len(part.cores))
    needed = -(-len(part.cores) // per_chip)
    _check_chips(part, chip, needed, per_chip, chips)
    per_tile = chip.topology.cores_per_tile or 1
    tiles = -(-per_chip // per_tile)
    cols = math.ceil(math.sqrt(tiles))
    rows = -(-tiles // cols)
    chip_cols = math.ceil(math.sqrt(max(1, needed)))
    placed = []
    for core in part.cores:
        chip_id, local = divmod(core.core, per_chip)
        tile = local // per_tile
        cy, cx = divmod(chip_id, chip_cols)
        ty, tx = divmod(tile, cols)
        placed.append(CorePlace(core.core, chip_id, tile, cx * cols + tx, cy * rows + ty))
    return Placement(needed, tuple(placed))


def _check_chips(part: Partition, chip: Chip, needed: int, per_chip: int,
                 chips: int | None) -> None:
    limits = [(chips, "chips given (--chips)"),
              (chip.topology.max_chips, f"{chip.name}'s largest system (topology.max_chips)")]
    for limit, what in limits:
        if limit is not None and needed > limit:
            populations = list(dict.fromkeys(c.population for c in part.cores))
            biggest = max(populations, key=lambda p: len(part.of(p)))  # first of equals
            raise ResourceExceededError(
                f"graph needs {len(part.cores)} cores = {needed} chips of {per_chip} cores, "
                f"more than the {limit} {what}; largest: node '{biggest}' on "
                f"{len(part.of(biggest))} cores", resource="chips", need=needed, limit=limit,
                node=biggest)
