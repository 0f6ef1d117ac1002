"""Simulation input files.

- ``.npz`` with ``spikes`` shaped (steps, [batch,] *input_shape); a graph with several Input
  nodes takes one array per Input node name instead.
- a NIR data file (``nir.write_data``): the first observable of each Input node's entry,
  time-gridded (samples, steps, neurons) or events, gridded at the simulation's dt.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .ir import Graph


def load_spikes(path: str | Path, graph: Graph, dt: float,
                steps: int | None = None) -> dict[str, np.ndarray]:
    """Input arrays per Input node, shaped (steps, batch, *shape), checked against the graph."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    arrays = _read_nir_data(path, graph, dt) if h5py.is_hdf5(path) else _read_npz(path)
    if "spikes" in arrays and len(graph.inputs) == 1:
        arrays = {graph.inputs[0]: arrays["spikes"]}
    missing = [name for name in graph.inputs if name not in arrays]
    if missing:
        expected = "'spikes'" if len(graph.inputs) == 1 else ", ".join(map(repr, graph.inputs))
        raise InputError(f"{path}: needs array {expected} (found: {', '.join(arrays) or 'none'})")
    return {name: _fit(path, name, arrays[name], graph.nodes[name].shape, steps)
            for name in graph.inputs}


def load_labels(path: str | Path, batch: int) -> np.ndarray | None:
    """The ``labels`` array (batch,) of an input .npz, if it has one of that length."""
    if Path(path).suffix != ".npz":
        return None
    labels = _read_npz(Path(path)).get("labels")
    return labels if labels is not None and labels.shape == (batch,) else None


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile):
        raise InputError(f"{path}: neither a readable .npz nor a NIR data file") from None


def _read_nir_data(path: Path, graph: Graph, dt: float) -> dict[str, np.ndarray]:
    import nir

    try:
        data = nir.read_data(str(path))
    except Exception as error:  # nir raises KeyError/ValueError/OSError on foreign HDF5
        raise InputError(f"{path}: not a NIR data file ({type(error).__name__}: {error})") from None
    arrays = {}
    for name in graph.inputs:
        entry = data.nodes.get(name)
        if entry is None or not getattr(entry, "observables", None):
            continue
        observable = next(iter(entry.observables.values()))
        if not hasattr(observable, "dt"):  # events: grid them at the simulation's dt
            observable = _grid_events(observable, dt)
        elif not np.isclose(observable.dt, dt, rtol=1e-9, atol=0):
            raise InputError(f"{path}: input '{name}' is gridded at dt {observable.dt:g} s; "
                             f"the simulation uses --dt {dt:g}")
        samples, n_steps, _ = observable.data.shape
        shape = graph.nodes[name].shape
        arrays[name] = observable.data.transpose(1, 0, 2).reshape(n_steps, samples, *shape) \
            if observable.data.shape[2] == np.prod(shape) else observable.data.transpose(1, 0, 2)
    return arrays


def _grid_events(events, dt: float):
    """Events -> (samples, steps, neurons) counts; event time t falls in step floor(t / dt).

    nir's own ``to_time_gridded`` floors t/dt in floating point, which moves an event written
    at exactly step k * dt into step k - 1; a relative slack of 1e-9 keeps it in step k.
    """
    import nir

    steps = int(np.floor(events.t_max / dt * (1 + 1e-9)))
    grid = np.zeros((events.n_samples, steps, events.n_neurons), dtype=np.float32)
    valid = (events.idx >= 0) & np.isfinite(events.time)
    sample, _ = np.nonzero(valid)
    step = np.floor(events.time[valid] / dt * (1 + 1e-9)).astype(np.int64)
    inside = step < steps
    values = getattr(events, "value", np.ones_like(events.time))[valid]
    np.add.at(grid, (sample[inside], step[inside], events.idx[valid][inside]), values[inside])
    return nir.TimeGriddedData(grid, dt)


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


def load_calibration(path: str | Path) -> dict[str, np.ndarray]:
    """Calibration arrays from an .npz: ``inputs`` (N, *input_shape) for ONNX conversion,
    ``spikes`` (steps, batch, *input_shape) and ``labels`` (batch,) for data-driven passes."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    arrays = _read_npz(path)
    known = {k: arrays[k] for k in ("inputs", "spikes", "labels") if k in arrays}
    if not known:
        raise InputError(f"{path}: needs 'inputs' or 'spikes' (found: "
                         f"{', '.join(arrays) or 'none'})")
    return known
