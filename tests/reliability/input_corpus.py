"""A corpus of bad simulation inputs for the corpus's valid model, written on demand: each
case one ``.npz`` (or HDF5 data file) with one thing wrong, and a fragment that snnc's error
message must contain."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np

from tests.reliability.corpus import (INPUT_SIZE, STEPS, slug, raw_bytes, truncated,
                                      write_tree)


def npz(**arrays: Any) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        np.savez(path, **arrays)
        return path
    return build


def npz_declaring(shape: tuple[int, ...]) -> Callable[[Path], Path]:
    """An archive whose 'spikes.npy' header declares ``shape`` float64 over a few bytes of data."""
    def build(path: Path) -> Path:
        import zipfile

        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        with zipfile.ZipFile(path, "w") as archive, archive.open("spikes.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
            member.write(b"\0" * 64)
        return path
    return build


def npz_member(data: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        import zipfile

        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("spikes.npy", data)
        return path
    return build


def corrupted_npz(path: Path) -> Path:
    """A compressed archive with its deflated data overwritten: the member fails its CRC."""
    rng = np.random.default_rng(2)
    np.savez_compressed(path, spikes=rng.random((STEPS, 1, INPUT_SIZE)))
    data = bytearray(path.read_bytes())
    data[60:160] = rng.bytes(100)
    path.write_bytes(bytes(data))
    return path


def bare_npy(path: Path) -> Path:
    with open(path, "wb") as file:
        np.save(file, np.ones((STEPS, 1, INPUT_SIZE)))
    return path


def long_run(path: Path) -> Path:
    """Few bytes compressed, but 20,000 steps x 256 rows of the 3-neuron layer to simulate."""
    np.savez_compressed(path, spikes=np.zeros((20_000, 256, INPUT_SIZE), dtype=np.uint8))
    return path


def data_file_with_external_link(path: Path) -> Path:
    other = write_tree(path.with_name(path.stem + ".other.h5"), {"x": np.arange(3)})
    with h5py.File(path, "w") as file:
        file["node"] = h5py.ExternalLink(other.name, "/x")
    return path


def spikes(value: Any = 0.0, shape: tuple[int, ...] = (STEPS, 1, INPUT_SIZE),
           dtype: Any = np.float32) -> np.ndarray:
    return np.full(shape, value, dtype=dtype)


# name -> (build(path) -> path, a fragment the error message must contain)
BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "wrong shape": (npz(spikes=spikes(shape=(STEPS, 1, 5))), "has shape"),
    "wrong shape unbatched": (npz(spikes=spikes(shape=(STEPS, 3))), "has shape"),
    "scalar": (npz(spikes=np.float32(1)), "has shape"),
    "strings": (npz(spikes=np.full((STEPS, 1, INPUT_SIZE), "x")), "not real numbers"),
    "complex": (npz(spikes=spikes(1 + 1j, dtype=complex)), "not real numbers"),
    "objects": (npz(spikes=np.array([None] * 3, dtype=object)), "neither a readable"),
    "NaN": (npz(spikes=spikes(np.nan)), "NaN"),
    "infinite": (npz(spikes=spikes(-np.inf)), "infinite"),
    "missing key": (npz(other=spikes()), "needs array 'spikes'"),
    "empty archive": (npz(), "needs array 'spikes'"),
    "no steps": (npz(spikes=spikes(shape=(0, 1, INPUT_SIZE))), "no steps"),
    "no batch rows": (npz(spikes=spikes(shape=(STEPS, 0, INPUT_SIZE))), "no batch rows"),
    "text": (raw_bytes(b"spikes,1,0,1\n"), "neither a readable"),
    "bare .npy": (bare_npy, "neither a readable"),
    "truncated": (lambda p: truncated(npz(spikes=spikes())(p.with_suffix(".full.npz")))(p),
                  "neither a readable"),
    "corrupted": (corrupted_npz, "neither a readable"),
    "member not an array": (npz_member(b"just bytes"), "not a .npy array"),
    "declared huge": (npz_declaring((10**6, 10**6)), "memory limit"),
    "damaged header": (npz_member(b"\x93NUMPY\x01\x00\x10\x00{'descr': 'nope'"),
                       "neither a readable"),
    "run too large": (long_run, "memory limit"),
    "non-NIR HDF5": (lambda p: write_tree(p, {"x": np.arange(3)}), "not a NIR data file"),
    "HDF5 with external link": (data_file_with_external_link, "external link"),
}


def build_inputs(directory: Path) -> dict[str, Path]:
    """Every bad input of ``BAD_INPUTS`` in ``directory`` (``.npz``, or ``.h5`` for HDF5)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (build, _) in BAD_INPUTS.items():
        suffix = ".h5" if "HDF5" in name else ".npz"
        paths[name] = build(directory / f"{slug(name)}{suffix}")
    return paths
