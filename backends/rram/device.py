"""Device settings of an RRAM run and the device instance they draw: programmed conductances.

Settings (``--device KEY=VALUE``; defaults from the chip model's ``[crossbar]``, see
``DEVICE_KEYS``). ``ideal=true`` turns every non-ideality off: unlimited levels (the graph's
weights exactly), no programming error, no read noise, no faults, no drift, ideal wires, an
ideal ADC; the target then computes the reference's arithmetic exactly.

A device instance is drawn from ``options.seed`` (its own stream per layer): each weight w of
a layer is a differential pair, the device on w's side programmed to
g_off + f (g_on - g_off) with f = |w| / w_max on ``levels`` levels (w_max: the largest weight
the format's levels reach), the other at g_off. Then, in this order: programming error
G + N(0, sigma(G)) with sigma(G) / g_on = c0 + c1 x + c2 x^2, x = G / g_on (the chip's curve
times ``programming``); stuck-at-on (g_on) and stuck-at-off (g_off) faults at their rates;
drift G (t / t0) ** -nu for a read ``drift_time`` t after programming; IR drop as a series
wire resistance, the cell at row i, column j of its array seeing (i + j + 2) wire segments:
G_eff = G / (1 + G r (i + j + 2)) (first-order, input-independent). Read noise is not part of
the instance: it is redrawn on every read (``crossbar``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from snnc.errors import OptionError
from snnc.options import SimOptions, device_settings

from .. import engine

DEVICE_KEYS = {
    "ideal": "true: every non-ideality off (unlimited levels, no programming error, read "
             "noise, faults or drift, ideal wires and ADC): the reference's arithmetic exactly",
    "levels": "conductance levels per device (0: unlimited, the graph's weights exactly)",
    "programming": "scale of the chip's programming-error curve sigma(G) (0: none, 1: chip)",
    "read_noise": "read noise, one sigma per cell as a fraction of G, redrawn every read",
    "stuck_on": "share of cells stuck at g_on, drawn per device instance",
    "stuck_off": "share of cells stuck at g_off, drawn per device instance",
    "drift_time": "seconds since programming at the read (conductance drift; 0: none)",
    "wire_resistance": "ohm of word/bit line per cell pitch (IR drop; 0: ideal wires)",
    "adc_bits": "ADC resolution of a column pair's signed current (0: ideal ADC)",
    "adc_full_scale": "ADC range as a fraction of an array's no-clipping bound",
    "columns_per_adc": "column pairs sharing one ADC (they convert one after another)",
    "neuron_as_adc": "true: neurons integrate column currents directly (no ADC)",
}


@dataclass(frozen=True)
class Settings:
    """The device settings one run uses."""

    levels: int
    programming: float
    read_noise: float
    stuck_on: float
    stuck_off: float
    drift_time: float
    wire_resistance: float
    adc_bits: int
    adc_full_scale: float
    columns_per_adc: int
    neuron_as_adc: bool
    seed: int = 0

    @property
    def ideal_instance(self) -> bool:
        """Whether the programmed conductances are exactly the weights."""
        return (self.levels == 0 and self.programming == 0 and self.stuck_on == 0
                and self.stuck_off == 0 and self.drift_time == 0 and self.wire_resistance == 0)

    @property
    def ideal_read(self) -> bool:
        """Whether a read returns the exact column sums (no noise, no quantization)."""
        return self.read_noise == 0 and (self.neuron_as_adc or self.adc_bits == 0)

    @property
    def exact(self) -> bool:
        return self.ideal_instance and self.ideal_read


IDEAL = dict(levels=0, programming=0.0, read_noise=0.0, stuck_on=0.0, stuck_off=0.0,
             drift_time=0.0, wire_resistance=0.0, adc_bits=0)


def defaults(chip, weight_levels: int) -> dict:
    """The device settings a run uses unless ``--device`` overrides them."""
    bar = chip.crossbar
    return {"ideal": False, "levels": int(weight_levels), "programming": 1.0,
            "read_noise": float(bar.read_noise or 0.0),
            "stuck_on": float(bar.stuck_on_rate or 0.0),
            "stuck_off": float(bar.stuck_off_rate or 0.0),
            "drift_time": float(bar.drift_time or 0.0),
            "wire_resistance": float(bar.wire_resistance or 0.0),
            "adc_bits": int(bar.adc_bits or 0),
            "adc_full_scale": float(bar.adc_full_scale or 1.0),
            "columns_per_adc": int(bar.columns_per_adc or 1),
            "neuron_as_adc": bool(bar.neuron_as_adc)}


def settings(options: SimOptions, chip) -> Settings:
    """The run's settings: chip defaults, then ``--device`` overrides, checked."""
    bits = chip.formats.weight_bits or 0
    got = device_settings(options, defaults(chip, 2 ** bits if bits else 0))
    ideal = got.pop("ideal")
    for key in ("levels", "adc_bits", "programming", "read_noise", "stuck_on", "stuck_off",
                "drift_time", "wire_resistance"):
        if got[key] < 0:
            raise OptionError(f"device setting {key} must be >= 0, got {got[key]}")
    if got["levels"] == 1:
        raise OptionError("device setting levels must be 0 (unlimited) or at least 2, got 1")
    if got["stuck_on"] + got["stuck_off"] > 1:
        raise OptionError("device settings stuck_on + stuck_off must be at most 1")
    if not got["adc_full_scale"] > 0:
        raise OptionError("device setting adc_full_scale must be > 0, got "
                          f"{got['adc_full_scale']}")
    if got["columns_per_adc"] < 1:
        raise OptionError("device setting columns_per_adc must be at least 1")
    if got["drift_time"] and not chip.crossbar.drift_t0:
        raise OptionError(f"chip '{chip.name}' gives no crossbar.drift_t0, which drift needs")
    found = Settings(**got, seed=options.seed)
    return replace(found, **IDEAL) if ideal else found


@dataclass(frozen=True)
class Instance:
    """One layer's programmed devices: G+ and G- (siemens), shaped (rows, columns) of the
    layer's compact rows and columns, and the weight one siemens of G+ - G- stands for."""

    g_plus: np.ndarray
    g_minus: np.ndarray
    weight_per_siemens: float


def nominal(weight: np.ndarray, w_max: float, chip, levels: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """The target conductances (G+, G-) of weights (rows, columns): the device on a weight's
    side at g_off + f (g_on - g_off), f = |w| / w_max on ``levels`` levels (0: unlimited),
    the other device at g_off."""
    bar = chip.crossbar
    f = np.abs(weight) / w_max if w_max > 0 else np.zeros_like(weight)
    if levels:
        f = np.rint(f * (levels - 1)) / (levels - 1)
    target = bar.g_off + np.minimum(f, 1.0) * (bar.g_on - bar.g_off)
    return np.where(weight > 0, target, bar.g_off), np.where(weight < 0, target, bar.g_off)


def program(weight: np.ndarray, w_max: float, chip, settings: Settings, name: str,
            array_rows: int, pairs: int) -> Instance:
    """The device instance of one layer's weights (rows, columns) (see the module doc)."""
    bar = chip.crossbar
    span = bar.g_on - bar.g_off
    g_plus, g_minus = nominal(weight, w_max, chip, settings.levels)
    rng = engine.connection_rng(settings.seed, name + "#devices")
    g_plus, g_minus = (_draw(g, chip, settings, rng) for g in (g_plus, g_minus))
    if settings.wire_resistance:
        g_plus, g_minus = (_ir_drop(g, settings.wire_resistance, array_rows, pairs, k)
                           for k, g in enumerate((g_plus, g_minus)))
    return Instance(g_plus, g_minus, w_max / span if span > 0 else 0.0)


def _draw(g: np.ndarray, chip, settings: Settings, rng: np.random.Generator) -> np.ndarray:
    """Programming error, faults and drift on nominal conductances (same draws per seed)."""
    bar = chip.crossbar
    noise = rng.standard_normal(g.shape)  # drawn even when unused: streams stay aligned
    faults = rng.random(g.shape)
    if settings.programming:
        x = g / bar.g_on
        curve = ((bar.programming_sigma or 0.0) + (bar.programming_sigma_slope or 0.0) * x
                 + (bar.programming_sigma_curve or 0.0) * x * x)
        g = g + settings.programming * np.maximum(curve, 0.0) * bar.g_on * noise
    g = np.where(faults < settings.stuck_on, bar.g_on, g)
    g = np.where((faults >= settings.stuck_on) & (faults < settings.stuck_on + settings.stuck_off),
                 bar.g_off, g)
    if settings.drift_time > bar.drift_t0 if bar.drift_t0 else False:
        g = g * (settings.drift_time / bar.drift_t0) ** -(bar.drift_nu or 0.0)
    return np.maximum(g, 0.0)


def _ir_drop(g: np.ndarray, ohms: float, array_rows: int, pairs: int, side: int) -> np.ndarray:
    """Series wire resistance by position in its array (row i, physical column 2j + side)."""
    i = np.arange(g.shape[0]) % array_rows
    j = 2 * (np.arange(g.shape[1]) % pairs) + side
    segments = i[:, None] + j[None, :] + 2
    return g / (1.0 + g * ohms * segments)
