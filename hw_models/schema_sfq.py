"""The [sfq] section of a chip file: single-flux-quantum cells, their delays and junctions,
the emulator's time base and the SFQ-specific cost figures (bias, area, cooling). Its own
module so that the SFQ family's facts grow without touching the shared schema (``schema.py``
lists it in ``SECTIONS``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema_fields import q

GATES = ("stochastic", "deterministic")
LOGIC_FAMILIES = ("rsfq", "ersfq", "esfq")


@dataclass(frozen=True)
class Sfq:
    """Single-flux-quantum circuit parameters: cell delays and Josephson-junction counts."""

    rate_coded: Optional[bool] = q(None, bool)
    """Values are pulse rates, not single spikes."""
    logic_family: Optional[str] = q(None, str, LOGIC_FAMILIES)
    """How the junctions are biased: rsfq (resistors: static power) or ersfq/esfq (junction
    limiters and inductors: no static power)."""
    critical_current: Optional[float] = q("A")
    """Junction critical current I_c; a switching costs about I_c * flux quantum (the cost
    model checks the energy model's jj_switch against it)."""
    switch_energy_factor: Optional[float] = q(None)
    """Energy of one logic switching in units of I_c * flux quantum (ERSFQ: about 2, the
    bias-limiting junction switching with it)."""
    neuron_input_jjs: Optional[int] = q("JJs", int)
    """Junctions a pulse delivered to a neuron switches at its input port."""
    clock_jjs: Optional[int] = q("JJs", int)
    """Junctions the clock pulse switches per clocked cell and step (its splitter and the
    cell's clock input)."""
    die_area: Optional[float] = q("mm^2")
    """The die the circuit must fit on (the fit's area limit)."""
    tick: Optional[float] = q("s")
    """The emulator's time base: every cell delay is a whole number of ticks."""
    jtl_delay: Optional[float] = q("s")
    jtl_jjs: Optional[int] = q("JJs", int)
    splitter_delay: Optional[float] = q("s")
    splitter_jjs: Optional[int] = q("JJs", int)
    merger_delay: Optional[float] = q("s")
    merger_jjs: Optional[int] = q("JJs", int)
    merger_window: Optional[float] = q("s")
    """Two pulses that reach one merger less than this apart collide: the later is lost."""
    dro_delay: Optional[float] = q("s")
    dro_jjs: Optional[int] = q("JJs", int)
    gate_delay: Optional[float] = q("s")
    """The synapse's pass gate (stochastic or deterministic) with its pulse generator."""
    gate_jjs: Optional[int] = q("JJs", int)
    pulse_spacing: Optional[float] = q("s")
    """Time between the pulses of one multi-fluxon weight (at least the merger window)."""
    neuron_delay: Optional[float] = q("s")
    neuron_jjs: Optional[int] = q("JJs", int)
    """The flux-storing integrate-and-fire cell with its threshold and clocked leak."""
    gates: Optional[str] = q(None, str, GATES)
    """Synapses by default: stochastic pass gates or deterministic multi-fluxon weights."""
    serialize: Optional[bool] = q(None, bool)
    """Whether synapse outputs are released one after another by default (no collisions)."""
    pulses_per_spike: Optional[int] = q("pulses", int)
    """Stochastic gates: pulses a spike sends into its gate, each passed with the gate's p."""
    gate_bias_center: Optional[float] = q("A")
    """Bias current at which a stochastic gate passes half its pulses (I_0 of the sigmoid)."""
    gate_bias_width: Optional[float] = q("A")
    """Bias current per unit of logit(p) (s of p = sigmoid((I_b - I_0) / s))."""
    gate_bias_spread: Optional[float] = q("A")
    """Standard deviation of a gate's bias current from one circuit instance to the next
    (process spread): each instance's p = sigmoid(logit(p) + N(0, spread) / width)."""
    area_per_jj: Optional[float] = q("um^2")
    """Layout area per junction, wiring and bias lines included."""
    static_power_per_jj: Optional[float] = q("W")
    """RSFQ bias-resistor dissipation per junction (none for ERSFQ/eSFQ)."""
