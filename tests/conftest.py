"""Shared fixtures: the bundled external test data and small graph builders."""
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def spikes(rng: np.random.Generator, shape, p: float = 0.2) -> np.ndarray:
    """Bernoulli spike trains as float32."""
    return (rng.random(shape) < p).astype(np.float32)
