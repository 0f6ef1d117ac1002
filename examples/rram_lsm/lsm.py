"""The zero-shot liquid state machine of Lin et al., "Resistive memory-based zero-shot liquid
state machine for multimodal event data learning" (Nature Computational Science 5, 37-47,
2025; arXiv:2307.00771), on scikit-learn's digits: a fixed random recurrent reservoir of LIF
neurons whose weights are never trained, and a trained linear readout.

Zero-shot weights. The paper's 40 nm macro programs every device of the reservoir with the
same SET operation and lets the stochasticity of resistive switching make the weights
random. Here each device of a differential pair is drawn once, as the chip model
``hw_models/rram_40nm.toml`` gives that stochasticity: G ~ N(G0, sigma(G0)) with G0 the
middle of [g_off, g_on] and sigma(G) its programming-error curve
(``[crossbar] programming_sigma``, ``_slope``, ``_curve``), clipped to [g_off, g_on]; the
weight is (G+ - G-) / (sqrt(2) sigma(G0)) (zero mean, unit variance) times a gain over
sqrt(fan-in). The paper's reference simulation (its repository's ``lsm_sim_gaussian.py``)
draws Gaussian weights in the same role. The paper's decay 0.9 per step is tau = 10 dt.

Readout. Logistic regression (scikit-learn) on the reservoir's spike counts of the training
split, simulated in software (snnc's float reference), applied in digital logic (numpy) to
the spike counts of whatever ran the reservoir: the reference, ideal devices, or a device
instance of a preset. As in the paper, only the reservoir is on the RRAM crossbars, so the
graph (``lsm.nir``) is the reservoir alone, and the readout is a separate ``readout.npz``.

Inputs: the 8x8 digits (1797 images, pixels 0..16), split 75/25 with random_state 0, as
Bernoulli spike trains: pixel p spikes on each step with probability p / 16.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n

HERE = Path(__file__).resolve().parent
DT = 1e-3              # seconds per step
STEPS = 30             # steps per image
RESERVOIR = 200        # neurons, as the paper's N-MNIST reservoir
TAU = 10 * DT          # the paper's decay 0.9 per step
INPUT_GAIN = 5.0       # weight scales over sqrt(fan-in): ~6 % of neuron-steps spike
RECURRENT_GAIN = 0.9
WEIGHT_SEED = 2025     # the one draw of the devices (the "chip" the reservoir is on)
ENCODE_SEED = 7        # spike encoding of both splits


def load_split(limit: int | None = None):
    """(x_train, x_test, y_train, y_test); x as spike probabilities (N, 64); ``limit``: the
    first images of each split only (the fast test)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25,
                                                        random_state=0)
    if limit:
        x_train, x_test, y_train, y_test = (a[:limit] for a in (x_train, x_test, y_train,
                                                                 y_test))
    return x_train, x_test, y_train, y_test


def encode(x: np.ndarray, rng: np.random.Generator, steps: int = STEPS) -> np.ndarray:
    """Bernoulli spike trains (steps, N, 64), float32 0/1."""
    return (rng.random((steps, *x.shape)) < x).astype(np.float32)


def switching_weights(shape, rng: np.random.Generator, chip: str = "rram_40nm") -> np.ndarray:
    """Zero-mean, unit-variance weights from one stochastic SET of each device of a
    differential pair (see the module docstring)."""
    bar = load_chip(chip).crossbar
    g0 = 0.5 * (bar.g_on + bar.g_off)
    x = g0 / bar.g_on
    sigma = bar.g_on * max((bar.programming_sigma or 0.0)
                           + (bar.programming_sigma_slope or 0.0) * x
                           + (bar.programming_sigma_curve or 0.0) * x * x, 0.0)
    g_plus, g_minus = (np.clip(rng.normal(g0, sigma, shape), bar.g_off, bar.g_on)
                       for _ in range(2))
    return (g_plus - g_minus) / (np.sqrt(2.0) * sigma)


def reservoir_weights(n_in: int = 64, size: int = RESERVOIR, seed: int = WEIGHT_SEED):
    """(input weights (size, n_in), recurrent weights (size, size)), never trained."""
    rng = np.random.default_rng(seed)
    w_in = switching_weights((size, n_in), rng) * INPUT_GAIN / np.sqrt(n_in)
    w_rec = switching_weights((size, size), rng) * RECURRENT_GAIN / np.sqrt(size)
    np.fill_diagonal(w_rec, 0.0)  # no self-connections
    return w_in.astype(np.float32), w_rec.astype(np.float32)


def lif(size: int) -> n.LIF:
    ones = np.ones(size, np.float32)
    return n.LIF(tau=TAU * ones, r=ones, v_leak=0 * ones, v_threshold=ones, v_reset=0 * ones)


def reservoir_graph(w_in: np.ndarray, w_rec: np.ndarray) -> Graph:
    """Input -> W_in -> LIF reservoir, recurrent through W_rec; output: its spikes."""
    size, n_in = w_in.shape
    return Graph(nodes={"input": n.Input(shape=(n_in,)), "w_in": n.Linear(weight=w_in),
                        "reservoir": lif(size), "w_rec": n.Linear(weight=w_rec),
                        "spikes": n.Output(shape=(size,))},
                 edges=[("input", "w_in"), ("w_in", "reservoir"), ("reservoir", "w_rec"),
                        ("w_rec", "reservoir"), ("reservoir", "spikes")])


def train_readout(counts: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on standardised spike counts, folded back onto raw counts:
    (weight (classes, size), bias (classes,))."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = counts.mean(axis=0), counts.std(axis=0) + 1e-6
    model = LogisticRegression(C=0.05, max_iter=2000).fit((counts - mean) / scale, labels)
    weight = model.coef_ / scale
    return weight, model.intercept_ - weight @ mean


def classify(spikes: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The digital readout's classes of reservoir spikes (steps, N, size)."""
    return (spikes.sum(axis=0) @ weight.T + bias).argmax(axis=1)


def build(limit: int | None = None, options=None):
    """Draw the reservoir, simulate the training split in software, train the readout.
    Returns (the reservoir graph, (readout weight, bias), test spikes (steps, N, 64), test
    labels, train accuracy)."""
    from snnc.backends import get_target
    from snnc.options import SimOptions

    options = options or SimOptions(dt=DT)
    x_train, x_test, y_train, y_test = load_split(limit)
    rng = np.random.default_rng(ENCODE_SEED)
    train, test = encode(x_train, rng), encode(x_test, rng)
    w_in, w_rec = reservoir_weights()
    spikes = get_target("reference").simulate(reservoir_graph(w_in, w_rec), train,
                                              options).outputs["spikes"]
    counts = spikes.sum(axis=0)
    weight, bias = train_readout(counts, y_train)
    train_accuracy = float(np.mean(classify(spikes, weight, bias) == y_train))
    return reservoir_graph(w_in, w_rec), (weight, bias), test, y_test, train_accuracy
