"""place: machine vertices onto the application cores of SpiNN-5 boards.

Vertices are placed in partition order (populations in the graph's order, each one's slices
together, DelayExtensions last, as sPyNNaker's ``DelaySupportAdder`` adds them), filling the
chips of ``machine.Machine`` in its order: a chip takes cores until it has
``topology.app_cores_per_chip`` (16) or the next core's SDRAM would pass
``topology.chip_memory``. Processor ids start at 1 (0 is the SCAMP monitor).

As many boards are used as the cores need (the least spalloc machine with that many chips);
more chips than ``--chips`` or ``topology.max_chips`` raise the fit error. sPyNNaker differs
in what it reserves: on a virtual board it puts an ExtraMonitorSupport core on every chip (and
a packet gatherer on each Ethernet chip), leaving 15-16 application cores, and its
ApplicationPlacer grows each application vertex over a chip and its neighbours rather than in
one sweep; the cores and chips counted here are the network's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from snnc.errors import ResourceExceededError

from .machine import BOARD_CHIPS, Machine, machine
from .vertices import Partition


@dataclass(frozen=True)
class Place:
    core: int  # the vertex
    x: int
    y: int
    p: int  # processor id on its chip (1..)

    @property
    def xy(self) -> tuple[int, int]:
        return self.x, self.y


@dataclass(frozen=True)
class Placement:
    machine: Machine
    places: tuple[Place, ...]  # one per vertex, in vertex order

    @property
    def chips_used(self) -> list[tuple[int, int]]:
        return list(dict.fromkeys(p.xy for p in self.places))

    def to_dict(self) -> dict:
        return {"boards": self.machine.boards, "width": self.machine.width,
                "height": self.machine.height, "chips_used": len(self.chips_used),
                "places": [asdict(p) for p in self.places]}


def place(part: Partition, chip, chips: int | None = None) -> Placement:
    """Every vertex of ``part`` on a chip and processor (see the module docstring)."""
    per_chip = chip.topology.app_cores_per_chip or chip.topology.cores_per_chip
    memory = chip.topology.chip_memory // 8
    slots = []  # (chip number, processor) per vertex
    used, sdram = 0, 0
    for v in part.vertices:
        if slots and (used == per_chip or sdram + v.sdram > memory):
            used, sdram = 0, 0
        number = slots[-1][0] + (used == 0) if slots else 0
        used += 1
        sdram += v.sdram
        slots.append((number, used))
    needed = slots[-1][0] + 1 if slots else 1
    _check_chips(part, chip, needed, chips)
    boards = -(-needed // len(BOARD_CHIPS))
    board = machine(boards)
    while len(board.chips) < needed:  # spalloc rectangles hold whole triads; never loops long
        boards += 1
        board = machine(boards)
    places = tuple(Place(v.core, *board.chips[number], p)
                   for v, (number, p) in zip(part.vertices, slots))
    return Placement(board, places)


def _check_chips(part: Partition, chip, needed: int, chips: int | None) -> None:
    for limit, what in ((chips, "chips given (--chips)"),
                        (chip.topology.max_chips, f"{chip.name}'s largest machine "
                                                  "(topology.max_chips)")):
        if limit is not None and needed > limit:
            apps = list(dict.fromkeys(v.app for v in part.vertices))
            biggest = max(apps, key=lambda a: len(part.of(a)))
            raise ResourceExceededError(
                f"network needs {len(part.vertices)} cores = {needed} SpiNNaker chips, more than "
                f"the {limit} {what}; largest: node '{biggest}' on {len(part.of(biggest))} "
                "cores", resource="chips", need=needed, limit=limit, node=biggest)
