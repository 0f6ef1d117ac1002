"""The calibration workloads of ``snnc.hw_models.calibrate``, rebuilt as seeded Loihi networks
and run on snnc's engine: what each published case ran, with the activity the papers did not
publish estimated from the rebuild's own simulation (``/work/shared/reference/energy_cases.md``).

- ``kws``: the Loihi 1 keyword spotter (Blouw et al. 2019), dense 390 -> 256 -> 256 -> 29,
  10 steps per MFCC frame, and its scaling sweep (``branches`` chains of 10 extra 256-neuron
  layers from the first hidden layer into the second, as ``ScaledModel`` in
  abr/power_benchmarks). The 390 values arrive as seeded Bernoulli spikes from the host.
- ``pilotnet``: the Loihi 2 PilotNet LIF of the lava-dl netx benchmark, a 200x66x3 frame fed
  through a bias, conv 24, 36, 48 (3x3, stride 2), 64 (3x3, stride (1, 2), padding (0, 1)),
  64 (3x3), dense 100 -> 50 -> 10 -> 1; the convs are sparse matrices from index arithmetic.
- ``nxtf_mnist``: the NxTF MNIST network (Rueckauer et al. 2022): conv 16 (5x5, stride 2),
  32 (3x3), 64 (3x3, stride 2), 10 (4x4) on a 28x28 input held in on-chip spike generators.
- ``quiet_core``: one 256-neuron layer on one core with sparse input, the smallest
  unthrottled workload (the floor of the published 5.8-13 us unthrottled range).

Weights are seeded uniform 8-bit mantissas with exponents sized for ~10% input activity;
neurons are Lava LIFs with du = 4095 and a Nengo-like membrane (dv = 4096 * 1 ms / 20 ms).
The same builders back tests/loihi_workloads.py's (its copy predates this module).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from snnc.backends.loihi import Lif, LoihiNetwork, Synapse

KWS_SIZES = (390, 256, 256, 29)
KWS_STEPS = 10
BRANCH_LAYERS, BRANCH_WIDTH = 10, 256
PILOTNET_FRAME = (200, 66, 3)  # x, y, channels, as lava-dl writes it
PILOTNET_CONVS = (  # channels, stride (x, y), padding (x, y)
    (24, (2, 2), (0, 0)), (36, (2, 2), (0, 0)), (48, (2, 2), (0, 0)),
    (64, (1, 2), (0, 1)), (64, (1, 1), (0, 0)))
PILOTNET_DENSE = (100, 50, 10, 1)
PILOTNET_STEPS = 16
SCALE = 64  # weight magnitudes: uniform in [-SCALE, SCALE)
DRIVE_RATE = 0.1  # input activity the weight exponents are sized for
VTH = 256  # threshold mantissa; v is compared against VTH << 6
HIDDEN_BIAS = (0.3, 1.3)  # steady-state v / threshold from the bias alone
FRAME_BIAS = (0.0, 5.0)  # PilotNet pixels as biases: up to ~25% spikes per step
DV = 205  # 4096 * 1 ms / 20 ms: Nengo's tau_rc = 20 ms at dt = 1 ms


def lif(size: int, rng: np.random.Generator, bias: tuple[float, float]) -> Lif:
    """A LIF population whose per-step bias is a seeded fraction of the threshold in
    ``bias`` (low, high): Nengo-like spontaneous activity from trained biases."""
    fraction = rng.uniform(*bias, size)
    return Lif(size, du=4095, dv=DV, vth=VTH,
               bias_mant=np.round(fraction * VTH * 64 * DV / 4096 / 8).astype(np.int64),
               bias_exp=3)


def dense(n_out: int, n_in: int, rng: np.random.Generator, scale: int = SCALE,
          weight_exp: int | None = None) -> Synapse:
    """Seeded mixed-sign 8-bit weights uniform in [-scale, scale); the exponent by default
    from the fan-in (``drive_exponent``)."""
    exp = drive_exponent(n_in, scale) if weight_exp is None else weight_exp
    return Synapse(rng.integers(-scale, scale, (n_out, n_in)), weight_exp=exp)


def drive_exponent(fan_in: int, scale: int = SCALE, rate: float = DRIVE_RATE) -> int:
    """The weight exponent that makes one step's random input, from ``fan_in`` inputs active
    at ``rate``, about one threshold in standard deviation: sqrt(fan_in * rate) weights of
    rms scale / sqrt(3), times 2**exp, times 64 (act_shift), against VTH << 6."""
    rms = np.sqrt(fan_in * rate) * scale / np.sqrt(3)
    return int(np.clip(np.round(np.log2(VTH / rms)), -8, 8))


def kws(seed: int = 0, branches: int = 0) -> LoihiNetwork:
    """The keyword spotter, with ``branches`` chains of ``BRANCH_LAYERS`` layers."""
    rng = np.random.default_rng(seed)
    n_in, h, o = KWS_SIZES[0], KWS_SIZES[1], KWS_SIZES[3]
    neurons = {"h1": lif(h, rng, HIDDEN_BIAS), "h2": lif(h, rng, HIDDEN_BIAS),
               "out": lif(o, rng, HIDDEN_BIAS)}
    synapses = [("in", "h1", dense(h, n_in, rng))]
    if branches == 0:
        synapses.append(("h1", "h2", dense(h, h, rng)))
    for b in range(branches):
        prev = "h1"
        for k in range(BRANCH_LAYERS):
            name = f"b{b}_{k}"
            neurons[name] = lif(BRANCH_WIDTH, rng, HIDDEN_BIAS)
            synapses.append((prev, name, dense(BRANCH_WIDTH, h, rng)))
            prev = name
        synapses.append((prev, "h2", dense(h, BRANCH_WIDTH, rng)))
    synapses.append(("h2", "out", dense(o, h, rng)))
    return LoihiNetwork({"in": n_in}, neurons, tuple(synapses))


def kws_input(seed: int = 0, frames: int = 1) -> np.ndarray:
    """``frames`` consecutive MFCC frames, each 390 seeded rates (0..0.3 spikes per step)
    presented as Bernoulli spikes for ``KWS_STEPS`` steps: (frames * KWS_STEPS, 390)."""
    rng = np.random.default_rng(seed + 1)
    rates = np.repeat(rng.uniform(0.0, 0.3, (frames, KWS_SIZES[0])), KWS_STEPS, axis=0)
    return rng.random(rates.shape) < rates


def conv_out(shape: tuple[int, int, int], stride, padding, kernel: int = 3) -> tuple[int, int]:
    return tuple((shape[d] + 2 * padding[d] - kernel) // stride[d] + 1 for d in (0, 1))


def conv_matrix(shape: tuple[int, int, int], channels: int, stride, padding,
                rng: np.random.Generator, scale: int, kernel: int = 3):
    """A 3x3 convolution with one seeded shared kernel as a CSC matrix (n_out, n_in) over
    channel-last flattened (x, y, c) positions: CSR over the inputs, the engine's layout."""
    nx, ny, nc = shape
    ox, oy = conv_out(shape, stride, padding, kernel)
    weights = rng.integers(-scale, scale, (channels, nc, kernel, kernel))
    px, py = np.meshgrid(np.arange(ox), np.arange(oy), indexing="ij")
    rows, cols, vals = [], [], []
    for kx in range(kernel):
        for ky in range(kernel):
            ix = px * stride[0] + kx - padding[0]
            iy = py * stride[1] + ky - padding[1]
            ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
            out_pos, in_pos = (px * oy + py)[ok], (ix * ny + iy)[ok]
            # every (out channel, in channel) pair of every valid position
            co, ci = np.meshgrid(np.arange(channels), np.arange(nc), indexing="ij")
            rows.append((out_pos[:, None] * channels + co.ravel()[None]).ravel())
            cols.append((in_pos[:, None] * nc + ci.ravel()[None]).ravel())
            vals.append(np.broadcast_to(weights[:, :, kx, ky].ravel(),
                                        (len(out_pos), channels * nc)).ravel())
    data = np.concatenate(vals).astype(np.int32)
    coo = sp.coo_matrix((data, (np.concatenate(rows), np.concatenate(cols))),
                        shape=(ox * oy * channels, nx * ny * nc))
    return coo.tocsc(), (ox, oy, channels)


def pilotnet(seed: int = 0) -> LoihiNetwork:
    """PilotNet LIF: the frame layer, five sparse convs and four dense layers."""
    rng = np.random.default_rng(seed)
    shape = PILOTNET_FRAME
    neurons = {"frame": lif(int(np.prod(shape)), rng, FRAME_BIAS)}
    synapses, prev = [], "frame"
    for k, (channels, stride, padding) in enumerate(PILOTNET_CONVS):
        exp = drive_exponent(9 * shape[2])
        matrix, shape = conv_matrix(shape, channels, stride, padding, rng, SCALE)
        name = f"conv{k + 1}"
        neurons[name] = lif(matrix.shape[0], rng, HIDDEN_BIAS)
        synapses.append((prev, name, Synapse(matrix, weight_exp=exp, sparse=True)))
        prev = name
    for k, size in enumerate(PILOTNET_DENSE):
        name = f"fc{k + 1}"
        neurons[name] = lif(size, rng, HIDDEN_BIAS)
        synapses.append((prev, name, dense(size, neurons[prev].size, rng)))
        prev = name
    return LoihiNetwork({}, neurons, tuple(synapses))


def spread(network, cores: int, neurons_per_core: int, cores_per_chip: int) -> dict:
    """A ``snnc.hw_models.cost`` placement of an engine ``network`` on ``cores`` cores: each
    population its fewest cores by neurons, the rest shared in proportion to the synapses into
    each population (synapse memory is what fills Loihi cores), split evenly."""
    pops = [p for p in network.populations if not p.is_input]
    need = {p.name: -(-p.size // neurons_per_core) for p in pops}
    synapses = {p.name: sum(c.synapses.nnz for c in network.incoming(p.name)) for p in pops}
    spare = cores - sum(need.values())
    total = sum(synapses.values())
    extra = {name: spare * s / total for name, s in synapses.items()}
    given = {name: int(x) for name, x in extra.items()}
    for name in sorted(extra, key=lambda n: given[n] - extra[n])[:spare - sum(given.values())]:
        given[name] += 1  # largest remainders first
    out, core = {}, 0
    for p in pops:
        n = need[p.name] + given[p.name]
        bounds = np.linspace(0, p.size, n + 1).round().astype(int)
        out[p.name] = [(core + k, (core + k) // cores_per_chip, int(bounds[k + 1] - bounds[k]))
                       for k in range(n)]
        core += n
    return out


NXTF_INPUT = (28, 28, 1)
NXTF_CONVS = (  # channels, kernel, stride
    (16, 5, 2), (32, 3, 1), (64, 3, 2), (10, 4, 1))
NXTF_STEPS = 512
# seeded pixel rates (spikes per step), mean 0.125: about MNIST's mean intensity of 0.1307
MNIST_RATE = (0.0, 0.25)
NXTF_BIAS = (0.0, 0.5)  # a converted ANN's small biases: no neuron fires on its bias alone


def nxtf_mnist(seed: int = 0) -> LoihiNetwork:
    """The NxTF MNIST conv net, its input a host-free population of spike generators."""
    rng = np.random.default_rng(seed)
    shape, neurons, synapses, prev = NXTF_INPUT, {}, [], "in"
    for k, (channels, kernel, stride) in enumerate(NXTF_CONVS):
        exp = drive_exponent(kernel * kernel * shape[2])
        matrix, shape = conv_matrix(shape, channels, (stride, stride), (0, 0), rng, SCALE,
                                    kernel)
        name = f"conv{k + 1}"
        neurons[name] = lif(matrix.shape[0], rng, NXTF_BIAS)
        synapses.append((prev, name, Synapse(matrix, weight_exp=exp, sparse=True)))
        prev = name
    return LoihiNetwork({"in": int(np.prod(NXTF_INPUT))}, neurons, tuple(synapses))


def nxtf_input(seed: int = 0) -> np.ndarray:
    """One image's seeded pixel rates as Bernoulli spikes for ``NXTF_STEPS`` steps."""
    rng = np.random.default_rng(seed + 1)
    rates = rng.uniform(*MNIST_RATE, int(np.prod(NXTF_INPUT)))
    return rng.random((NXTF_STEPS, rates.size)) < rates


QUIET_SIZE, QUIET_STEPS, QUIET_RATE = 256, 100, 0.02


def quiet_core(seed: int = 0) -> LoihiNetwork:
    """One dense 64 -> 256 layer: the least a workload does on one core."""
    rng = np.random.default_rng(seed)
    return LoihiNetwork({"in": 64}, {"out": lif(QUIET_SIZE, rng, (0.0, 0.5))},
                        (("in", "out", dense(QUIET_SIZE, 64, rng)),))


def quiet_input(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    return rng.random((QUIET_STEPS, 64)) < QUIET_RATE
