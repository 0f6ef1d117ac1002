"""What a target is: one object that the compiler, the passes and the CLI read.

A ``Family`` is what every chip of one kind shares (``chip.kind`` in its TOML): the node types its
toolchain runs as they are, its number formats, and how a graph is mapped onto its cores. The
``check`` and ``quantize`` passes use the family of whatever chip they are given.

A ``Target`` is a family on one chip model with an emulator: its name, its chip, a chip-neutral
default pipeline (passes that need a chip take the target's from the ``PassContext``), how to
simulate, and, where a real toolchain exists, how to emit for it. Targets live in
``snnc.backends`` (one package each) and are found through its registry.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from .ir import nodes as n
from .mapping import map_graph

if TYPE_CHECKING:
    from .ir import Graph
    from .options import SimOptions

# How a family runs a node type (the rules of a support table).
NATIVE = "runs as it is"
INDEX_MAP = "an index map: lowers to nothing"
READOUT = "a readout: a neuron that never fires, its state recorded"

# The shared defaults that families extend or override.
PLUMBING: Mapping[type, str] = {n.Input: NATIVE, n.Output: NATIVE, n.Affine: NATIVE,
                                n.Linear: NATIVE, n.Flatten: INDEX_MAP}
NEURONS: Mapping[type, str] = {n.IF: NATIVE, n.LIF: NATIVE, n.CubaLIF: NATIVE, n.I: READOUT,
                               n.LI: READOUT, n.CubaLI: READOUT}


@dataclass(frozen=True)
class Format:
    """A number format of the ``quantize`` pass.

    quantize(graph, setting) -> Quantized (see ``snnc.passes.quant_formats``);
    candidates: how many ranges ``quantize{calibrate=true}`` may try per matrix (1: none);
    default_chip: the chip whose widths ``quantize{format=NAME}`` reads when given no chip of
    this family."""

    name: str
    quantize: Callable[..., Any]
    candidates: int = 1
    default_chip: Optional[str] = None


@dataclass(frozen=True)
class Family:
    """What every chip of one kind shares.

    supported: {node type: how it runs}; anything else must be lowered first (or fails).
    formats: its number formats; the first is what ``quantize{format=chip}`` picks.
    sources_on_cores: whether Input nodes (spike sources) occupy cores of their own.
    mapping: the mapping stage, (graph, chip, chips=None, activity=None, family=, options=)
        -> ``Mapping`` (options: the run's ``SimOptions``, e.g. its dt):
        core slices (``snnc.mapping.map_graph``) unless the family brings its own; None: the
        family has no mapping (yet). A family's own mapping returns any artefact with
        ``fit`` (a JSON-able dict of need against limit per resource), ``summary()`` (one
        line) and ``write(directory) -> [file names]`` (its JSON files in a program).
    cost: how a run is priced, (chip, recording, mapping, *, model=None, deployment=None) ->
        a cost report (model: an ``[energy.NAME]`` table; deployment: how input reaches the
        chip, e.g. "streamed", "preloaded", "bias"; None: the chip's default) with
        ``total`` (J per inference), ``inference_time`` (s), ``terms``, ``to_dict()`` and
        ``lines()``; None: the core-slice cost model (``snnc.hw_models.cost.estimate``) on a
        ``map_graph`` mapping."""

    kind: str
    supported: Mapping[type, str]
    formats: tuple[Format, ...] = ()
    sources_on_cores: bool = False
    mapping: Optional[Callable[..., Any]] = map_graph
    cost: Optional[Callable[..., Any]] = None

    @property
    def node_types(self) -> tuple[str, ...]:
        return tuple(sorted(t.__name__ for t in self.supported))


@dataclass(frozen=True)
class Target:
    """A family on one chip model, with an emulator.

    simulate(graph, inputs, options, record=()) -> Recording;
    emit(graph, options, out_dir) -> [written file names], for a real toolchain;
    chip: a bundled chip model's name or a TOML path (None: no chip, as the reference);
    agreement: the stated tolerance, the least share of outputs that agree with the float
        reference run of the same compiled graph (``snnc.passes.fidelity.output_agreement``)
        on the graphs it supports; the conformance suite (tests/targets/) holds it to it.
    stochastic: whether a run draws from ``options.seed`` (stochastic synapses, device
        instances, noise), so that ``--trials K`` runs K seeds; a deterministic target runs
        one trial whatever K.
    device_keys: {key: what it sets} of the ``--device KEY=VALUE`` settings it takes
        (``snnc.options.device_settings`` reads them, the chip model gives the defaults).
    exact_device: for a stochastic target, the device settings under which it is
        deterministic and computes the float reference of the same compiled graph exactly
        (ideal devices, deterministic gates); the differential tests hold it to that."""

    name: str
    description: str
    family: Family
    simulate: Callable[..., Any]
    chip: Optional[str] = None
    pipeline: str = ""
    emit: Optional[Callable[..., list]] = None
    agreement: float = 1.0
    stochastic: bool = False
    device_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
    exact_device: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def chip_model(self) -> Any:
        """The loaded chip model (``snnc.hw_models.Chip``), or None."""
        if self.chip is None:
            return None
        from snnc.hw_models import load_chip

        return load_chip(self.chip)

    def context(self, options: "SimOptions", calibration: Mapping[str, Any] | None = None):
        """The ``PassContext`` for compiling for this target: its chip, the options, and the
        calibration arrays ("spikes", "labels") of data-driven passes."""
        from .passes import PassContext

        calibration = calibration or {}
        return PassContext(options, calibration.get("spikes"), calibration.get("labels"),
                           chip=self.chip_model(), target=self)

    def compile(self, graph: "Graph", options: "SimOptions", pipeline: str | None = None,
                calibration: Mapping[str, Any] | None = None, after_each=None):
        """``graph`` after ``pipeline`` (default: the target's), and the pass records; a graph
        forward Euler cannot integrate at this dt is refused (``check_stable``)."""
        from .options import check_stable
        from .passes import parse, run_pipeline

        check_stable(graph, options)
        spec = self.pipeline if pipeline is None else pipeline
        return run_pipeline(graph, parse(spec), self.context(options, calibration), after_each)
