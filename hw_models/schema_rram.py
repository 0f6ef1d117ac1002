"""The [crossbar] section of a chip file: an RRAM crossbar array, its devices and periphery. Its own module so that the RRAM family's
facts grow without touching the shared schema (``schema.py`` lists it in ``SECTIONS``).

Device non-idealities are given as the chip's defaults; the ``rram`` targets read them as the
defaults of their ``--device KEY=VALUE`` settings (``snnc.backends.rram.device``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema_fields import q


@dataclass(frozen=True)
class Crossbar:
    """An RRAM crossbar array, its devices and periphery."""

    rows: Optional[int] = q("rows", int)
    """Word lines: inputs one array sums over."""
    columns: Optional[int] = q("columns", int)
    """Physical bit lines of one array (a differential weight takes two)."""
    arrays: Optional[int] = q("arrays", int)
    """Crossbar arrays (tiles) on one chip: the resource a mapping must fit."""
    parallel_rows: Optional[int] = q("rows", int)
    """Rows read at once."""
    columns_per_adc: Optional[int] = q("columns", int)
    adc_bits: Optional[int] = q("bits", int)
    adc_full_scale: Optional[float] = q("1")
    """ADC range as a fraction of an array's no-clipping bound (its strongest column with every
    row active): calibrated ranges sit below it so small sums keep their resolution."""
    neuron_as_adc: Optional[bool] = q(None, bool)
    """Whether the neurons integrate the column currents directly (no ADC conversion)."""
    input_bits: Optional[int] = q("bits", int)
    """Bits applied per row per read (1: a spike is one fixed read pulse, no DAC)."""
    g_on: Optional[float] = q("S")
    """Highest programmable conductance."""
    g_off: Optional[float] = q("S")
    """Lowest conductance."""
    read_voltage: Optional[float] = q("V")
    read_pulse: Optional[float] = q("s")
    programming_sigma: Optional[float] = q("1")
    """Programming error, one sigma, as a fraction of g_on: the constant term c0 of
    sigma(G) / g_on = c0 + c1 x + c2 x^2 with x = G / g_on (clipped at 0)."""
    programming_sigma_slope: Optional[float] = q("1")
    """c1 of the programming-error curve (0 if not given)."""
    programming_sigma_curve: Optional[float] = q("1")
    """c2 of the programming-error curve (0 if not given)."""
    read_noise: Optional[float] = q("1")
    """Read noise, one sigma per cell as a fraction of its conductance, redrawn every read."""
    stuck_on_rate: Optional[float] = q("1")
    """Share of cells stuck at g_on (failed RESET), drawn per device instance."""
    stuck_off_rate: Optional[float] = q("1")
    """Share of cells stuck at g_off (failed forming or SET), drawn per device instance."""
    drift_nu: Optional[float] = q("1")
    """Drift exponent: G(t) = G (t / drift_t0) ** -nu after programming."""
    drift_t0: Optional[float] = q("s")
    """Time after programming at which the programmed conductance is read (drift reference)."""
    drift_time: Optional[float] = q("s")
    """Default time since programming of a run (0 or below drift_t0: no drift)."""
    wire_resistance: Optional[float] = q("ohm")
    """Word/bit-line resistance per cell pitch (IR drop; 0: ideal wires)."""
    area_per_cell: Optional[float] = q("um^2")
    adc_area: Optional[float] = q("um^2")
    """One ADC with its sense amplifier and multiplexer."""
    adc_energy: Optional[float] = q("J")
    """One conversion of one column (pair)."""
    adc_time: Optional[float] = q("s")
    """One conversion; an ADC shared by k columns converts them one after another."""
    row_drive_energy: Optional[float] = q("J")
    """Driving one word line with one read pulse (driver and decoder)."""
    accumulate_energy: Optional[float] = q("J")
    """Adding one converted column into its neuron's input (shift-add, digital periphery)."""
    integrate_energy: Optional[float] = q("J")
    """Neuron as ADC: integrating one column current onto its neuron (per column per read)."""
