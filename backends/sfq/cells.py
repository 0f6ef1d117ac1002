"""The SFQ cell library in integer ticks, and the timing of one synapse layer.

Every cell delay of the chip model's ``[sfq]`` section becomes a whole number of ticks
(``sfq.tick``), so pulse times are exact integers and two pulses either meet within a
merger's window or do not (PyLSE groups equal float timestamps instead, which rounding
breaks). The layer timing below is shared by the pulse emulation and the circuit mapping.

A synapse layer (one matrix, one sign) is built as:
- per source neuron, a balanced splitter tree to its synapses in the layer: depth
  ceil(log2 fan-out) splitters;
- per synapse, JTL wiring from the tree leaf to the gate: 1 + the distance in cell pitches
  across the synaptic array, |j n_out - i n_in| // max(n_in, n_out) (synapse (i, j) of a
  source row j and target column i; a layout assumption, so pulses from different sources
  reach a tree at different ticks);
- the gate (stochastic pass gate or multi-fluxon generator: |n| pulses ``pulse_spacing``
  apart);
- per target neuron and delay, a balanced merger tree over its synapses (leaves in source
  order, depth ceil(log2 fan-in); a subtree of one leaf is a JTL of the merger's delay), so
  every leaf is the same number of ticks from the root and collisions are decided by the
  leaf arrival ticks alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from snnc.errors import OptionError

CELLS = ("jtl", "splitter", "merger", "dro", "gate", "neuron")


@dataclass(frozen=True)
class Cells:
    """Delays in ticks and junction counts of the cell library, and the merger window and
    pulse spacing in ticks."""

    tick: float  # seconds
    delay: dict
    jjs: dict
    window: int
    spacing: int


def cells(chip) -> Cells:
    """The chip model's cell library in ticks (one clear error for a missing figure)."""
    sfq = chip.sfq
    need = ["tick", "merger_window", "pulse_spacing"] + [f"{c}_delay" for c in CELLS] \
        + [f"{c}_jjs" for c in CELLS]
    missing = [k for k in need if getattr(sfq, k) is None]
    if missing:
        raise OptionError(f"chip '{chip.name}' gives no sfq.{missing[0]}, which the SFQ "
                          "emulator needs")
    ticks = partial(_ticks, tick=sfq.tick)
    window, spacing = ticks(sfq.merger_window), ticks(sfq.pulse_spacing)
    if window < 1 or spacing < window:
        raise OptionError(f"chip '{chip.name}': sfq.pulse_spacing ({sfq.pulse_spacing:g} s) "
                          f"must be at least sfq.merger_window ({sfq.merger_window:g} s) and "
                          "the window at least one tick")
    return Cells(sfq.tick, {c: ticks(getattr(sfq, f"{c}_delay")) for c in CELLS},
                 {c: int(getattr(sfq, f"{c}_jjs")) for c in CELLS}, window, spacing)


def _ticks(seconds: float, tick: float) -> int:
    return int(round(seconds / tick))


def depth(count: np.ndarray) -> np.ndarray:
    """Levels of a balanced binary tree with ``count`` leaves (0 for one leaf or none)."""
    count = np.maximum(np.asarray(count, np.int64), 1)
    return np.ceil(np.log2(count)).astype(np.int64)


@dataclass(frozen=True)
class LayerTiming:
    """Per synapse of one layer, in the order of ``target, source, slot`` (coordinate
    lists): its merger-tree leaf, the depth of its tree, the tick its first pulse reaches
    the leaf, and the wiring JTLs; per source, its splitter-tree depth."""

    target: np.ndarray
    source: np.ndarray
    slot: np.ndarray
    leaf: np.ndarray
    tree_depth: np.ndarray
    arrival: np.ndarray
    wires: np.ndarray
    split_depth: np.ndarray


def layer_timing(pulses: np.ndarray, slot_of: np.ndarray, lib: Cells) -> LayerTiming:
    """The timing of a layer of nonzero pulse counts ``pulses`` (n_out, n_in) whose
    synapses sit in delay slots ``slot_of`` (same shape)."""
    n_out, n_in = pulses.shape
    target, source = np.nonzero(pulses)  # row-major: by target, then source
    slot = slot_of[target, source]
    order = np.lexsort((source, slot, target))  # leaves in source order per (target, slot)
    target, source, slot = target[order], source[order], slot[order]
    tree = target * (int(slot_of.max(initial=0)) + 1) + slot
    starts = np.r_[0, np.flatnonzero(np.diff(tree)) + 1] if len(tree) else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, len(tree)])
    leaf = np.arange(len(tree)) - np.repeat(starts, sizes)
    tree_depth = np.repeat(depth(sizes), sizes)
    split_depth = depth(np.count_nonzero(pulses, axis=0))
    wires = 1 + np.abs(source * n_out - target * n_in) // max(n_in, n_out)
    arrival = (split_depth[source] * lib.delay["splitter"] + wires * lib.delay["jtl"]
               + lib.delay["gate"])
    return LayerTiming(target, source, slot, leaf, tree_depth, arrival.astype(np.int64),
                       wires, split_depth)
