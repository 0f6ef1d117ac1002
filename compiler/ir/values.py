"""Parameter values of IR nodes: coercion to numpy and the checks every frontend's values pass
(numeric, finite, real, within float32's range; integers; positive time constants)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import GraphError

# Simulations run in float32 or float64; a time constant below float32's smallest normal number
# is subnormal or zero there, and dt / tau overflows or divides by zero.
SMALLEST_TIME_CONSTANT = float(np.finfo(np.float32).tiny)
LARGEST_PARAMETER = float(np.finfo(np.float32).max)  # beyond it a float32 simulation holds inf


def as_array(value: Any, name: str) -> np.ndarray:
    """A real, finite numpy array from a list, scalar, numpy or torch value."""
    if hasattr(value, "detach"):  # torch tensor: duck-typed so torch is never imported here
        value = value.detach().cpu().numpy()
    try:
        array = np.array(value)
    except (TypeError, ValueError):  # ragged nested lists, objects numpy cannot hold
        raise GraphError(f"parameter '{name}' is not a numeric array") from None
    if np.iscomplexobj(array):  # refused, not cast: casting drops the imaginary part silently
        raise GraphError(f"parameter '{name}' is complex-valued; parameters are real numbers")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise GraphError(f"parameter '{name}' is not numeric (dtype {array.dtype})")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise GraphError(f"parameter '{name}' holds NaN or infinite values")
    if array.size and np.abs(array).max() > LARGEST_PARAMETER:
        raise GraphError(f"parameter '{name}' holds {np.abs(array).max():g}, beyond the "
                         f"{LARGEST_PARAMETER:g} a float32 simulation can hold")
    array.setflags(write=False)
    return array


def as_ints(value: Any, ndim: int, name: str) -> tuple[int, ...]:
    """An int or sequence of ints, widened to ``ndim`` entries."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        flat = np.atleast_1d(np.asarray(value)).ravel()
    except (TypeError, ValueError):
        flat = np.array([], dtype=object)
    integral = flat.dtype.kind in "iu" or (flat.dtype.kind == "f" and np.all(np.abs(flat) < 2**63)
                                           and np.all(flat == np.round(flat)))  # int64, no NaN
    if flat.size == 1:
        flat = np.repeat(flat, ndim)
    if flat.size != ndim or not integral:
        raise GraphError(f"parameter '{name}' must be {ndim} integers, got {short(value)}")
    return tuple(int(v) for v in flat)


def short(value: Any) -> str:
    """A value as at most 60 characters of one line, for an error message."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def at_least(name: str, values: tuple[int, ...], low: int) -> None:
    if any(v < low for v in values):
        raise GraphError(f"parameter '{name}' must be >= {low}, got {values}")


def positive_time_constant(name: str, array: np.ndarray) -> None:
    """A time constant (seconds) is divided by: it must be positive and a normal number."""
    smallest = float(array.min()) if array.size else 1.0
    if smallest <= 0:
        raise GraphError(f"parameter '{name}' is a time constant and must be positive, "
                         f"got {smallest:g}")
    if smallest < SMALLEST_TIME_CONSTANT:
        raise GraphError(f"parameter '{name}' = {smallest:g} s is too small to divide by "
                         f"(smallest allowed: {SMALLEST_TIME_CONSTANT:g} s)")
