"""Discretization options. NIR stores no dt, integrator or reset policy; snnc makes them explicit.

The defaults reproduce Norse 1.1.0: forward Euler, reset to v_reset, float32 arithmetic.
``dt`` defaults to 1e-4 s, the step of the NIR paper's files and of snnTorch's exporter.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import OptionError

INTEGRATORS = ("euler", "exp")
# immediate resets, then the delayed ones of snnTorch (reset_delay=True) and no reset at all
RESETS = ("to_v_reset", "zero", "subtract", "subtract_next", "zero_next", "none")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class SimOptions:
    """How continuous-time NIR dynamics become per-step updates.

    integrator: ``euler``: v += dt/tau * (...); ``exp``: the closed form for input held over
        the step, v += (1 - exp(-dt/tau)) * (...).
    reset: after a spike, ``to_v_reset`` sets v = v_reset (NIR, Norse), ``zero`` sets v = 0,
        ``subtract`` sets v -= v_threshold, all in the same step. ``subtract_next`` subtracts
        v_threshold from the next step's membrane after its update (snnTorch's default
        reset_delay); ``zero_next`` sets the next step's updated membrane to 0 (snnTorch's
        Synaptic / RLeaky / RSynaptic zero reset); ``none`` never resets. A neuron node's own
        ``reset`` field, set by the frontends, overrides this option.
    dtype: the arithmetic of the simulation (float32 as Norse and snnTorch).
    """

    dt: float = 1e-4
    integrator: str = "euler"
    reset: str = "to_v_reset"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise OptionError(f"dt must be a positive number of seconds, got {self.dt}")
        for name, allowed in (("integrator", INTEGRATORS), ("reset", RESETS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise OptionError(f"{name} must be one of {', '.join(allowed)}; "
                                  f"got '{getattr(self, name)}'")

    def to_dict(self) -> dict:
        return asdict(self)


def gain(tau: np.ndarray, options: SimOptions) -> np.ndarray:
    """Per-step relaxation factor toward the target: dt/tau or 1 - exp(-dt/tau), in float64."""
    ratio = options.dt / np.asarray(tau).astype(np.float64)
    return ratio if options.integrator == "euler" else -np.expm1(-ratio)
