"""Shared fixtures: the bundled external test data and small graph builders."""
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true",
                     help="long mode: thousands of random graphs per target (tests/differential)")


@pytest.fixture
def data_dir() -> Path:
    return DATA


def copy_hdf5(src: Path, dst: Path, edit) -> Path:
    """Copy an HDF5 (NIR) file and apply ``edit(file)`` to the copy: corrupt files for tests."""
    import h5py

    with h5py.File(src) as a, h5py.File(dst, "w") as b:
        for key in a:
            a.copy(key, b)
        edit(b)
    return dst


def spikes(rng: np.random.Generator, shape, p: float = 0.2) -> np.ndarray:
    """Bernoulli spike trains as float32."""
    return (rng.random(shape) < p).astype(np.float32)
