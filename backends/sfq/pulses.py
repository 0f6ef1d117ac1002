"""Pulse emulation of one synapse layer on the engine: gates, merger trees, collisions.

The engine hands a synapse model the spikes each step sends (``SynapseRunner.deliver``). A
spike becomes pulses that reach the leaves of its targets' merger trees at the ticks of
``cells.layer_timing``: a deterministic synapse sends its |n| pulses ``spacing`` ticks apart;
a stochastic gate sends ``pulses_per_spike`` pulses and passes each with its probability p
(one seeded Bernoulli draw per pulse, from the connection's generator). Each passed pulse is
worth ``worth`` fluxon units at the neuron. Up the merger tree, two pulses that reach one
merger less than ``window`` ticks apart collide and the later is lost (``collide``).

Fast paths, where pulse timing cannot change the count: with ``serialize`` the gates release
their pulses one after another (clocked DROs), so nothing collides and the delivered count is
the gate count; without it, a tree that receives at most one pulse in a step cannot collide,
and only the (step, batch row) entries holding a tree with two or more pulses are emulated
pulse by pulse. Counters per send step (summed over the batch): ``pulses_in`` (pulses into the
gates), ``pulses`` (delivered to neurons), ``collisions`` (lost at mergers), ``fast_path`` and
``pulse_level`` (batch rows resolved without and with pulse-level emulation), ``serialized``
(batch rows run with serialised gates: the cost model prices the serialiser from it),
``pulses_per_spike`` (batch rows times k for stochastic gates, 0 for deterministic ones: the
cost model times the circuit in the run's own settings), ``merger_passes`` (merger levels the
pulses out of the gates pass: each pulse its own tree's depth).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("pulses_in", "pulses", "collisions", "fast_path", "pulse_level", "serialized",
         "pulses_per_spike", "merger_passes")


def collide(tree: np.ndarray, leaf: np.ndarray, time: np.ndarray, tree_depth: np.ndarray,
            window: int) -> np.ndarray:
    """Which pulses are lost in their merger trees. Pulse k enters leaf ``leaf[k]`` of tree
    ``tree[k]`` (of ``tree_depth[k]`` levels) at tick ``time[k]``; every leaf is equally far
    from the root, so at each level the pulses meeting at one merger (leaf >> level + 1) are
    compared by their leaf ticks: a pulse less than ``window`` after the last one the merger
    passed is lost (a merger is dead for its window after passing a pulse, not after losing
    one). Returns a bool mask of the lost pulses."""
    lost = np.zeros(len(time), bool)
    time = np.asarray(time, np.int64) - int(time.min(initial=0))
    bits = max(1, int(time.max(initial=0)).bit_length())
    # A pulse with no other pulse of its tree within the window can neither be lost nor
    # make another one lost: only the others go up the tree level by level.
    ids = _sort(tree, time, bits, np.arange(len(time)))
    gap = np.diff(time[ids])
    near = (gap < window) & (np.diff(tree[ids]) == 0)
    close = np.concatenate(([False], near)) | np.concatenate((near, [False]))
    ids = ids[close]
    # Sorted by (tree, leaf, time): every merger's pulses are then two time-sorted runs side
    # by side, and each level's sort is a cheap merge of nearly sorted data.
    ids = _sort(tree[ids] * (int(leaf.max(initial=0)) + 1) + leaf[ids], time[ids], bits, ids)
    for level in range(int(tree_depth.max(initial=0))):
        ids = ids[~lost[ids] & (tree_depth[ids] > level)]
        if len(ids) < 2:
            break
        node = leaf[ids] >> (level + 1)
        group = tree[ids] * (int(node.max()) + 1) + node
        order = _sort(group, time[ids], bits, None)
        ids, group = ids[order], group[order]
        first = np.concatenate(([True], np.diff(group) != 0))
        lost[ids[_greedy(first, time[ids], window)]] = True
    return lost


def _sort(group: np.ndarray, time: np.ndarray, bits: int, ids) -> np.ndarray:
    """The stable order by (group, time), as one int64 key where it fits. Returns ``ids``
    in that order (or the order itself when ``ids`` is None)."""
    if len(group) and int(group.max()).bit_length() + bits < 63:
        order = np.argsort((group << bits) | time, kind="stable")
    else:
        order = np.lexsort((time, group))
    return order if ids is None else ids[order]


def _greedy(first: np.ndarray, t: np.ndarray, window: int) -> np.ndarray:
    """Within groups of sorted ticks (``first`` marks each group's start), the pulses lost:
    those less than ``window`` after the group's last passed pulse. A pulse at least
    ``window`` after its predecessor always passes; the others are settled in order, one
    pass per run of close pulses (runs are short, so few passes)."""
    gap = np.concatenate(([window], np.diff(t)))
    lost = ~first & (gap == 0)  # a tie with the pulse before: lost whatever that one did
    keep = np.flatnonzero(~lost)
    if len(keep) < len(t):
        lost[keep[_greedy(first[keep], t[keep], window)]] = True
        return lost
    passed = first | (gap >= window)
    last = np.where(passed, t, 0)  # tick of the last passed pulse at or before each one
    open_ = np.flatnonzero(~passed)  # runs of close pulses, each after a passed one
    if not len(open_):
        return lost
    starts = np.concatenate(([True], np.diff(open_) != 1))
    offset = open_ - np.repeat(open_[starts], np.diff(np.append(np.flatnonzero(starts),
                                                                 len(open_))))
    by_offset = open_[np.argsort(offset, kind="stable")]
    for ready in np.split(by_offset, np.cumsum(np.bincount(offset))[:-1]):
        ref = last[ready - 1]  # the m-th pulse of every run: its predecessor is settled
        ok = t[ready] - ref >= window
        last[ready] = np.where(ok, t[ready], ref)
        lost[ready] = ~ok
    return lost


@dataclass(frozen=True, eq=False)
class PulseGates:
    """A synapse layer's gates and trees, per synapse in the engine's fan-out order
    (``Synapses.fanout_lists``): leaf, tree depth, first-pulse arrival tick and (stochastic)
    pass probability. ``scale``: the population's fluxon units per unit of this layer."""

    leaf: np.ndarray
    tree_depth: np.ndarray
    depth_of_tree: np.ndarray  # (slots, n_out): merger levels of each tree
    arrival: np.ndarray
    probability: np.ndarray | None  # None: deterministic multi-fluxon weights
    pulses_per_spike: int
    worth: int
    scale: int
    serialize: bool
    window: int
    spacing: int

    def start(self, synapses, steps: int, batch: int, rng: np.random.Generator):
        del batch  # the engine's protocol: the runner reads the batch from each delivery
        return _Runner(self, synapses, steps, rng)

    def bound(self, magnitude: int, slots: int) -> int:
        del slots  # the protocol's: the bound per delay slot is the same for every slot
        return int(magnitude) * self.worth * self.scale * max(1, self.pulses_per_spike)


class _Runner:
    def __init__(self, gates: PulseGates, synapses, steps: int, rng: np.random.Generator):
        self.gates, self.synapses, self.rng = gates, synapses, rng
        self.tally = {kind: np.zeros(steps, np.int64) for kind in KINDS}

    def counts(self) -> dict:
        """Per send step, summed over the batch (read by the engine after the run)."""
        return self.tally

    def deliver(self, partial: np.ndarray, sent: np.ndarray, first_step: int) -> np.ndarray:
        g = self.gates
        rows, batch = partial.shape[:2]
        steps = slice(first_step, first_step + rows)
        if g.probability is None:
            got, pulses_in, lost = self._deterministic(partial, sent)
        else:
            got, pulses_in, lost = self._stochastic(partial, sent)
            self.tally["pulses_per_spike"][steps] += batch * g.pulses_per_spike
        emulated = np.zeros(rows, np.int64) if lost is None else lost[1]
        # every pulse out of a gate is charged its own tree's depth (a lost one too: an
        # upper bound, it stops at the level where it collides)
        self.tally["merger_passes"][steps] += (got * g.depth_of_tree).sum(axis=(1, 2, 3))
        got = got if lost is None else got - lost[0]
        self.tally["pulses_in"][steps] += pulses_in
        if lost is not None:
            self.tally["collisions"][steps] += lost[0].sum(axis=(1, 2, 3))
        self.tally["pulse_level"][steps] += emulated
        self.tally["fast_path"][steps] += batch - emulated
        self.tally["serialized"][steps] += batch if g.serialize else 0
        self.tally["pulses"][steps] += got.sum(axis=(1, 2, 3))
        return got * (g.worth * g.scale)

    def _busy(self, got: np.ndarray) -> np.ndarray | None:
        """Per (step, batch row): whether a tree got two pulses or more (None: serialised,
        nothing can collide)."""
        if self.gates.serialize:
            return None
        emulate = (got >= 2).any(axis=(2, 3))
        return emulate if emulate.any() else None

    def _deterministic(self, partial: np.ndarray, sent: np.ndarray):
        """Each synapse sends its |n| pulses: the engine's sums are the pulse counts."""
        got = partial.astype(np.int64)
        emulate = self._busy(got)
        lost = None
        if emulate is not None:
            rows, batch, slots, n_out = got.shape
            events = self._events(sent, slots, n_out, emulate.reshape(-1))
            _, _, weight, _ = self.synapses.fanout_lists()
            many = weight[events[1]].astype(np.int64)
            event = np.repeat(np.arange(len(many)), many)
            k = np.arange(len(event)) - np.repeat(np.cumsum(many) - many, many)
            lost = (self._collisions(got, events, event, k), emulate.sum(axis=1))
        return got, got.sum(axis=(1, 2, 3)), lost

    def _stochastic(self, partial: np.ndarray, sent: np.ndarray):
        """Each spike sends k pulses into each of its gates, each passed with the gate's p
        (one seeded draw per pulse)."""
        g = self.gates
        rows, batch, slots, n_out = partial.shape
        events = self._events(sent, slots, n_out, np.ones(rows * batch, bool))
        passed = self.rng.random((len(events[0]), g.pulses_per_spike)) < \
            g.probability[events[1]][:, None]
        pulses_in = np.bincount(events[0] // (slots * n_out * batch),
                                minlength=rows)[:rows] * g.pulses_per_spike
        got = np.bincount(events[0], passed.sum(axis=1), rows * batch * slots * n_out)
        got = got.astype(np.int64).reshape(partial.shape)
        emulate = self._busy(got)
        lost = None
        if emulate is not None:
            event, k = np.nonzero(passed)
            lost = (self._collisions(got, events, event, k), emulate.sum(axis=1))
        return got, pulses_in, lost

    def _events(self, sent: np.ndarray, slots: int, n_out: int, rows_used: np.ndarray):
        """Every (spike, synapse) of the sent spikes in the used (step, batch) rows: its tree
        (flat index into (rows, batch, slots, n_out)) and its fan-out position."""
        indptr, target, _, slot = self.synapses.fanout_lists()
        flat = sent.reshape(-1, sent.shape[-1]) & rows_used[:, None]
        rb, j = np.nonzero(flat)
        counts = self.synapses.fanout[j]
        start = np.cumsum(counts) - counts
        pos = np.arange(int(counts.sum())) + np.repeat(indptr[j] - start, counts)
        tree = (np.repeat(rb, counts) * slots + slot[pos]) * n_out + target[pos]
        return tree, pos

    def _collisions(self, got: np.ndarray, events, event: np.ndarray,
                    k: np.ndarray) -> np.ndarray:
        """Pulses lost per tree (same shape as ``got``): pulse ``k`` of each (spike, synapse)
        ``event``, on the trees that got two pulses or more."""
        g = self.gates
        tree, pos = events[0][event], events[1][event]
        busy = (got.reshape(-1) >= 2)[tree]  # only trees that can collide
        tree, pos, k = tree[busy], pos[busy], k[busy]
        lost = collide(tree, g.leaf[pos], g.arrival[pos] + k * g.spacing, g.tree_depth[pos],
                       g.window)
        return np.bincount(tree[lost], minlength=got.size).reshape(got.shape)
