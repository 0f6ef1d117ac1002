"""Simulation input files.

- ``.npz`` with ``spikes`` shaped (steps, [batch,] *input_shape); a graph with several Input
  nodes takes one array per Input node name instead.
- a NIR data file (``nir.write_data``): the first observable of each Input node's entry,
  time-gridded (samples, steps, neurons) or events, gridded at the simulation's dt.

Every array is checked before the run: its declared size against the memory limit (from the
.npy header, before it is read), real finite numbers, at least one step, the model's shape;
and so is the memory the run needs for the largest node's output.

Streaming (``Batches``, ``--batch-size N``): a data set larger than memory, one ``.npz`` or a
folder of ``.npz`` shards (taken in name order, rows counted on across them), is read N
batch rows at a time. Members stored uncompressed (``np.savez``) are memory-mapped where they
lie; compressed ones (``np.savez_compressed``) are inflated once into a scratch file and
mapped there, so memory holds one batch whatever the number of samples. Each batch is checked
when it is read (real, finite), the shapes and sizes of every file before the first.
"""
from __future__ import annotations

import math
import os
import shutil
import struct
import tempfile
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
    _check_kind(path, name, array)
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


# -- streaming ----------------------------------------------------------------------------------


class Batches:
    """The batch rows of an input data set, ``size`` at a time (see the module docstring).

    ``arrays``: per Input node, the (steps, rows, *shape) memory maps of each file;
    ``labels``: the ``labels`` of every row (read whole: one number a row), or None."""

    def __init__(self, path: str | Path, graph: Graph, steps: int | None, size: int,
                 scratch: str | Path | None = None):
        self.path, self.size = Path(path), size
        self.files = _shards(self.path)
        self._scratch = tempfile.TemporaryDirectory(prefix="snnc-inflate-", dir=scratch)
        opened = [_lazy_members(f, Path(self._scratch.name)) for f in self.files]
        names = graph.inputs
        self.arrays = {name: [_fit_lazy(f, name, _pick(f, m, names, name),
                                        graph.nodes[name].shape, steps)
                              for f, m in zip(self.files, opened)] for name in names}
        counts = [a.shape[1] for a in self.arrays[names[0]]]
        for name in names[1:]:
            if [a.shape[1] for a in self.arrays[name]] != counts:
                raise InputError(f"{self.path}: inputs '{names[0]}' and '{name}' hold "
                                 "different numbers of batch rows")
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.rows = int(self.starts[-1])
        self.steps = self.arrays[names[0]][0].shape[0]
        if len({a.shape[0] for a in self.arrays[names[0]]}) > 1:
            raise InputError(f"{self.path}: its shards hold different numbers of steps")
        self.labels = _stream_labels(self.files, opened, counts)
        _check_run_memory(self.path, graph, (self.steps, size))
        for name in names:
            shape = self.arrays[name][0].shape
            check_memory(f"{self.path}: one batch of {size} rows of input '{name}'",
                         size * math.prod(shape[:1] + shape[2:]) * 8)

    def __len__(self) -> int:
        return -(-self.rows // self.size)

    def rows_of(self, k: int) -> tuple[int, int]:
        return k * self.size, min(self.rows, (k + 1) * self.size)

    def batch(self, k: int) -> dict[str, np.ndarray]:
        """Rows of batch ``k`` per Input node, (steps, rows, *shape), read and checked now."""
        first, last = self.rows_of(k)
        out = {}
        for name, parts in self.arrays.items():
            pieces = []
            for f, (a, b) in enumerate(zip(self.starts, self.starts[1:])):
                lo, hi = max(first, a), min(last, b)
                if lo < hi:
                    pieces.append(np.asarray(parts[f][:, lo - a:hi - a]))
            array = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)
            if not np.all(np.isfinite(array)):
                raise InputError(f"{self.path}: input '{name}' holds NaN or infinite values "
                                 f"in batch rows {first}..{last - 1}")
            out[name] = array
        return out

    def batch_labels(self, k: int) -> np.ndarray | None:
        first, last = self.rows_of(k)
        return None if self.labels is None else self.labels[first:last]

    def identity(self) -> list[list]:
        """What a resumed run checks it still reads: each file's name, size and mtime."""
        return [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in self.files]

    def close(self) -> None:
        self.arrays = {}
        self._scratch.cleanup()


def _shards(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".npz" and p.is_file())
        if not files:
            raise InputError(f"{path}: a folder of input shards holds no .npz files")
        return files
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    if path.suffix != ".npz" or not zipfile.is_zipfile(path):
        raise InputError(f"{path}: --batch-size streams .npz files or folders of .npz shards")
    return [path]


def _lazy_members(path: Path, scratch: Path) -> dict[str, np.ndarray]:
    """Every .npy member of an .npz as a read-only memory map, nothing read into memory."""
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as member:
                    shape, fortran, dtype = _npy_header_full(member)
                    header = member.tell()
                    if dtype.hasobject:
                        raise InputError(f"{path}: member '{info.filename}' holds Python "
                                         "objects, not numbers")
                    if info.compress_type == zipfile.ZIP_STORED:
                        source, offset = path, _data_offset(path, info) + header
                    else:  # inflate once, then map the copy
                        source = scratch / f"{len(os.listdir(scratch))}.raw"
                        with open(source, "wb") as raw:
                            shutil.copyfileobj(member, raw, 1 << 22)
                        offset = 0
                out[info.filename[:-4]] = _map(source, dtype, shape, offset, fortran)
    except NPZ_ERRORS as error:
        raise InputError(f"{path}: not a readable .npz ({type(error).__name__}: "
                         f"{' '.join(str(error).split())[:120]})") from None
    return out


def _map(source: Path, dtype, shape, offset: int, fortran: bool) -> np.ndarray:
    if math.prod(shape) == 0:
        return np.zeros(shape, dtype)
    return np.memmap(source, dtype=dtype, mode="r", offset=offset, shape=shape,
                     order="F" if fortran else "C")


def _data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start: after its local header, whose name and extra
    field lengths (bytes 26..29) may differ from the central directory's."""
    with open(path, "rb") as file:
        file.seek(info.header_offset)
        local = file.read(30)
    if local[:4] != b"PK\x03\x04":
        raise InputError(f"{path}: damaged .npz (member '{info.filename}')")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_length + extra_length


def _npy_header_full(member) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(member)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    return read(member)


def _pick(path: Path, members: dict, names: list[str], name: str):
    if "spikes" in members and len(names) == 1:
        return members["spikes"]
    if name not in members:
        expected = "'spikes'" if len(names) == 1 else ", ".join(map(repr, names))
        raise InputError(f"{path}: needs array {expected} (found: {', '.join(members) or 'none'})")
    return members[name]


def _check_kind(path: Path, name: str, array: np.ndarray) -> None:
    """Real numbers, at least one step and one batch row (checks that read no values)."""
    if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number)
                                      or array.dtype == bool):
        raise InputError(f"{path}: input '{name}' is not real numbers (dtype {array.dtype})")
    if len(array) == 0 or array.shape[1] == 0:
        raise InputError(f"{path}: input '{name}' holds no steps or no batch rows "
                         f"(shape {array.shape})")


def _fit_lazy(path: Path, name: str, array: np.ndarray, shape: tuple[int, ...],
              steps: int | None) -> np.ndarray:
    """``_fit``'s checks that need no values (those are checked per batch)."""
    if array.ndim != len(shape) + 2 or array.shape[2:] != shape:
        raise InputError(f"{path}: input '{name}' has shape {array.shape}; streaming expects "
                         f"(steps, batch, {', '.join(map(str, shape))})")
    _check_kind(path, name, array)
    if steps is not None:
        if not 1 <= steps <= len(array):
            raise InputError(f"{path}: --steps {steps} is outside 1..{len(array)}, "
                             f"the steps the input holds")
        array = array[:steps]
    return array


def _stream_labels(files, opened, counts) -> np.ndarray | None:
    """Every file's ``labels`` of one per row, joined; None unless every file has them."""
    found = [m.get("labels") for m in opened]
    if any(f is None or f.shape != (c,) for f, c in zip(found, counts)):
        return None
    check_memory(f"{files[0]}: labels of {sum(counts)} rows", sum(counts) * 8)
    return np.concatenate([np.asarray(f) for f in found])
