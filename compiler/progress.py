"""Long simulations in slices of the batch, with progress on stderr.

Batch rows are independent runs, so a large batch runs ``ROWS`` rows at a time and the
recordings are joined: outputs and states along the batch axis, spike counts, counters and
per-neuron activity summed. A line on stderr tells how far it got once a run has taken
longer than ``QUIET_SECONDS`` (short runs stay silent; so does output that is not a
terminal). ``Stages`` times the stages of a command and prints each one's time.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Mapping

import numpy as np

ROWS = 256  # batch rows per slice: large enough that slicing costs nothing measurable
QUIET_SECONDS = 2.0


def simulate_in_slices(simulate: Callable, inputs: Mapping[str, np.ndarray], label: str,
                       rows: int = ROWS, stream=None, quiet: bool = False):
    """``simulate(inputs)`` over slices of ``rows`` batch rows, joined into one recording
    (``quiet``: no progress line)."""
    stream = sys.stderr if stream is None else stream
    batch = next(iter(inputs.values())).shape[1]
    if batch <= rows:
        return simulate(inputs)
    start, parts = time.perf_counter(), []
    for first in range(0, batch, rows):
        part = {name: array[:, first:first + rows] for name, array in inputs.items()}
        parts.append(simulate(part))
        done = min(first + rows, batch)
        if not quiet and time.perf_counter() - start > QUIET_SECONDS and stream.isatty():
            print(f"\r{label}: {done}/{batch} batch rows", end="" if done < batch else "\n",
                  file=stream, flush=True)
    return join(parts)


def join(parts: list):
    """One recording of consecutive batch slices."""
    first = parts[0]
    along_batch = lambda key: {name: np.concatenate([getattr(p, key)[name] for p in parts],  # noqa: E731
                                                     axis=1) for name in getattr(first, key)}
    summed = lambda key: {name: sum(getattr(p, key)[name] for p in parts)  # noqa: E731
                          for name in getattr(first, key)}
    joined = replace(first, outputs=along_batch("outputs"), states=along_batch("states"),
                     spike_counts=summed("spike_counts"), batch=sum(p.batch for p in parts),
                     activity=summed("activity"))
    if first.counters is not None:  # every kind the runs counted, summed
        joined.counters = type(first.counters).summed([p.counters for p in parts])
    return joined


class Stages:
    """The stages of one command, each timed: ``with stages.stage("simulating on loihi2"):``.

    Unless quiet, the stages' times go to stderr when the command has succeeded (``done``:
    stdout stays the command's own output, e.g. JSON, and a failing command prints its one
    error line only), and the per-slice progress of long simulations is shown on a terminal.
    """

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.seconds: dict[str, float] = {}
        self.lines: list[str] = []

    @contextmanager
    def stage(self, label: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - start
            self.seconds[label] = self.seconds.get(label, 0.0) + took
            self.lines.append(f"[{took:8.3f} s] {label}")

    def done(self) -> None:
        """Print the stages' times (unless quiet): the command succeeded."""
        if not self.quiet and self.lines:
            print("\n".join(self.lines), file=self.stream, flush=True)

    def simulate(self, simulate: Callable, inputs: Mapping[str, np.ndarray], label: str):
        """``simulate_in_slices`` as one timed stage (its progress silent when quiet)."""
        with self.stage(label):
            return simulate_in_slices(simulate, inputs, label, quiet=self.quiet,
                                      stream=self.stream)
