"""Simulation input files.

- ``.npz`` with ``spikes`` shaped (steps, [batch,] *input_shape); a graph with several Input
  nodes takes one array per Input node name instead.
- a NIR data file (``nir.write_data``): the first observable of each Input node's entry,
  time-gridded (samples, steps, neurons) or events, gridded at the simulation's dt.

Every array is checked before the run: its declared size against the memory limit (from the
.npy header, before it is read), real finite numbers, at least one step, the model's shape;
and so is the memory the run needs for the largest node's output.
"""
from __future__ import annotations

import math
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import InputError, MemoryLimitError, SnncError
from .ir import Graph
from .ir.graph import flatten
from .ir.shapes import check_memory

NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, NotImplementedError, SyntaxError,
              tokenize.TokenError, zipfile.BadZipFile, zlib.error)  # damaged archives, headers


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
    fitted = {name: _fit(path, name, arrays[name], graph.nodes[name].shape, steps)
              for name in graph.inputs}
    _check_run_memory(path, graph, next(iter(fitted.values())).shape[:2])
    return fitted


def _check_run_memory(path: Path, graph: Graph, lead: tuple[int, int]) -> None:
    """A simulation holds at least the largest node's output over all steps for one slice of
    the batch (``progress.ROWS`` rows): refuse before allocating what cannot fit."""
    from .progress import ROWS

    steps, batch = lead
    rows = min(batch, ROWS)
    flat = graph if graph.is_flat else flatten(graph)
    largest = max(math.prod(shape) for shape in flat.shapes.values())
    check_memory(f"{path}: simulating {steps} steps x {rows} batch rows of the largest node "
                 f"({largest:,} values)", steps * rows * largest * 8)


def load_labels(path: str | Path, batch: int) -> np.ndarray | None:
    """The ``labels`` array (batch,) of an input .npz, if it has one of that length."""
    if Path(path).suffix != ".npz":
        return None
    labels = _read_npz(Path(path)).get("labels")
    return labels if labels is not None and labels.shape == (batch,) else None


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):  # np.load would read a bare .npy whole, whatever its size
        raise InputError(f"{path}: neither a readable .npz nor a NIR data file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            _check_declared_sizes(path, archive)
            arrays = {key: archive[key] for key in archive.files}
    except NPZ_ERRORS as error:
        message = " ".join(str(error).split())[:120]
        raise InputError(f"{path}: neither a readable .npz nor a NIR data file "
                         f"({type(error).__name__}: {message})") from None
    wrong = next((key for key, value in arrays.items() if not isinstance(value, np.ndarray)), None)
    if wrong is not None:
        raise InputError(f"{path}: member '{wrong}' is not a .npy array")
    return arrays


def _check_declared_sizes(path: Path, archive) -> None:
    """Each member's size from its .npy header, before it is decompressed and read."""
    total = 0
    for key in archive.files:
        name = key if key in archive.zip.namelist() else f"{key}.npy"
        with archive.zip.open(name) as member:
            if member.read(6) != b"\x93NUMPY":
                continue  # not an array: refused once read
            member.seek(0)
            shape, dtype = _npy_header(member)
        nbytes = math.prod(shape) * dtype.itemsize
        total += nbytes
        check_memory(f"{path}: array '{key}' of shape {shape} ({dtype})", nbytes)
        check_memory(f"{path}: its arrays together", total)


def _npy_header(member) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(member)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)  # 2.0 and 3.0 share the header layout
    shape, _, dtype = read(member)
    return shape, dtype


def _read_nir_data(path: Path, graph: Graph, dt: float) -> dict[str, np.ndarray]:
    import h5py
    import nir

    from snnc.frontends.hdf5_tree import check_data_file

    try:
        with h5py.File(path, "r") as file:
            check_data_file(file)  # links, nesting and sizes, before nir's reader follows them
    except MemoryLimitError as error:
        raise MemoryLimitError(f"{path}: {error}") from None
    except SnncError as error:  # the reader's refusals, about an input file here
        raise InputError(f"{path}: {error}") from None
    except (OSError, RuntimeError) as error:
        raise InputError(f"{path}: damaged or truncated HDF5 file ({error})") from None
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
    if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number)
                                      or array.dtype == bool):
        raise InputError(f"{path}: input '{name}' is not real numbers (dtype {array.dtype})")
    if len(array) == 0 or array.shape[1] == 0:
        raise InputError(f"{path}: input '{name}' holds no steps or no batch rows "
                         f"(shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{path}: input '{name}' holds NaN or infinite values")
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
