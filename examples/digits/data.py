"""The data of the digits example, shared by train.py and evaluate.py (numpy and scikit-learn only).

scikit-learn's 8x8 digits (1797 images, pixels 0..16, shipped with the package) are split once
into train/test and encoded as Bernoulli spike trains: pixel p spikes on each step with
probability p/16, independently, so a black pixel never spikes and a white one on every step.
"""
from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

STEPS = 40          # timesteps per image
DT = 1e-3           # seconds per step: Norse's default, and the dt to simulate digits.nir with
TEST_SEED = 1234    # the one fixed encoding of the test split, used by every evaluation


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_test, y_train, y_test); x as spike probabilities in [0, 1], shaped (N, 64)."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    return train_test_split(x, digits.target, test_size=0.25, random_state=0)


def encode(x: np.ndarray, rng: np.random.Generator, steps: int = STEPS) -> np.ndarray:
    """Bernoulli spike trains shaped (steps, N, 64), float32 0/1."""
    return (rng.random((steps, *x.shape)) < x).astype(np.float32)


def test_set() -> tuple[np.ndarray, np.ndarray]:
    """The encoded test split (steps, N, 64) and its labels (N,), identical on every call."""
    _, x_test, _, y_test = load_split()
    return encode(x_test, np.random.default_rng(TEST_SEED)), y_test
