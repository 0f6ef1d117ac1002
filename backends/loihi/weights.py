"""Lava 0.10.0's bit-accurate Dense/Sparse/DelayDense weight arithmetic, as engine pieces.

On its first step ``PyDenseModelBitAcc`` (and the Sparse and DelayDense bit-accurate models)
rewrites its weights once (``lava/utils/weightutils.py``):

1. cast to int32 (floats truncate toward zero);
2. ``clip_weights(w, sign_mode, num_bits=8)``: MIXED -> [-256, 255]; EXCITATORY -> [0, 255];
   INHIBITORY -> -clip(-w, 0, 255);
3. ``truncate_weights``: w <- (w >> k) << k with k = 8 - num_weight_bits + [MIXED], an
   arithmetic shift on the magnitude of INHIBITORY weights and on the signed value otherwise
   (so MIXED negatives round toward -inf and 8-bit MIXED weights are even).

The sign mode defaults to the inferred one: min >= 0 -> EXCITATORY, else max <= 0 ->
INHIBITORY, else MIXED (over all entries, implicit zeros of a sparse matrix included).

Every step the model sums the weights of the active inputs (per delay) and shifts the sum:
``a << weight_exp`` if weight_exp > 0, else ``a >> -weight_exp`` (arithmetic: floor).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.errors import GraphError

SIGN_MODES = ("mixed", "excitatory", "inhibitory")
MAX_WEIGHT_EXP = 24  # keeps every shifted sum exact in int64 (snnc's limit, not Lava's)


def lava_int32(values: np.ndarray, what: str) -> np.ndarray:
    """Lava's int32 Var cast (floats truncate toward zero), as int64; rejects values that
    int32 cannot hold (Lava would wrap or be undefined)."""
    values = np.asarray(values)
    if values.size and (values.min() < -2 ** 31 or values.max() >= 2 ** 31):
        raise GraphError(f"{what}: values must fit in int32")
    return values.astype(np.int32).astype(np.int64)


def sign_mode_of(values: np.ndarray, implicit_zeros: bool = False) -> str:
    """Lava's ``determine_sign_mode`` of int32-cast weights (``implicit_zeros``: the matrix
    also holds zeros not listed in ``values``, as a sparse matrix does)."""
    low = int(values.min()) if values.size else 0
    high = int(values.max()) if values.size else 0
    if implicit_zeros:
        low, high = min(low, 0), max(high, 0)
    if low >= 0:
        return "excitatory"
    return "inhibitory" if high <= 0 else "mixed"


def quantize(values: np.ndarray, sign_mode: str, num_weight_bits: int,
             weight_bits: int) -> np.ndarray:
    """Clip and truncate int64 weights as Lava does on the first step (see the module doc)."""
    mixed, negate = sign_mode == "mixed", sign_mode == "inhibitory"
    w = -values if negate else values.copy()
    w = np.clip(w, -(2 ** weight_bits) if mixed else 0, 2 ** weight_bits - 1)
    k = weight_bits - num_weight_bits + int(mixed)
    w = (w >> k) << k
    return -w if negate else w


def check_weight_params(what: str, sign_mode: str | None, num_weight_bits: int,
                        weight_exp: int, weight_bits: int) -> None:
    if sign_mode is not None and sign_mode not in SIGN_MODES:
        raise GraphError(f"{what}: sign_mode must be one of {', '.join(SIGN_MODES)} or None, "
                         f"got '{sign_mode}'")
    if not 1 <= num_weight_bits <= weight_bits:
        raise GraphError(f"{what}: num_weight_bits must be in 1..{weight_bits}, "
                         f"got {num_weight_bits}")
    if abs(weight_exp) > MAX_WEIGHT_EXP:
        raise GraphError(f"{what}: |weight_exp| must be <= {MAX_WEIGHT_EXP}, got {weight_exp}")


@dataclass(frozen=True)
class WeightExponent:
    """The engine synapse model of Lava's bit-accurate Dense: each partial sum a (one send
    step, one delay slot, one target) becomes ``a << exp`` (exp > 0) or ``a >> -exp`` (floor)."""

    exp: int

    def apply(self, partial: np.ndarray) -> np.ndarray:
        if self.exp == 0:
            return partial
        if self.exp > 0:
            return np.left_shift(partial, self.exp, out=partial)
        return np.right_shift(partial, -self.exp, out=partial)

    def bound(self, magnitude: int, slots: int) -> int:
        if self.exp >= 0:
            return magnitude << self.exp
        # floor adds at most 1 in magnitude per partial sum; a step receives one per slot
        return (magnitude >> -self.exp) + slots
