"""Lava 0.10.0's bit-accurate LIF (``PyLifModelBitAcc``, tag ``fixed_pt``) as a process model.

Per step, with a_in the summed synaptic input, D = 2**decay_bits (4096) and M = 2**(state_bits-1)
(2**23); every number comes from the chip's ``[formats]`` (``LifFormat``):

    decay(x, d)  = sign(x * (D - d)) * (|x * (D - d)| >> decay_bits)    int64, truncates toward 0
    u <- decay(u, du + current_decay_offset) + (a_in << input_shift)
    u <- u - 2M if u > M;  u <- u + 2M if u <= -M                        (wraps, once)
    v <- clip(decay(v, dv) + u + (bias_mant << bias_exp), -(M - 1), M - 1)  (saturates)
    s <- v > (vth << threshold_shift);  v[s] <- 0                        (u is not reset)

Lava runs this on numpy int32 arrays, so a_in, a_in << 6, decay(u) + act and the v sum wrap
modulo 2**32 when they overflow (huge weight exponents); then u can leave 24 bits for good.
``lif_runners`` implements it twice: an int64 replay of Lava's int32 code, and a float64
arithmetic that is exact and faster wherever |a_in << input_shift| <= 2**state_bits and
|u| <= M (no int32 overflow can happen there).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.errors import GraphError

from .lif_runners import ExactRunner, FastRunner

ARITHMETICS = ("auto", "exact")


@dataclass(frozen=True)
class LifFormat:
    """The number formats of Lava's bit-accurate LIF, read from a chip's ``[formats]``."""

    decay_bits: int
    current_decay_offset: int
    state_bits: int
    input_shift: int
    threshold_shift: int
    threshold_bits: int
    bias_mant_bits: int
    bias_exp_bits: int

    @classmethod
    def from_chip(cls, chip) -> "LifFormat":
        f = chip.formats
        return cls(f.decay_bits, f.current_decay_offset, f.state_bits, f.input_shift,
                   f.threshold_shift, f.threshold_bits, f.bias_mant_bits, f.bias_exp_bits)


@dataclass(frozen=True, eq=False)
class LoihiLif:
    """One population's parameters, per neuron (bias_mant, bias_exp, u, v: int64 (size,)) or
    shared (du, dv, vth: Lava Vars of shape (1,)). Build it with ``LoihiLif.create``."""

    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    u: np.ndarray
    v: np.ndarray
    fmt: LifFormat
    arithmetic: str = "auto"  # "exact": always the int64 replay (tests compare the two)
    state_vars: ClassVar[tuple[str, ...]] = ("u", "v")

    @classmethod
    def create(cls, name: str, size: int, fmt: LifFormat, *, du=0, dv=0, vth=10, bias_mant=0,
               bias_exp=0, u=0, v=0, arithmetic: str = "auto") -> "LoihiLif":
        """Broadcast per-neuron values to ``size`` and check every range against ``fmt``."""
        per_neuron = {key: np.broadcast_to(np.asarray(val, np.int64), (size,)).copy()
                      for key, val in dict(bias_mant=bias_mant, bias_exp=bias_exp, u=u,
                                           v=v).items()}
        model = cls(int(du), int(dv), int(vth), fmt=fmt, arithmetic=arithmetic, **per_neuron)
        _check(name, model)
        return model

    @property
    def effective_bias(self) -> np.ndarray:
        return self.bias_mant << self.bias_exp

    def start(self, size: int, batch: int, input_bound: int):
        """The runner: float64 where provably exact (else int64 replay), or "exact" always."""
        if size != len(self.u):
            raise GraphError(f"LIF parameters are for {len(self.u)} neurons, population has {size}")
        if self.arithmetic == "exact":
            return ExactRunner(self, batch)
        return FastRunner(self, batch, input_bound)


def _check(name: str, m: LoihiLif) -> None:
    f = m.fmt
    half_bias = 2 ** (f.bias_mant_bits - 1)
    m_state = 2 ** (f.state_bits - 1)
    ranges = [("du", m.du, 0, 2 ** f.decay_bits - 1), ("dv", m.dv, 0, 2 ** f.decay_bits - 1),
              ("vth", m.vth, 0, 2 ** f.threshold_bits - 1),
              ("bias_mant", m.bias_mant, -half_bias, half_bias - 1),
              ("bias_exp", m.bias_exp, 0, 2 ** f.bias_exp_bits - 1),
              ("u", m.u, -m_state, m_state), ("v", m.v, -(m_state - 1), m_state - 1)]
    for key, value, low, high in ranges:
        value = np.asarray(value)
        if value.size and (value.min() < low or value.max() > high):
            raise GraphError(f"population '{name}': {key} must be in {low}..{high} "
                             f"(Loihi LIF formats), got {value.min()}..{value.max()}")
    if m.arithmetic not in ARITHMETICS:
        raise GraphError(f"population '{name}': arithmetic must be one of "
                         f"{', '.join(ARITHMETICS)}, got '{m.arithmetic}'")
