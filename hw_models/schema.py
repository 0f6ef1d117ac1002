"""The chip-description schema: frozen dataclasses that a TOML chip file fills in.

Every hardware fact is a *sourced quantity*. In the file it is a table
``key = { value = 1024, unit = "neurons", source = "...", evidence = "datasheet" }``; on the
dataclass it is a plain number in the field's canonical unit (joules, seconds, watts, bits, ...),
and ``Chip.sources["section.key"]`` keeps where it came from. A field left out of the file is
``None``: not published, or not applicable to that kind of chip. Code must treat None as
"unknown", never as zero.

Evidence kinds (how much a number can be trusted):
    measured    metered on silicon or a board (power logs, profilers).
    simulated   from circuit or pre-silicon simulation, or a simulator's cell library.
    datasheet   a published specification or headline figure whose method is not stated: a vendor
                paper or brief, or a documented constant of the toolchain that targets the chip.
    estimated   derived or assumed; the source text says how.
    calibrated  fitted to measurements (the source says against what).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Iterator, Mapping, Optional

from snnc.errors import SnncError

from .schema_fields import q, text
from .schema_rram import Crossbar  # family sections live in their own modules
from .schema_sfq import Sfq
from .schema_spinnaker import Arm

EVIDENCE = ("measured", "simulated", "datasheet", "estimated", "calibrated")
# A chip's kind names the backend family that runs it (``snnc.backends.FAMILIES``: loihi,
# spinnaker, sfq, rram, ...); any identifier here, checked against the registry where used.
KIND_PATTERN = r"[a-z][a-z0-9_]*"
# What one algorithmic timestep is on the chip.
STEP_SEMANTICS = (
    "barrier",  # ends when every core reaches a mesh-wide barrier; length varies with load (Loihi)
    "timer",    # each core ticks on a fixed real-time timer; late work is dropped (SpiNNaker)
    "clock",    # one cycle of a global clock (clocked SFQ)
    "read",     # one crossbar read: spikes applied as read pulses to the rows (RRAM)
)


class ChipModelError(SnncError, ValueError):
    """A chip description is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Sourced:
    """Where a loaded number came from. ``given`` is the value and unit as the file wrote them."""

    value: object
    unit: Optional[str]
    source: str
    evidence: str
    given: str


@dataclass(frozen=True)
class Topology:
    """How cores and chips are arranged."""

    cores_per_chip: Optional[int] = q("cores", int)
    """Neuromorphic (or application-capable) cores on one chip, management cores excluded."""
    app_cores_per_chip: Optional[int] = q("cores", int)
    """Cores a compiled program may use per chip, after the toolchain reserves its own."""
    cores_per_tile: Optional[int] = q("cores", int)
    """Cores sharing one router tile (spikes within a tile need no hop)."""
    neurons_per_chip: Optional[int] = q("neurons", int)
    synapses_per_chip: Optional[int] = q("synapses", int)
    max_chips: Optional[int] = q("chips", int)
    """Most chips one program can span (address space or largest built system; see source)."""
    router_entries: Optional[int] = q("entries", int)
    """Multicast routing-table entries per chip usable by a program."""
    links_per_chip: Optional[int] = q("links", int)
    chip_memory: Optional[int] = q("bits", int)
    """Off-core memory per chip usable by a program (SpiNNaker SDRAM), in bits."""
    packet_bits: Optional[int] = q("bits", int)
    """Size of one spike message on the network, in bits."""


@dataclass(frozen=True)
class Core:
    """Capacities of one core: what the partitioner must respect."""

    neurons_per_core: Optional[int] = q("neurons", int)
    """Neurons (Loihi: compartments) one core can hold."""
    memory: Optional[int] = q("bits", int)
    """All local memory of one core (SRAM or DTCM), in bits."""
    synapse_memory: Optional[int] = q("bits", int)
    """The part of core memory that holds synapses, in bits."""
    synapse_word_bits: Optional[int] = q("bits", int)
    """Width of one synapse-memory word."""
    input_axons: Optional[int] = q("axons", int)
    """Fan-in of a core: distinct input axons (axon_id distribution lists) it can receive."""
    output_axons: Optional[int] = q("axons", int)
    """Fan-out of a core: distinct core-to-core output edges it can send on."""


@dataclass(frozen=True)
class Limits:
    """Per-neuron connectivity limits where published; None means bounded only per core."""

    fan_in: Optional[int] = q("synapses", int)
    """Most input synapses of one neuron."""
    fan_out: Optional[int] = q("synapses", int)
    """Most output synapses of one neuron."""


@dataclass(frozen=True)
class Formats:
    """Number formats: what quantisation must produce.

    Loihi (Lava fixed point) weights: a single-sign projection (EXCITATORY/INHIBITORY) stores
    magnitudes m in [0, 2**weight_bits - 1]; a MIXED projection stores signed
    m in [-2**(weight_bits_mixed-1), 2**(weight_bits_mixed-1) - 1] times 2 (even integers).
    Either way the synaptic input is the sum of stored weights shifted by the projection's
    weight exponent, then by ``input_shift``.
    """

    weight_encoding: Optional[str] = q(None, str, ("integer", "conductance", "probability"))
    """integer: fixed-point mantissa; conductance: programmed device levels; probability: a
    stochastic pass probability set by a bias current (SFQ)."""
    weight_bits: Optional[int] = q("bits", int)
    """Magnitude bits of a weight whose sign is not stored per synapse."""
    weight_bits_mixed: Optional[int] = q("bits", int)
    """Bits, sign included, of a weight in a mixed-sign projection (Lava MIXED)."""
    weight_sign: Optional[str] = q(None, str, ("sign_mode", "synapse_type", "differential"))
    """sign_mode: per projection excitatory/inhibitory/mixed (mixed costs one bit);
    synapse_type: the receptor type gives the sign; differential: a G+ - G- device pair."""
    weight_exp_scope: Optional[str] = q(None, str, ("projection", "synapse_type"))
    """What shares one weight exponent (shift)."""
    weight_exp_min: Optional[int] = q("1", int)
    weight_exp_max: Optional[int] = q("1", int)
    input_bits: Optional[int] = q("bits", int)
    """Width of the per-step synaptic input accumulator (Lava a_in, SpiNNaker ring buffer)."""
    input_shift: Optional[int] = q("bits", int)
    """Left shift applied to synaptic input before it enters the current (Lava act_shift)."""
    state_bits: Optional[int] = q("bits", int)
    """Width of the neuron state variables (u, v), sign included."""
    state_frac_bits: Optional[int] = q("bits", int)
    """Fractional bits of the state (SpiNNaker s16.15: 15)."""
    current_overflow: Optional[str] = q(None, str, ("wrap", "saturate"))
    voltage_overflow: Optional[str] = q(None, str, ("wrap", "saturate"))
    decay_bits: Optional[int] = q("bits", int)
    """Width of the decay constants (du, dv); unity decay is 2**decay_bits."""
    current_decay_offset: Optional[int] = q("1", int)
    """Added to the current decay before use (Lava: du + 1)."""
    decay_scope: Optional[str] = q(None, str, ("population", "neuron"))
    threshold_bits: Optional[int] = q("bits", int)
    """Width of the threshold mantissa."""
    threshold_shift: Optional[int] = q("bits", int)
    """The threshold compared against v is mantissa << threshold_shift."""
    threshold_scope: Optional[str] = q(None, str, ("population", "neuron"))
    bias_mant_bits: Optional[int] = q("bits", int)
    """Signed bias mantissa width, sign included."""
    bias_exp_bits: Optional[int] = q("bits", int)
    graded_spike_bits: Optional[int] = q("bits", int)
    """Largest integer payload of a graded spike."""
    synapse_types: Optional[int] = q("types", int)
    """Receptor (synapse) types per neuron in the default neuron model."""


@dataclass(frozen=True)
class Delays:
    """Axonal/synaptic delays, in timesteps as the toolchain counts them.

    The spike arrives ``delay + added_latency_steps`` steps after it was sent.
    """

    min_steps: Optional[int] = q("steps", int)
    max_steps: Optional[int] = q("steps", int)
    """Longest delay at the chip's default configuration (see source)."""
    max_steps_at_full_core: Optional[int] = q("steps", int)
    """Longest delay guaranteed when a core holds its maximum number of neurons."""
    delay_bits: Optional[int] = q("bits", int)
    added_latency_steps: Optional[int] = q("steps", int)
    """Steps every connection adds on top of its delay (Lava Dense: 1)."""
    ring_buffer_index_bits: Optional[int] = q("bits", int)
    """SpiNNaker: bits indexing the input ring buffer (delay + synapse type + neuron)."""
    extension_stages: Optional[int] = q("stages", int)
    """SpiNNaker: DelayExtension stages, each one on-core delay span long."""

    def on_core_max_steps(self, atom_bits: int, synapse_type_bits: int) -> int:
        """SpiNNaker on-core delay slots: 2**(index bits - atom bits - synapse-type bits)."""
        return 2 ** (self.ring_buffer_index_bits - atom_bits - synapse_type_bits)

    def max_steps_with_extension(self, atom_bits: int, synapse_type_bits: int) -> int:
        """SpiNNaker longest delay: the on-core span plus one span per extension stage."""
        return self.on_core_max_steps(atom_bits, synapse_type_bits) * (1 + self.extension_stages)


@dataclass(frozen=True)
class Timing:
    """Step length and per-event latencies, in seconds."""

    timestep: Optional[float] = q("s")
    """Default real-time length of one step, where the chip fixes it."""
    clock: Optional[float] = q("Hz")
    barrier_sync_min: Optional[float] = q("s")
    barrier_sync_max: Optional[float] = q("s")
    step_time_min: Optional[float] = q("s")
    """Shortest measured wall time of one step in real workloads."""
    step_time_max: Optional[float] = q("s")
    synaptic_op: Optional[float] = q("s")
    """One synaptic event (dense connectivity where the chip's figures separate kinds)."""
    synaptic_op_sparse: Optional[float] = q("s")
    synaptic_op_conv: Optional[float] = q("s")
    synaptic_update: Optional[float] = q("s")
    neuron_update: Optional[float] = q("s")
    neuron_update_inactive: Optional[float] = q("s")
    spike_local: Optional[float] = q("s")
    hop_ew: Optional[float] = q("s")
    hop_ns: Optional[float] = q("s")
    spike_bandwidth_per_tile: Optional[float] = q("spikes/s")


@dataclass(frozen=True)
class EnergyModel:
    """One per-event energy model from one study: energies in joules, powers in watts.

    A chip may carry several (pre-silicon simulated, calibrated, measured all-in); the
    ``energy_model`` key of ``[chip]`` names the default.
    """

    description: str = text()
    synaptic_op: Optional[float] = q("J")
    """One synaptic event (dense connectivity where the model distinguishes)."""
    synaptic_op_sparse: Optional[float] = q("J")
    synaptic_op_conv: Optional[float] = q("J")
    synaptic_update: Optional[float] = q("J")
    """One plastic weight update."""
    neuron_update: Optional[float] = q("J")
    """One neuron update in a step (active neuron where the model distinguishes)."""
    neuron_update_inactive: Optional[float] = q("J")
    neuron_access: Optional[float] = q("J")
    """Reading a neuron's state before its update (SANA-FE splits this out)."""
    spike_local: Optional[float] = q("J")
    """A spike delivered within its tile."""
    spike_out: Optional[float] = q("J")
    message_out: Optional[float] = q("J")
    hop_ew: Optional[float] = q("J")
    hop_ns: Optional[float] = q("J")
    packet: Optional[float] = q("J")
    """One multicast spike packet through a router."""
    packet_payload: Optional[float] = q("J")
    """One packet carrying a 32-bit payload."""
    jj_switch: Optional[float] = q("J")
    """One Josephson-junction switching."""
    static_power: Optional[float] = q("W")
    """Static (idle or leakage) power of one chip."""
    core_active_power: Optional[float] = q("W")
    """Extra power of one core while it runs a program."""
    cooling_factor: Optional[float] = q("W/W")
    """Wall-plug watts per watt dissipated at the cold stage."""
    sync_time_min: Optional[float] = q("s")
    """Per-step synchronisation time this model assumes."""
    sync_time_max: Optional[float] = q("s")
    step_overhead_energy: Optional[float] = q("J")
    """Energy of one algorithmic step beyond the counted events, per chip in use: barrier
    synchronisation, the management (x86) cores and host I/O. Fitted to a workload, so it
    carries that workload's I/O pattern (the source says which)."""
    step_overhead_time: Optional[float] = q("s")
    """Length of one step beyond the slowest core's event work: barrier synchronisation,
    management and host I/O (fitted together with ``step_overhead_energy``)."""
    management_time: Optional[float] = q("s")
    """Per-step work of the management (x86) cores and the step handshake, whatever the
    deployment: the floor of an unthrottled step beyond the barrier (structured model)."""
    management_power: Optional[float] = q("W")
    """Power of one chip in use beyond static while it steps: management cores, clocks."""
    chip_sync_time: Optional[float] = q("s")
    """Barrier time added per doubling of the chips in use (a multi-chip barrier)."""
    io_time_streamed: Optional[float] = q("s")
    """Host I/O per step when input is streamed from the host and outputs read back."""
    io_energy_streamed: Optional[float] = q("J")
    """Energy of that host I/O per step (host interface, x86 shuffling of the data)."""
    energy_error: Optional[float] = q("1")
    """Error band of energy per inference: the largest leave-one-out ratio of the
    calibration (predicted/measured or its inverse), written by ``snnc.hw_models.calibrate``."""
    time_error: Optional[float] = q("1")
    """The same for the step time."""
    energy_error_streamed: Optional[float] = q("1")
    """The energy band of a streamed deployment (the host-I/O cases' leave-one-out)."""
    time_error_streamed: Optional[float] = q("1")
    calibrated_cores_min: Optional[int] = q("cores", int)
    """The calibration cases' range: a network outside it is flagged (cores in use)."""
    calibrated_cores_max: Optional[int] = q("cores", int)
    calibrated_steps_min: Optional[int] = q("steps", int)
    """Steps per inference of the calibration cases."""
    calibrated_steps_max: Optional[int] = q("steps", int)
    calibrated_rate_min: Optional[float] = q("1")
    """Spikes per neuron per step of the calibration cases (mean over the network)."""
    calibrated_rate_max: Optional[float] = q("1")
    events_from: str = text()
    """Name of another ``[energy.*]`` model of the same chip that supplies every figure this
    one leaves out: a calibrated overhead model on top of a per-event table."""


@dataclass(frozen=True)
class Measurement:
    """A workload-level reference point: what a calibration must reproduce."""

    description: str = text()
    chips: Optional[int] = q("chips", int)
    cores: Optional[int] = q("cores", int)
    steps_per_inference: Optional[int] = q("steps", int)
    inference_rate: Optional[float] = q("1/s")
    step_time: Optional[float] = q("s")
    idle_power: Optional[float] = q("W")
    static_power: Optional[float] = q("W")
    dynamic_power: Optional[float] = q("W")
    total_power: Optional[float] = q("W")
    energy_per_inference_dynamic: Optional[float] = q("J")
    energy_per_inference_total: Optional[float] = q("J")
    energy_per_spike: Optional[float] = q("J")
    efficiency: Optional[float] = q("op/J")
    """Operations per joule (1 TOPS/W = 1e12 op/J)."""
    latency: Optional[float] = q("s")


# The [section] tables of a chip file and the dataclass each fills.
SECTIONS = {"topology": Topology, "core": Core, "limits": Limits, "formats": Formats,
            "delays": Delays, "timing": Timing, "crossbar": Crossbar, "sfq": Sfq,
            "arm": Arm}
# Tables of named sub-tables: [energy.<model>], [measurements.<name>].
NAMED_SECTIONS = {"energy": EnergyModel, "measurements": Measurement}


@dataclass(frozen=True)
class Chip:
    """A chip description. Identity fields are plain text; the sections hold sourced numbers."""

    name: str
    description: str
    kind: str
    """The chip family (KIND_PATTERN), e.g. loihi: which backend runs it."""
    step_semantics: str
    """One of STEP_SEMANTICS: what one algorithmic timestep is."""
    energy_model: Optional[str]
    """Name of the default entry of ``energy``; None when no energy model is published."""
    topology: Topology
    core: Core
    limits: Limits
    formats: Formats
    delays: Delays
    timing: Timing
    crossbar: Crossbar
    sfq: Sfq
    arm: Arm
    energy: Mapping[str, EnergyModel]
    measurements: Mapping[str, Measurement]
    sources: Mapping[str, Sourced] = field(repr=False)
    """``"section.key"`` or ``"energy.<model>.key"`` -> where that number came from."""
    origin: str = field(default="", repr=False)
    """The file this chip was loaded from."""

    @property
    def default_energy(self) -> Optional[EnergyModel]:
        """The default energy model, or None when the chip has none."""
        return self.energy[self.energy_model] if self.energy_model else None

    def quantities(self) -> Iterator[tuple[str, object]]:
        """Every sourced quantity the file gave, as (dotted key, loaded value)."""
        for name in SECTIONS:
            yield from _given(name, getattr(self, name))
        for name in NAMED_SECTIONS:
            for entry, section in getattr(self, name).items():
                yield from _given(f"{name}.{entry}", section)


def _given(prefix: str, section) -> Iterator[tuple[str, object]]:
    for f in fields(section):
        if not f.metadata.get("plain") and getattr(section, f.name) is not None:
            yield f"{prefix}.{f.name}", getattr(section, f.name)


def frozen_mapping(d: dict) -> Mapping:
    """A read-only view, so a loaded Chip cannot be edited in place."""
    return MappingProxyType(dict(d))
