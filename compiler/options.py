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
    seed: draws of an emulated chip's random parts (stochastic synapses, device instances,
        read noise); trial k of ``--trials`` runs with seed + k. Deterministic targets ignore it.
    device: (key, value) settings of the emulated chip's devices and periphery that override
        its chip model (``--device read_noise=0``), sorted by key; each family names the keys
        it takes (``device_settings``) and refuses others.
    """

    dt: float = 1e-4
    integrator: str = "euler"
    reset: str = "to_v_reset"
    dtype: str = "float32"
    seed: int = 0
    device: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise OptionError(f"dt must be a positive number of seconds, got {self.dt}")
        for name, allowed in (("integrator", INTEGRATORS), ("reset", RESETS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise OptionError(f"{name} must be one of {', '.join(allowed)}; "
                                  f"got '{getattr(self, name)}'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise OptionError(f"seed must be a non-negative integer, got {self.seed!r}")
        pairs = self.device.items() if isinstance(self.device, dict) else self.device
        pairs = tuple(sorted((str(k), str(v)) for k, v in pairs))  # lists from a manifest
        if len({k for k, _ in pairs}) != len(pairs):
            raise OptionError(f"device: a key is given twice ({pairs})")
        object.__setattr__(self, "device", pairs)

    def to_dict(self) -> dict:
        return asdict(self)


TIME_CONSTANTS = ("tau", "tau_mem", "tau_syn")


def check_stable(graph, options: SimOptions, prefix: str = "") -> None:
    """Forward Euler multiplies a state by 1 - dt/tau per step: beyond dt/tau = 2 that factor
    is below -1 and the state oscillates with growing amplitude, a model no chip or framework
    runs meaningfully. Refuse it, naming the node (nested graphs included) and the way out."""
    if options.integrator != "euler":
        return
    for name, node in graph.nodes.items():
        if hasattr(node, "nodes"):  # a nested graph
            check_stable(node, options, f"{prefix}{name}.")
        for field in TIME_CONSTANTS:
            tau = getattr(node, field, None)
            if tau is not None and np.max(options.dt / np.asarray(tau, np.float64)) > 2:
                raise OptionError(
                    f"node '{prefix}{name}': dt / {field} = "
                    f"{np.max(options.dt / np.asarray(tau, np.float64)):.3g} > 2 (dt {options.dt:g} "
                    f"s, least {field} {np.min(tau):.3g} s): forward Euler diverges; use "
                    f"--integrator exp or --dt {2 * float(np.min(tau)):.3g} or less")


def gain(tau: np.ndarray, options: SimOptions) -> np.ndarray:
    """Per-step relaxation factor toward the target: dt/tau or 1 - exp(-dt/tau), in float64."""
    ratio = options.dt / np.asarray(tau).astype(np.float64)
    return ratio if options.integrator == "euler" else -np.expm1(-ratio)


def parse_device(text: str) -> tuple[str, str]:
    """One ``--device KEY=VALUE`` argument."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise OptionError(f"--device takes KEY=VALUE, got '{text}'")
    return key.strip(), value.strip()


def device_settings(options: SimOptions, defaults: dict) -> dict:
    """``defaults`` (each key a target takes: its value, a bool, int, float or str) with the
    ``device`` settings given for those keys, read as the default's type. Keys of other
    targets are left to them (``check_device_keys`` refuses keys no target takes)."""
    out = dict(defaults)
    for key, text in options.device:
        if key in defaults:
            out[key] = _typed(text, defaults[key], key)
    return out


def check_device_keys(options: SimOptions, targets: list) -> None:
    """Every ``--device`` key is one that one of ``targets`` takes (``Target.device_keys``)."""
    known = {key for target in targets for key in target.device_keys}
    unknown = [key for key, _ in options.device if key not in known]
    if unknown:
        names = ", ".join(t.name for t in targets)
        raise OptionError(f"no device setting '{unknown[0]}' on {names} (settings: "
                          f"{', '.join(sorted(known)) or 'none'})")


def _typed(text: str, default, key: str):
    kind = type(default)
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
            raise OptionError(f"device setting {key} is true or false, got '{text}'")
        return text.lower() in ("true", "1", "on", "yes")
    try:
        value = kind(text) if kind in (int, float) else text
    except ValueError:
        raise OptionError(f"device setting {key} is a{'n' if kind is int else ''} "
                          f"{kind.__name__}, got '{text}'") from None
    if isinstance(value, float) and not np.isfinite(value):
        raise OptionError(f"device setting {key} must be finite, got '{text}'")
    return value
