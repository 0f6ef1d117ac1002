"""SpiNN-5 boards as SpiNNMachine 1!7.4.1 builds a virtual machine of them.

A board holds 48 chips in a hexagon inside an 8 x 8 grid (``spinn_machine/version/version_5.py``
``CHIPS_PER_BOARD``, coordinates relative to the board's Ethernet chip). Boards tile in triads
of three per 12 x 12 chips, their Ethernet chips at (0, 0), (4, 8) and (8, 4) of each triad
(``SpiNNakerTriadGeometry.get_spinn5_geometry``). For N > 1 boards the machine is
spalloc's rectangle of triads, (12 w + 4) x (12 h + 4) chips with w = ceil(sqrt(ceil(N/3))),
h = ceil(ceil(N/3)/w) (``Version48Chips.size_from_n_boards``); such a size is not a multiple of
12, so the virtual machine has no wrap-around links (``NoWrapMachine``), and only boards whose
Ethernet chip lies in ``get_potential_ethernet_chips`` exist. One board (8 x 8) has none either.

Links (``Machine.LINK_ADD_TABLE``): 0 east (+1, 0), 1 north-east (+1, +1), 2 north (0, +1),
3 west, 4 south-west, 5 south; link l and l + 3 (mod 6) are opposite. A link exists when the
chip at its far end exists.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

# version_5.py CHIPS_PER_BOARD: each chip's cores (relative to its board's Ethernet chip);
# a virtual board's chip has cores 1..n-1 for applications (0 runs SCAMP)
BOARD_CORES = {
    (0, 0): 18, (0, 1): 18, (0, 2): 18, (0, 3): 18, (1, 0): 18, (1, 1): 17,
    (1, 2): 18, (1, 3): 17, (1, 4): 18, (2, 0): 18, (2, 1): 18, (2, 2): 18,
    (2, 3): 18, (2, 4): 18, (2, 5): 18, (3, 0): 18, (3, 1): 17, (3, 2): 18,
    (3, 3): 17, (3, 4): 18, (3, 5): 17, (3, 6): 18, (4, 0): 18, (4, 1): 18,
    (4, 2): 18, (4, 3): 18, (4, 4): 18, (4, 5): 18, (4, 6): 18, (4, 7): 18,
    (5, 1): 18, (5, 2): 17, (5, 3): 18, (5, 4): 17, (5, 5): 18, (5, 6): 17,
    (5, 7): 18, (6, 2): 18, (6, 3): 18, (6, 4): 18, (6, 5): 18, (6, 6): 18,
    (6, 7): 18, (7, 3): 18, (7, 4): 18, (7, 5): 18, (7, 6): 18, (7, 7): 18}
BOARD_CHIPS = tuple(BOARD_CORES)
LINKS = ((1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1))
TRIAD, BOARD, ROOTS = 12, 8, ((0, 0), (4, 8), (8, 4))


def opposite(link: int) -> int:
    return (link + 3) % 6


def size_for_boards(boards: int) -> tuple[int, int]:
    """Width and height of the machine spalloc gives for ``boards`` boards."""
    if boards <= 1:
        return BOARD, BOARD
    triads = math.ceil(boards / 3)
    width = math.ceil(math.sqrt(triads))
    return width * TRIAD + 4, math.ceil(triads / width) * TRIAD + 4


def ethernet_chips(width: int, height: int) -> list[tuple[int, int]]:
    """``SpiNNakerTriadGeometry.get_potential_ethernet_chips`` for a no-wrap machine."""
    eth_w = width if width % TRIAD == 0 else width - BOARD + 1
    eth_h = height if height % TRIAD == 0 else height - BOARD + 1
    return [(x, y) for sx, sy in ROOTS for y in range(sy, eth_h, TRIAD)
            for x in range(sx, eth_w, TRIAD)]


@dataclass(frozen=True)
class Machine:
    """The chips of ``boards`` boards; ``chips`` in placement order: board by board (Ethernet
    order), each board's chips nearest its Ethernet chip first (hexagonal distance), so that
    consecutive cores land on neighbouring chips."""

    boards: int
    width: int
    height: int
    chips: tuple[tuple[int, int], ...]
    ethernets: tuple[tuple[int, int], ...]

    @cached_property
    def exists(self) -> frozenset:
        return frozenset(self.chips)

    @cached_property
    def index(self) -> dict:
        return {xy: i for i, xy in enumerate(self.chips)}

    def over(self, xy: tuple[int, int], link: int) -> tuple[int, int] | None:
        """The chip at the far end of ``link`` from ``xy``, or None."""
        far = (xy[0] + LINKS[link][0], xy[1] + LINKS[link][1])
        return far if far in self.exists else None

    def board_of(self, xy: tuple[int, int]) -> int:
        return self.index[xy] // len(BOARD_CHIPS)

    def ethernet_of(self, xy: tuple[int, int]) -> tuple[int, int]:
        return self.ethernets[self.board_of(xy)]

    def cores(self, xy: tuple[int, int]) -> int:
        """The chip's cores (17 or 18), as the virtual board gives them."""
        ex, ey = self.ethernet_of(xy)
        return BOARD_CORES[(xy[0] - ex, xy[1] - ey)]


def hex_distance(dx: int, dy: int) -> int:
    """Links between two chips dx, dy apart on the triangular mesh (NE is one link)."""
    return max(abs(dx), abs(dy), abs(dx - dy))


def machine(boards: int) -> Machine:
    """The virtual machine of (at least) ``boards`` boards, as SpiNNMachine builds it."""
    width, height = size_for_boards(boards)
    roots = ethernet_chips(width, height)
    chips: list[tuple[int, int]] = []
    for ex, ey in roots:
        board = [(ex + x, ey + y) for x, y in BOARD_CHIPS if ex + x < width and ey + y < height]
        board.sort(key=lambda xy: (hex_distance(xy[0] - ex, xy[1] - ey), xy))
        chips += board
    return Machine(len(roots), width, height, tuple(chips), tuple(roots))
