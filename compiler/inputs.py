"""Simulation input files: ``.npz`` with ``spikes`` shaped (steps, [batch,] *input_shape).

A graph with several Input nodes takes one array per Input node name instead of ``spikes``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .ir import Graph


def load_spikes(path: str | Path, graph: Graph, steps: int | None = None) -> dict[str, np.ndarray]:
    """Input arrays per Input node, shaped (steps, batch, *shape), checked against the graph."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        raise InputError(f"{path}: not a readable .npz file") from None
    if "spikes" in arrays and len(graph.inputs) == 1:
        arrays = {graph.inputs[0]: arrays["spikes"]}
    missing = [name for name in graph.inputs if name not in arrays]
    if missing:
        expected = "'spikes'" if len(graph.inputs) == 1 else ", ".join(map(repr, graph.inputs))
        raise InputError(f"{path}: needs array {expected} (found: {', '.join(arrays) or 'none'})")
    return {name: _fit(path, name, arrays[name], graph.nodes[name].shape, steps)
            for name in graph.inputs}


def _fit(path: Path, name: str, array: np.ndarray, shape: tuple[int, ...],
         steps: int | None) -> np.ndarray:
    if array.ndim == len(shape) + 1 and array.shape[1:] == shape:
        array = array[:, None]  # unbatched: a batch of one
    if array.ndim != len(shape) + 2 or array.shape[2:] != shape:
        raise InputError(f"{path}: input '{name}' has shape {array.shape}; the model expects "
                         f"(steps, [batch,] {', '.join(map(str, shape))})")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise InputError(f"{path}: input '{name}' is not numeric (dtype {array.dtype})")
    if steps is not None:
        if not 1 <= steps <= len(array):
            raise InputError(f"{path}: --steps {steps} is outside 1..{len(array)}, "
                             f"the steps the input holds")
        array = array[:steps]
    return array
