"""Long runs with progress on stderr: rich progress bars, slices of large batches, stage times.

Batch rows are independent runs, so a large batch runs ``ROWS`` rows at a time and the
recordings are joined: outputs and states along the batch axis, spike counts, counters and
per-neuron activity summed. ``bar`` draws a rich progress bar (simulated slices, report
targets, sweep points, trials, streamed batches) once a run has taken longer than
``QUIET_SECONDS``, so short runs stay silent; nothing is drawn when the stream is not a
terminal or the command is ``--quiet``, and bars go to stderr only: stdout carries the
command's result (JSON, a table). Bars opened while another is shown join its display, one
line each; an inner bar is removed when it finishes, the outermost stays. ``Stages`` times
the stages of a command and prints each one's time.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator, Mapping

import numpy as np

ROWS = 256  # batch rows per slice: large enough that slicing costs nothing measurable
QUIET_SECONDS = 2.0
_shown: dict[int, list] = {}  # id(stream) -> [rich Progress, bars using it]


class Bar:
    """One progress bar: ``advance(n)`` counts work done; ``print(text)`` writes a line to
    the stream above the bars (or plainly, while none is drawn). Drawn lazily, see ``bar``."""

    def __init__(self, label: str, total: int, unit: str, stream, show: bool):
        self.label, self.total, self.unit, self.stream, self.show = label, total, unit, stream, show
        self.done, self.start, self.task = 0, time.perf_counter(), None

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.show:
            return
        if self.task is None and time.perf_counter() - self.start > QUIET_SECONDS:
            self._draw()
        if self.task is not None:
            _shown[id(self.stream)][0].update(self.task, completed=self.done)

    def print(self, text: str) -> None:
        live = _shown.get(id(self.stream))
        if live is not None:
            live[0].console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def _draw(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        live = _shown.get(id(self.stream))
        if live is None:  # checked isatty already: a forced terminal, drawn on this stream
            console = Console(file=self.stream, force_terminal=True)
            progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=console)
            progress.start()
            live = _shown[id(self.stream)] = [progress]
        live.append(self)
        self.task = live[0].add_task(self.label, total=self.total, completed=self.done,
                                     unit=self.unit)

    def close(self) -> None:
        live = _shown.get(id(self.stream))
        if self.task is None or live is None:
            return
        live.remove(self)
        if len(live) == 1:  # the last bar shown: stop, leaving its final line on the screen
            live[0].update(self.task, completed=self.done)
            live[0].stop()
            del _shown[id(self.stream)]
        else:
            live[0].remove_task(self.task)


@contextmanager
def bar(label: str, total: int, unit: str, quiet: bool = False, stream=None) -> Iterator[Bar]:
    """A progress bar over ``total`` units of work, on ``stream`` (default stderr); drawn only
    on a terminal, unless ``quiet``, once the work has taken longer than ``QUIET_SECONDS``."""
    stream = sys.stderr if stream is None else stream
    show = not quiet and bool(getattr(stream, "isatty", lambda: False)())
    progress = Bar(label, total, unit, stream, show)
    try:
        yield progress
    finally:
        progress.close()


def simulate_in_slices(simulate: Callable, inputs: Mapping[str, np.ndarray], label: str,
                       rows: int = ROWS, stream=None, quiet: bool = False):
    """``simulate(inputs)`` over slices of ``rows`` batch rows, joined into one recording
    (``quiet``: no progress line)."""
    batch = next(iter(inputs.values())).shape[1]
    if batch <= rows:
        return simulate(inputs)
    parts = []
    with bar(label, batch, "batch rows", quiet, stream) as progress:
        for first in range(0, batch, rows):
            part = {name: array[:, first:first + rows] for name, array in inputs.items()}
            parts.append(simulate(part))
            progress.advance(min(first + rows, batch) - first)
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

    def bar(self, label: str, total: int, unit: str):
        """``bar`` on this command's stream, silent when quiet."""
        return bar(label, total, unit, self.quiet, self.stream)

    def simulate(self, simulate: Callable, inputs: Mapping[str, np.ndarray], label: str):
        """``simulate_in_slices`` as one timed stage (its progress silent when quiet)."""
        with self.stage(label):
            return simulate_in_slices(simulate, inputs, label, quiet=self.quiet,
                                      stream=self.stream)
