"""The fixed-point arithmetic of a SpiNNaker 1 ARM core, as sPyNNaker 1!7.4.1 builds it, on
raw integers (numpy int64 / uint64 arrays).

Types (``neural_modelling/src/common/maths-util.h``): ``REAL`` = GCC ``accum`` = s16.15 (an
int32 whose LSB is 2**-15); ``decay_t`` = ``unsigned long fract`` = u0.32 (a uint32 whose LSB
is 2**-32). Additions wrap in 32 bits (``wrap``). ``accum * accum`` is GCC's ISO 18037
multiply, which truncates: floor(a * b / 2**15) (``mul``; Mikaitis, ARITH 2020).

From spinn_common 7.4.1:
- ``src/stdfix-exp.c``: ``expk`` (s16.15 -> s16.15) and ``expulr`` (s16.15 -> u0.32), through
  ``__expi64`` (a table of e**z for integer z, then two corrections for the fraction, each
  ``scale64``: a 64 x 32-bit product rounded by ``round64`` of ``include/utils.h``, which rounds
  up from 0x7FFFFFFF, not 0x80000000). ``expk`` truncates the u32.32 result to s16.15 (the
  ``r += 1 << 16`` before ``r = tmp1 >> 17`` is dead code), ``expulr`` keeps its low 32 bits.
From sPyNNaker 7.4.1:
- ``common/maths-util.h``: ``kdivk(a, b)`` = floor((a << 15) / b) (``udiv64``), ``kdivui``.
- ``neuron/decay.h``: ``decay_s1615(x, d)`` = (int64 x * d) >> 32 (floor);
  ``decay_s1615_to_u032(x, d)`` = (x * d) >> 15 as u0.32.
- ``neuron/models/neuron_model_lif_impl.h: lif_ceil_accum``: ceil of an s16.15 value.
Host-side values are written ``round(x * 32768)`` (``DataType.S1615`` in
spinn_front_end_common ``interface/ds/data_type.py``): ``s1615``.
"""
from __future__ import annotations

import numpy as np

ONE = 1 << 15  # 1.0 in s16.15
U032_MAX = (1 << 32) - 1  # GCC's 1.0ulr: 1.0 does not fit u0.32, so it saturates to this
INT32_MAX = (1 << 31) - 1

# spinn_common src/stdfix-exp.c: __exp_hi[13 + z] = e**z * 2**32 (z = -13 .. 12)
_EXP_HI = np.array([
    9708, 26389, 71733, 194991, 530041, 1440801, 3916503, 10646160, 28939262, 78665070,
    213833830, 581260615, 1580030169, 4294967296, 11674931555, 31735754293, 86266724208,
    234497268814, 637429664642, 1732713474316, 4710003551159, 12803117065094,
    34802480465680, 94602950235157, 257157480542844, 699026506411923], np.uint64)
# __expm1_mid[k] = (1 - e**(-k/16)) * 2**32
_EXPM1_MID = np.array([
    0, 260218914, 504671961, 734314346, 950043403, 1152702096, 1343082321, 1521927990,
    1689937949, 1847768698, 1996036966, 2135322113, 2266168400, 2389087112, 2504558555,
    2613033936], np.uint64)
_EXP_SERIES = (5294, 4293434720, 2081624032)
_MASK32 = np.uint64(U032_MAX)


def s1615(values) -> np.ndarray:
    """Host values as the raw s16.15 words sPyNNaker writes: round(x * 32768) (numpy rounds
    half to even where Python's ``round`` would too)."""
    return np.rint(np.asarray(values, np.float64) * ONE).astype(np.int64)


def wrap(raw) -> np.ndarray:
    """A raw sum as the int32 it is on the core (two's complement wrap)."""
    raw = np.asarray(raw, np.int64)
    return ((raw + (1 << 31)) & ((1 << 32) - 1)) - (1 << 31)


def mul(a, b) -> np.ndarray:
    """s16.15 x s16.15 as GCC computes it: floor(a * b / 2**15), wrapped to 32 bits."""
    return wrap((np.asarray(a, np.int64) * np.asarray(b, np.int64)) >> 15)


def decay_s1615(x, decay) -> np.ndarray:
    """sPyNNaker ``decay.h``: s16.15 x u0.32 -> s16.15, (x * decay) >> 32 (floor). The product
    fits int64: |x| < 2**31 and decay < 2**32."""
    return (np.asarray(x, np.int64) * np.asarray(decay, np.int64)) >> 32


def decay_s1615_to_u032(x, decay) -> np.ndarray:
    """sPyNNaker ``decay.h``: s16.15 x u0.32 -> u0.32, (x * decay) >> 15."""
    return ((np.asarray(x, np.int64) * np.asarray(decay, np.int64)) >> 15) & U032_MAX


def kdivk(a, b) -> np.ndarray:
    """sPyNNaker ``maths-util.h``: a / b for positive s16.15 values, floor((a << 15) / b),
    kept to 32 bits as ``(uint32_t) udiv64(...)``."""
    return ((np.asarray(a, np.int64) << 15) // np.asarray(b, np.int64)) & U032_MAX


def ceil_accum(raw) -> np.ndarray:
    """``lif_ceil_accum``: the integer part, plus one if any fraction bit is set."""
    raw = np.asarray(raw, np.int64)
    return (raw >> 15) + ((raw & 0x7FFF) > 0)


def _round64(x: np.ndarray) -> np.ndarray:
    return (x >> np.uint64(32)) + ((x & _MASK32) >= np.uint64(INT32_MAX)).astype(np.uint64)


def _scale64(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``utils.h: scale64``: x (64-bit) times y (u0.32), the low word's product rounded."""
    low = _round64((x & _MASK32) * y)
    return low + (x >> np.uint64(32)) * y


def _coef_mult(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    return ((c & _MASK32) * (x & _MASK32)) >> np.uint64(32)


def _exp_series(x: np.ndarray) -> np.ndarray:
    """1 - exp(-f) for the low 11 fraction bits, as a polynomial (``exp_series``)."""
    c0, c1, c2 = (np.uint64(c) for c in _EXP_SERIES)
    tmp = (c1 - _coef_mult(np.full_like(x, c2), x)) & _MASK32
    return (_coef_mult(tmp, x) + c0) & _MASK32


def _expi64(n: np.ndarray) -> np.ndarray:
    """``__expi64``: e**(n / 2**15) as u32.32, for n in the range expk accepts."""
    n = np.asarray(n, np.int64)
    z, f = n >> 15, n & 0x7FFF
    frac = f > 0
    z = np.where(frac, z + 1, z)
    f = np.where(frac, ONE - f, 0)
    tmp = _EXP_HI[13 + z]
    tmp = tmp - np.where(frac, _scale64(tmp, _EXPM1_MID[f >> 11]), 0).astype(np.uint64)
    y = ((f & 0x7FF) << 17).astype(np.uint64)
    return tmp - np.where(frac, _scale64(tmp, _exp_series(y)), 0).astype(np.uint64)


def _in_range(n: np.ndarray) -> np.ndarray:
    return np.clip(n, -340695, 363408)


def expk(n) -> np.ndarray:
    """spinn_common ``expk``: e**x for raw s16.15 x -> raw s16.15 (truncated), saturating
    to INT32_MAX above 363408 and to 0 below -340695."""
    n = np.asarray(n, np.int64)
    r = (_expi64(_in_range(n)) >> np.uint64(17)).astype(np.int64)
    return np.where(n > 363408, INT32_MAX, np.where(n < -340695, 0, r))


def expulr(n) -> np.ndarray:
    """spinn_common ``expulr``: e**x for raw s16.15 x <= 0 -> raw u0.32 (the low word)."""
    n = np.asarray(n, np.int64)
    r = (_expi64(_in_range(n)) & _MASK32).astype(np.int64)
    return np.where(n > 363408, INT32_MAX, np.where(n < -340695, 0, r))


# -- what the core computes at load time from the host's parameters ----------------------------


def lif_exp_tc(tau_m, ts) -> np.ndarray:
    """``neuron_model_initialise``: exp_TC = expk(-kdivk(ts, tau_m)), s16.15."""
    return expk(-kdivk(ts, tau_m))


def lif_resistance(tau_m, cm) -> np.ndarray:
    """``neuron_model_initialise``: R_membrane = kdivk(tau_m, c_m), s16.15 (MOhm)."""
    return kdivk(tau_m, cm)


def exp_synapse(tau_syn, ts) -> tuple[np.ndarray, np.ndarray]:
    """``exp_synapse_utils.h: decay_and_init``: (decay, init) as u0.32, decay =
    expulr(-kdivk(ts, tau)), init = decay_s1615_to_u032(kdivk(tau, ts), 1.0ulr - decay)."""
    decay = expulr(-kdivk(ts, tau_syn))
    return decay, decay_s1615_to_u032(kdivk(tau_syn, ts), U032_MAX - decay)


def delta_scale(ts) -> np.ndarray:
    """``input_type_delta.h: input_type_initialise``: scale_factor = kdivk(1.0, ts)."""
    return kdivk(ONE, ts)
