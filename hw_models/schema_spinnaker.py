"""The [arm] section of a chip file: what the SpiNNaker family's ARM cores spend per step and
per event, so that a mapping can say which core overruns the real-time timestep. Its own
module so that the family's facts grow without touching the shared schema (``schema.py``
lists it in ``SECTIONS``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema_fields import q


@dataclass(frozen=True)
class Arm:
    """ARM968 cycle costs of sPyNNaker's event-driven loop (per core), and the DTCM / SDRAM
    sizes its data structures take (the SpiNNaker mapping's partitioner reads them)."""

    timer_overhead: Optional[float] = q("cycles")
    """Cycles of the timer callback per step that do not depend on the load."""
    neuron_update: Optional[float] = q("cycles")
    """Cycles per neuron per step (the neuron model's update in ``neuron_impl_standard.h``)."""
    synaptic_event: Optional[float] = q("cycles")
    """Cycles per synapse processed from a row (``synapses.c`` process_fixed_synapses)."""
    packet_received: Optional[float] = q("cycles")
    """Cycles per multicast packet received: the interrupt, the population-table look-up and
    the row's DMA set-up."""
    spike_sent: Optional[float] = q("cycles")
    """Cycles per spike a neuron sends (one multicast packet)."""
    system_cores_per_chip: Optional[int] = q("cores", int)
    """Cores sPyNNaker's tools take on every chip before placing the network (its
    ExtraMonitorSupport)."""
    system_cores_per_ethernet_chip: Optional[int] = q("cores", int)
    """Cores they take on each Ethernet chip besides (its DataSpeedUpPacketGatherer)."""
    dtcm_data: Optional[int] = q("bits", int)
    """DTCM a core's data may take (of the 64 KiB): ring buffers, neuron state, buffers."""
    neuron_dtcm: Optional[int] = q("bits", int)
    """DTCM per neuron: the neuron model's parameter and state structs."""
    core_dtcm: Optional[int] = q("bits", int)
    """DTCM per core whatever its size: the incoming-spike buffer and the DMA row buffers."""
    row_header: Optional[int] = q("bits", int)
    """Header of each synaptic row in SDRAM (before its 32-bit fixed synapse words)."""
    colour_bits: Optional[int] = q("bits", int)
    """Low key bits of each atom's spike that carry the step's "colour" (so a delayed spike
    can be told from a late one): every core's key space is its atoms x 2**colour_bits."""
