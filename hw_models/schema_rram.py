"""The [crossbar] section of a chip file: an RRAM crossbar array, its devices and periphery. Its own module so that the RRAM family's
facts grow without touching the shared schema (``schema.py`` lists it in ``SECTIONS``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema_fields import q


@dataclass(frozen=True)
class Crossbar:
    """An RRAM crossbar array and its periphery."""

    rows: Optional[int] = q("rows", int)
    """Word lines: inputs one array sums over."""
    columns: Optional[int] = q("columns", int)
    parallel_rows: Optional[int] = q("rows", int)
    """Rows read at once."""
    columns_per_adc: Optional[int] = q("columns", int)
    adc_bits: Optional[int] = q("bits", int)
    input_bits: Optional[int] = q("bits", int)
    """Bits applied per row per read (1: a spike is one fixed read pulse, no DAC)."""
    g_on: Optional[float] = q("S")
    """Highest programmable conductance."""
    g_off: Optional[float] = q("S")
    """Lowest conductance."""
    read_voltage: Optional[float] = q("V")
    read_pulse: Optional[float] = q("s")
    programming_sigma: Optional[float] = q("1")
    """Programming error, one sigma, as a fraction of g_on."""
    read_noise: Optional[float] = q("1")
    """Read noise, one sigma, as a fraction of the ideal output, redrawn every read."""
