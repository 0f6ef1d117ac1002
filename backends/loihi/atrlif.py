"""Lava 0.10.0's fixed-point ATRLIF (``lava/proc/atrlif/models.py``: ``PyATRLIFModelFixed``,
tags ``fixed_pt`` and ``bit_accurate_loihi``; process ``lava/proc/atrlif/process.py``) as an
engine process model: an int64 replay of its int32 numpy code, vectorized over the batch.

Lava gives the decays as fractions (floats, even in the fixed model, which multiplies them by
D = 2**12 itself); with decay(x, k) = sign(x k) (|x k| >> 12) (int64, toward 0) and M = 2**23:

    i     <- wrap24(int32(decay(i, D - (delta_i D + 1)) + (a_in << 6)))   (wraps as LIF's u)
    v     <- clip(int32(decay(v, D - delta_v D) + i + (bias_mant << bias_exp)), -(M-1), M-1)
    theta <- int32(decay(theta - 64 theta_0, D - delta_theta D)) + 64 theta_0
    r     <- int32(decay(r, D - delta_r D))
    s     <- (v - r) >= theta;  r[s] += 2 theta;  theta[s] += 64 theta_step

v is never reset. Lava overwrites the initial theta with 64 theta_0 on its first step
(``scale_threshold``), so the process's ``theta`` argument is ignored here as there.
``snnc.backends.loihi.subtract`` uses it as a reset-free LIF (delta_r = 1, delta_theta = 0,
theta_step = 0) whose spikes an inhibitory self-connection subtracts from v a step later.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Collection

import numpy as np

from snnc.errors import GraphError

from .lif import LifFormat
from .lif_runners import _wrap32

# PyATRLIFModelFixed declares delta_*, theta_0 and theta_step as 12-bit unsigned
# (LavaPyType(int, np.uint16, precision=12)): the widths snnc keeps them within
THETA_BITS = 12


@dataclass(frozen=True, eq=False)
class LoihiAtrLif:
    """One ATRLIF population: the decays as integers k = delta D (delta_i: k + 1 is Lava's
    decay constant), theta_0 and theta_step unscaled; per neuron bias_mant, bias_exp, i, v,
    r (int64 (size,)). Build it with ``LoihiAtrLif.create``."""

    k_i: int
    k_v: int
    k_theta: int
    k_r: int
    theta_0: int
    theta_step: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    i: np.ndarray
    v: np.ndarray
    r: np.ndarray
    fmt: LifFormat
    state_vars: ClassVar[tuple[str, ...]] = ("i", "v", "theta", "r")

    @classmethod
    def create(cls, name: str, size: int, fmt: LifFormat, *, delta_i=0.4, delta_v=0.4,
               delta_theta=0.2, delta_r=0.2, theta_0=5, theta_step=0, bias_mant=0, bias_exp=0,
               i=0, v=0, r=0) -> "LoihiAtrLif":
        """Lava's keyword arguments (its defaults); each delta must be a multiple of 1 / D."""
        unity = 2 ** fmt.decay_bits
        ks = {key: _decay_integer(name, key, value, unity, top)
              for key, value, top in (("delta_i", delta_i, unity - 1), ("delta_v", delta_v, unity),
                                      ("delta_theta", delta_theta, unity),
                                      ("delta_r", delta_r, unity))}
        per_neuron = {key: np.broadcast_to(np.asarray(val, np.int64), (size,)).copy()
                      for key, val in dict(bias_mant=bias_mant, bias_exp=bias_exp, i=i, v=v,
                                           r=r).items()}
        model = cls(ks["delta_i"], ks["delta_v"], ks["delta_theta"], ks["delta_r"],
                    int(theta_0), int(theta_step), fmt=fmt, **per_neuron)
        _check(name, model)
        return model

    def start(self, size: int, batch: int, input_bound: int) -> "AtrLifRunner":
        if size != len(self.v):
            raise GraphError(f"ATRLIF parameters are for {len(self.v)} neurons, population "
                             f"has {size}")
        return AtrLifRunner(self, batch)


def _decay_integer(name: str, key: str, value, unity: int, top: int) -> int:
    scaled = float(value) * unity
    if scaled != round(scaled) or not 0 <= scaled <= top:
        raise GraphError(f"population '{name}': {key} must be a multiple of 1/{unity} in "
                         f"0..{top}/{unity} (Lava's fixed-point ATRLIF), got {value}")
    return int(round(scaled))


def _check(name: str, m: LoihiAtrLif) -> None:
    f = m.fmt
    half_bias, half = 2 ** (f.bias_mant_bits - 1), 2 ** (f.state_bits - 1)
    ranges = [("theta_0", m.theta_0, 0, 2 ** THETA_BITS - 1),
              ("theta_step", m.theta_step, 0, 2 ** THETA_BITS - 1),
              ("bias_mant", m.bias_mant, -half_bias, half_bias - 1),
              ("bias_exp", m.bias_exp, 0, 2 ** f.bias_exp_bits - 1),
              ("i", m.i, -half, half), ("v", m.v, -(half - 1), half - 1), ("r", m.r, -half, half)]
    for key, value, low, high in ranges:
        value = np.asarray(value)
        if value.size and (value.min() < low or value.max() > high):
            raise GraphError(f"population '{name}': {key} must be in {low}..{high} "
                             f"(Lava's fixed-point ATRLIF), got {value.min()}..{value.max()}")


class AtrLifRunner:
    """int64 copies of Lava's int32 state arrays, (batch, size); one step per call."""

    def __init__(self, m: LoihiAtrLif, batch: int):
        f = m.fmt
        unity = 2 ** f.decay_bits
        self.shift, self.half, self.act_shift = f.decay_bits, 2 ** (f.state_bits - 1), f.input_shift
        # Lava's ds_offset = 1 on the current's decay constant only
        self.keep = dict(i=unity - (m.k_i + 1), v=unity - m.k_v, theta=unity - m.k_theta,
                         r=unity - m.k_r)
        self.theta_0 = m.theta_0 << f.threshold_shift  # scale_threshold: * 2**6
        self.theta_step = m.theta_step << f.threshold_shift
        self.bias = m.bias_mant << m.bias_exp
        shape = (batch, len(m.v))
        self.i = np.broadcast_to(m.i, shape).copy()
        self.v = np.broadcast_to(m.v, shape).copy()
        self.r = np.broadcast_to(m.r, shape).copy()
        self.theta = np.full(shape, self.theta_0, np.int64)

    def _decay(self, x: np.ndarray, var: str) -> np.ndarray:
        product = x * self.keep[var]
        return np.sign(product) * (np.abs(product) >> self.shift)

    def step(self, a_in: np.ndarray) -> np.ndarray:
        m = self.half
        act = _wrap32(_wrap32(a_in) << self.act_shift)
        x = _wrap32(self._decay(self.i, "i") + act)
        i = np.where(x > m, x - 2 * m, x)
        self.i = np.where(i <= -m, x + 2 * m, i)  # Lava's second where also starts from x
        self.v = np.clip(_wrap32(self._decay(self.v, "v") + self.i + self.bias), -(m - 1), m - 1)
        self.theta = _wrap32(self._decay(self.theta - self.theta_0, "theta")) + self.theta_0
        self.r = _wrap32(self._decay(self.r, "r"))
        spikes = (self.v - self.r) >= self.theta
        self.r = np.where(spikes, _wrap32(self.r + 2 * self.theta), self.r)
        self.theta = np.where(spikes, _wrap32(self.theta + self.theta_step), self.theta)
        return spikes

    def scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        spikes = np.empty(a_in.shape, bool)
        traces = {var: np.empty(a_in.shape, np.int64) for var in probe}
        for t in range(len(a_in)):
            spikes[t] = self.step(a_in[t])
            for var in probe:
                traces[var][t] = getattr(self, var)
        return spikes, traces

    def state(self, var: str) -> np.ndarray:
        return getattr(self, var).copy()
