"""The one input check: what a caller gives a target (or the engine) against what it reads.

``graph_inputs`` is what every target's ``simulate`` calls first: per Input node of the graph,
an array shaped (steps, batch, *shape), all of one (steps, batch). ``network_inputs`` is the
same rule for an engine ``Network``, whose input populations are flat (size,) and where
(steps, size) stands for batch 1. A target adds its own rules on top (Loihi: binary spikes).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from snnc.errors import InputError

Given = Mapping[str, np.ndarray] | np.ndarray


def graph_inputs(graph, inputs: Given) -> tuple[dict[str, np.ndarray], int, int]:
    """Per Input node of ``graph``, its array (steps, batch, *shape) as given; and
    (steps, batch). A single array stands for the input of a one-Input graph."""
    if not isinstance(inputs, Mapping):
        if len(graph.inputs) != 1:
            raise InputError(f"graph has inputs {graph.inputs}; pass one array per input name")
        inputs = {graph.inputs[0]: inputs}
    shapes = {name: tuple(graph.nodes[name].shape) for name in graph.inputs}
    return check_inputs(shapes, inputs, "Input node")


def network_inputs(network, inputs: Mapping[str, np.ndarray], steps: int | None = None,
                   batch: int | None = None) -> tuple[dict[str, np.ndarray], int, int]:
    """Per input population, its spikes as bool (steps, batch, size); and (steps, batch).
    (steps, size) is batch 1. ``steps``/``batch``, where given, must match the inputs (and
    are needed when there are no input populations)."""
    sizes = {p.name: (p.size,) for p in network.populations if p.is_input}
    arrays, given_steps, given_batch = check_inputs(sizes, inputs, "input population",
                                                    batch_optional=True)
    if arrays:
        if steps is not None and steps != given_steps:
            raise InputError(f"inputs have {given_steps} steps, steps={steps} was asked")
        if batch is not None and batch != given_batch:
            raise InputError(f"inputs have batch {given_batch}, batch={batch} was asked")
        steps, batch = given_steps, given_batch
    if steps is None:
        raise InputError("a network without input populations needs steps=")
    return {name: x != 0 for name, x in arrays.items()}, int(steps), int(batch or 1)


def check_inputs(shapes: Mapping[str, tuple[int, ...]], inputs: Mapping[str, np.ndarray],
                 what: str, batch_optional: bool = False
                 ) -> tuple[dict[str, np.ndarray], int | None, int | None]:
    """``inputs`` against ``shapes`` (per name, the shape of one step of one batch row):
    exactly those names, each (steps, batch, *shape) with finite values, one (steps, batch)
    for all; with ``batch_optional``, (steps, *shape) is batch 1. Returns the arrays, steps
    and batch (None, None when ``shapes`` is empty)."""
    unknown, missing = sorted(set(inputs) - set(shapes)), sorted(set(shapes) - set(inputs))
    if missing or unknown:
        raise InputError(f"inputs must be given for exactly the {what}s {sorted(shapes)}; "
                         f"missing {missing}, unknown {unknown}")
    arrays, lengths = {}, set()
    for name, shape in shapes.items():
        array = np.asarray(inputs[name])
        if batch_optional and array.ndim == len(shape) + 1:
            array = array[:, None]
        if array.ndim != len(shape) + 2 or tuple(array.shape[2:]) != shape:
            batch = "[batch,] " if batch_optional else "batch, "
            raise InputError(f"input '{name}' has shape {np.shape(inputs[name])}; expected "
                             f"(steps, {batch}{', '.join(map(str, shape))})")
        if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            raise InputError(f"input '{name}' holds NaN or infinite values")
        arrays[name] = array
        lengths.add(array.shape[:2])
    if len(lengths) > 1:
        raise InputError(f"inputs disagree on (steps, batch): {sorted(lengths)}")
    steps, batch = next(iter(lengths)) if lengths else (None, None)
    return arrays, steps, batch
