"""compress: PACMAN 1!7.4.1's ordered pair compressor (``pair_compressor.py``), the
compressor sPyNNaker runs on the host for a virtual board.

Routes are ranked by how many entries use them (most first; ties in order of first use); the
table is sorted so the rarest route's entries come first and the most common route's last
(a router takes the first match, so later entries may cover earlier keys). Route by route, an
entry is merged with the first later entry of the same route whose merge
(key = k1 & k2 & mask, mask = m1 & m2 & ~(k1 ^ k2)) intersects no entry of a route still to
come ((k_a & m_b) == (k_b & m_a)); a merged entry keeps trying, an unmergeable one is written
out. Here the default-routed keys removed from the table (``routing``) count as entries still
to come, so no merge captures them. Vectorised over the candidates of each step with numpy.
"""
from __future__ import annotations

import numpy as np

from .routing import Entry


def pair_compress(entries: list[Entry], blockers: list[Entry] = ()) -> list[Entry]:
    """The compressed table (table order), never longer than ``entries``."""
    if len(entries) < 2:
        return list(entries)
    frequency: dict[int, int] = {}
    for e in entries:
        frequency[e.route] = frequency.get(e.route, 0) + 1
    ranked = sorted(frequency, key=lambda r: -frequency[r])  # stable: first use breaks ties
    rank = {route: i for i, route in enumerate(ranked)}
    ordered = sorted(entries, key=lambda e: -rank[e.route])  # stable within a route
    keys = np.array([e.key for e in ordered], np.int64)
    masks = np.array([e.mask for e in ordered], np.int64)
    routes = [e.route for e in ordered]
    block_k = np.array([e.key for e in blockers], np.int64)
    block_m = np.array([e.mask for e in blockers], np.int64)
    out: list[Entry] = []
    left = 0
    while left < len(ordered):
        right = left
        while right + 1 < len(ordered) and routes[right + 1] == routes[left]:
            right += 1
        later_k = np.concatenate([keys[right + 1:], block_k])
        later_m = np.concatenate([masks[right + 1:], block_m])
        out += [Entry(int(k), int(m), routes[left]) for k, m in
                _compress_route(keys[left:right + 1], masks[left:right + 1], later_k, later_m)]
        left = right + 1
    return out


def _compress_route(keys: np.ndarray, masks: np.ndarray, later_k: np.ndarray,
                    later_m: np.ndarray) -> list[tuple[int, int]]:
    """``_compress_by_route``: the merged (key, mask) pairs of one route, in written order."""
    keys, masks = list(keys), list(masks)
    written = []
    left, right = 0, len(keys) - 1
    while left < right:
        k = np.array(keys[left + 1:right + 1], np.int64)
        m = np.array(masks[left + 1:right + 1], np.int64)
        mask = masks[left] & m & ~(keys[left] ^ k)
        key = keys[left] & k & mask
        clash = ((later_k[None, :] & mask[:, None]) == (key[:, None] & later_m[None, :])).any(1)
        free = np.flatnonzero(~clash)
        if len(free):
            index = left + 1 + int(free[0])
            keys[left], masks[left] = int(key[free[0]]), int(mask[free[0]])
            keys[index], masks[index] = keys[right], masks[right]
            right -= 1
        else:
            written.append((keys[left], masks[left]))
            left += 1
    if left == right:
        written.append((keys[left], masks[left]))
    return written
