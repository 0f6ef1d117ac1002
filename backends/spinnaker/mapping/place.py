"""place: machine vertices onto the application cores of SpiNN-5 boards, as sPyNNaker 1!7.4.1
places them on a virtual machine.

System cores first (``insert_extra_monitor_vertices_to_graphs.py``, ``pick_core_for_system_
placement``): each Ethernet chip's lowest free core takes a DataSpeedUpPacketGatherer, every
chip's next one an ExtraMonitorSupport (``arm.system_cores_per_ethernet_chip`` and
``arm.system_cores_per_chip``). A chip's application cores are its cores 1..n-1 (n is 17 or
18 per ``machine.BOARD_CORES``; core 0 runs SCAMP) less those, and at most
``topology.app_cores_per_chip``.

Then PACMAN's ``ApplicationPlacer`` (``pacman/operations/placer_algorithms/application_
placer.py``), which keeps an application vertex's cores together: vertices go in partition
order (populations in the graph's order, each one's slices together, DelayExtensions last, as
``DelaySupportAdder`` adds them), every machine vertex a same-chip group of its own. An
application vertex starts on the first chip that is not full: the start chips its
predecessor tried, then the machine's chips in x-major order. Its cores fill that chip, then
grow into the chip's neighbours (link order east, north-east, north, west, south-west, south;
chips on the same board first); when the neighbourhood runs out before the vertex is placed,
it starts again from the next start chip. A chip takes a core while it has a free core and its
SDRAM (``topology.chip_memory``) holds the core's.

As many boards are used as the placement needs (the least spalloc machine it fits on); more
chips than ``--chips`` or ``topology.max_chips`` raise the fit error.
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
    system_cores: int = 0  # sPyNNaker's monitors and gatherers on the chips of the machine

    @property
    def chips_used(self) -> list[tuple[int, int]]:
        return list(dict.fromkeys(p.xy for p in self.places))

    def to_dict(self) -> dict:
        return {"boards": self.machine.boards, "width": self.machine.width,
                "height": self.machine.height, "chips_used": len(self.chips_used),
                "system_cores": self.system_cores,
                "places": [asdict(p) for p in self.places]}


class _OutOfChips(Exception):
    """The machine has no start chip left for an application vertex."""


def place(part: Partition, chip, chips: int | None = None) -> Placement:
    """Every vertex of ``part`` on a chip and processor (see the module docstring)."""
    boards = max(1, -(-len(part.vertices) // (17 * len(BOARD_CHIPS))))  # 17: a chip's most
    largest = chip.topology.max_chips
    while True:
        board = machine(boards)
        placer = _Placer(board, chip)
        try:
            places = placer.place(part)
        except _OutOfChips:
            if largest is not None and len(board.chips) >= largest:
                _check_chips(part, chip, len(board.chips) + 1, chips)
            boards = board.boards + 1
            continue
        _check_chips(part, chip, len(dict.fromkeys(p.xy for p in places)), chips)
        return Placement(board, places, placer.system_cores)


class _Placer:
    """PACMAN's ApplicationPlacer on one machine, with one-vertex same-chip groups."""

    def __init__(self, board: Machine, chip):
        self.board = board
        arm, top = chip.arm, chip.topology
        per_chip = top.app_cores_per_chip or top.cores_per_chip
        self.memory = top.chip_memory // 8 if top.chip_memory else None  # bits -> bytes
        self.free: dict[tuple[int, int], list[int]] = {}
        self.system_cores = 0
        for xy in board.chips:
            system = (arm.system_cores_per_chip or 0) + (
                (arm.system_cores_per_ethernet_chip or 0) if xy in board.ethernets else 0)
            cores = list(range(1, board.cores(xy)))[system:]
            self.free[xy] = cores[:per_chip]
            self.system_cores += system
        self.sdram = dict.fromkeys(board.chips, 0)
        self.order = iter(sorted(board.chips))  # _chip_order: x, then y
        self.full: set = set()
        self.restored: list = []
        self.tried: list = []

    def place(self, part: Partition) -> tuple[Place, ...]:
        apps: dict[str, list] = {}
        for v in part.vertices:
            apps.setdefault(v.app, []).append(v)
        where = {}
        for vertices in apps.values():
            self.restored += self.tried
            self.tried = []
            made = None
            while made is None:
                made = self._prepare(vertices)
            for v, xy, p in made:
                self.free[xy].remove(p)
                self.sdram[xy] += v.sdram
                where[v.core] = Place(v.core, *xy, p)
        return tuple(where[v.core] for v in part.vertices)

    def _prepare(self, vertices) -> list | None:
        """The placements of one application vertex from the next start chip, or None when
        its neighbourhood runs out first (the caller tries the next start)."""
        self.prepared, self.current = set(), None
        made = []
        for v in vertices:
            xy = self._next_chip_with_space(v.sdram)
            if xy is None:
                return None
            made.append((v, xy, self.current_free.pop(0)))
        return made

    def _next_chip_with_space(self, sdram: int):
        if self.current is None:
            return self._next_start(sdram)
        if self.current_free and self._holds(self.current, self.current_sdram + sdram):
            self.current_sdram += sdram
            return self.current
        while True:  # _get_next_neighbour
            xy = self._pop_neighbour()
            if xy is None or self._space_on_chip(xy, sdram):
                return xy

    def _next_start(self, sdram: int):
        self.same_board, self.other_boards = {}, {}
        while True:
            start = self._pop_start()
            self.tried.append(start)
            self.ethernet = self.board.ethernet_of(start)
            if self._space_on_chip(start, sdram):
                return start

    def _pop_start(self):
        while self.restored:
            xy = self.restored.pop(0)
            if xy not in self.full:
                return xy
        for xy in self.order:
            if xy not in self.full:
                return xy
        raise _OutOfChips

    def _holds(self, xy, sdram: int) -> bool:
        return self.memory is None or sdram <= self.memory

    def _space_on_chip(self, xy, sdram: int) -> bool:
        if not self.free[xy] or not self._holds(xy, self.sdram[xy]):
            self.full.add(xy)
            return False
        self.prepared.add(xy)
        if not self._holds(xy, self.sdram[xy] + sdram):
            return False
        self.current, self.current_free = xy, list(self.free[xy])
        self.current_sdram = self.sdram[xy] + sdram
        for link in range(6):  # _add_neighbours
            far = self.board.over(xy, link)
            if far is not None and far not in self.full and far not in self.prepared:
                same = self.board.ethernet_of(far) == self.ethernet
                (self.same_board if same else self.other_boards)[far] = far
        return True

    def _pop_neighbour(self):
        if self.same_board:
            xy = next(iter(self.same_board))
            del self.same_board[xy]
            return xy
        if self.other_boards:
            xy = next(iter(self.other_boards))
            del self.other_boards[xy]
            self.ethernet = self.board.ethernet_of(xy)
            rest, self.other_boards = self.other_boards, {}
            for far in rest:
                same = self.board.ethernet_of(far) == self.ethernet
                (self.same_board if same else self.other_boards)[far] = far
            return xy
        return None


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
