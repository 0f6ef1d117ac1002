"""check: verify a graph against a chip model before anything is mapped onto it.

``check{chip=loihi1}`` passes the graph through unchanged and reports, per check in ``CHECKS``,
what it uses of the chip; a graph that cannot run there raises one error naming the node, the
resource, the need and the limit (``strict=false`` lists every violation instead). The chip is the
``chip`` option (bundled name or TOML path), else the target's (``PassContext.chip``). The node
types a chip runs and its number formats are its family's (``snnc.target.Family``, found by the
chip's kind in the target registry).

Limits come from the chip model only; one it leaves out (None, not published) is reported as
skipped, never read as zero. Where the true need depends on partitioning, a later stage, checks
use a lower bound, so an error here means no partition fits:
- fan-in/out per neuron: non-zero synapses from (to) every edge, summed. Each distinct source
  of a neuron takes an input axon of its core, so without a per-neuron ``limits.fan_in`` it is
  compared with ``core.input_axons``; ``core.output_axons`` counts core-to-core edges, so fan-out
  is compared as the fewest destination cores, ceil(fan-out / neurons_per_core).
- cores: per population the larger of ceil(neurons / neurons_per_core) and ceil(synapse bits /
  ``core.synapse_memory``, else all of ``core.memory``), synapses stored with their target, weight (+ delay) bits each, packed
  without index overhead; convolutions count each use of a kernel weight (``synapse_count``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from snnc.errors import OptionError, ResourceExceededError, SnncError, UnsupportedNodeError
from snnc.hw_models import Chip, list_chips, load_chip
from snnc.target import Family
from snnc.ir import Graph, flatten
from snnc.ir import nodes as n

from .manager import Pass, PassContext, PassResult, chip_for

MATRIX = n.MATRICES
# Unsupported types that a pass turns into supported ones: the error says which.
PREPARE = {
    "Delay": "run map-delays first to fold it into per-synapse delays",
    "Scale": "run normalize first to fold it into a neighbouring matrix",
    **{t: "run lower first to turn it into a synapse matrix"
       for t in ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d")},
}
# hw annotation (written by quantize) -> the chip.formats width it must fit in.
WIDTHS = {"weight_bits": "weight_bits", "num_weight_bits": "weight_bits",
          "state_bits": "state_bits", "threshold_bits": "threshold_bits",
          "decay_bits": "decay_bits", "bias_mant_bits": "bias_mant_bits",
          "bias_exp_bits": "bias_exp_bits"}
# Integer values (written by quantize) and the format width that bounds them: (bits, signed).
VALUES = {"dv": ("decay_bits", False), "du": ("decay_bits", False),
          "vth": ("threshold_bits", False), "bias_mant": ("bias_mant_bits", True)}
# Neuron parameters a chip may share per population: (field, formats scope key, what it is).
SHARED = (("v_threshold", "threshold_scope", "threshold"), ("tau", "decay_scope", "decay"),
          ("tau_mem", "decay_scope", "decay"), ("tau_syn", "decay_scope", "decay"))


@dataclass(frozen=True)
class Check(Pass):
    """Pass the graph through with a resource report, or raise its first violation."""

    name: ClassVar[str] = "check"
    chip: str = ""  # chip model name or TOML path; "" = the target's chip
    strict: bool = True  # False: report violations instead of raising the first
    require_quantized: bool = False  # unquantized weights are a violation, not a note
    chips: int = 0  # chips available; 0 = the chip model's topology.max_chips

    def __post_init__(self) -> None:
        if self.chips < 0:
            raise OptionError(f"chips must be >= 0, got {self.chips}")
        if self.chip:  # fail at parse time, with the list of known chips
            load_chip(self.chip)

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        chip = chip_for(self.chip, ctx)
        if chip is None:
            raise OptionError("check needs a chip model: check{chip=NAME} or a hardware target "
                              f"(known: {', '.join(list_chips())})")
        subject = Subject(graph if graph.is_flat else flatten(graph), chip, ctx.options.dt,
                          self.chips or chip.topology.max_chips, self.require_quantized)
        report: dict[str, Any] = {"chip": chip.name, "checks": {}}
        violations: list[tuple[str, SnncError]] = []
        for name, check in CHECKS:
            summary, errors = check(subject)
            report[name] = summary
            report["checks"][name] = (summary.pop("skipped") if "skipped" in summary
                                      else _count(len(errors)))
            violations += [(name, error) for error in errors]
        if violations and self.strict:
            raise _first(violations)
        report["violations"] = [{"check": c, "message": str(e)} for c, e in violations]
        return PassResult(graph, report)


def _count(violations: int) -> str:
    return "ok" if not violations else f"{violations} violation{'s' * (violations > 1)}"


def _first(violations: list[tuple[str, SnncError]]) -> SnncError:
    error = violations[0][1]
    if len(violations) > 1:  # still one line: the rest are one option away
        error.args = (f"{error} (and {len(violations) - 1} more: check{{strict=false}} "
                      "lists them)",)
    return error


@dataclass(frozen=True)
class Subject:
    """What the checks look at: a flat graph, the chip, the step, and the chips available."""

    graph: Graph
    chip: Chip
    dt: float
    chips: int | None
    require_quantized: bool

    @property
    def family(self) -> Family:
        """What chips of this kind run (``snnc.target.Family``), from the target registry."""
        from snnc.backends import get_family

        return get_family(self.chip.kind)

    @property
    def foreign_formats(self) -> set[str]:
        """Number formats of other chip families: a node quantized in one needs quantizing
        again for this chip."""
        from snnc.backends import formats

        return set(formats()) - {f.name for f in self.family.formats}

    def label(self, name: str) -> str:
        return f"node '{name}' ({self.graph.nodes[name].type_name})"

    def size(self, name: str) -> int:
        return math.prod(self.graph.shapes[name])

    def populations(self, sources: bool = False) -> list[str]:
        """Neuron populations, and with ``sources`` the Input nodes too, in execution order."""
        kinds = (n.Neuron, n.Input) if sources else n.Neuron
        return [k for k in self.graph.order if isinstance(self.graph.nodes[k], kinds)]


# What a check returns: its summary for the report (with "skipped" saying why when the chip
# publishes no limit to check against) and its violations, each a one-line error.
Outcome = tuple[dict, list[SnncError]]


# -- node types -----------------------------------------------------------------------------


def check_node_types(s: Subject) -> Outcome:
    supported = s.family.node_types
    errors = []
    for name, node in s.graph.nodes.items():
        if node.type_name not in supported:
            error = UnsupportedNodeError(name, node.type_name, s.chip.name, sorted(supported))
            if node.type_name in PREPARE:
                error.args = (f"{error}; {PREPARE[node.type_name]}",)
            errors.append(error)
    return {"used": sorted({v.type_name for v in s.graph.nodes.values()})}, errors


# -- fan-in and fan-out ---------------------------------------------------------------------


def _fit(values: np.ndarray, size: int) -> np.ndarray:
    # A pool changes the element count: take its worst element for all (unsupported anyway).
    return values if values.size == size else np.full(size, values.max(initial=0))


def synapses_behind(g: Graph, name: str, seen: tuple = ()) -> np.ndarray:
    """Synapses that each output element of ``name`` sums: what a neuron it feeds receives.
    A neuron or Input feeding a neuron directly is one synapse; plumbing passes counts through."""
    node, size = g.nodes[name], math.prod(g.shapes[name])
    if isinstance(node, MATRIX):
        return np.count_nonzero(node.weight, axis=1)
    if isinstance(node, n._Conv):  # interior outputs see every non-zero kernel weight
        per_channel = np.count_nonzero(node.weight.reshape(len(node.weight), -1), axis=1)
        return np.repeat(per_channel, size // len(per_channel))
    if isinstance(node, (n.Neuron, n.Input)) or name in seen:
        return np.ones(size, dtype=np.int64)
    total = np.zeros(size, dtype=np.int64)
    for pred in g.predecessors(name):
        total += _fit(synapses_behind(g, pred, seen + (name,)), size)
    return total


def synapses_ahead(g: Graph, name: str, size: int, seen: tuple = ()) -> np.ndarray:
    """Synapses that each of ``size`` input elements of node ``name`` drives."""
    node = g.nodes[name]
    if isinstance(node, MATRIX):
        return _fit(np.count_nonzero(node.weight, axis=0), size)
    if isinstance(node, n._Conv):  # every kernel tap, an upper bound for strided convolutions
        c_out, per_group = node.weight.shape[:2]
        taps = np.count_nonzero(node.weight.reshape(c_out, per_group, -1), axis=2)
        per_in = taps.reshape(node.groups, -1, per_group).sum(axis=1).ravel()
        return _fit(np.repeat(per_in, size // len(per_in)), size)
    if isinstance(node, n.Output):  # recording is not a synapse
        return np.zeros(size, dtype=np.int64)
    if isinstance(node, n.Neuron) or name in seen:
        return np.ones(size, dtype=np.int64)
    total = np.zeros(size, dtype=np.int64)
    for succ in g.successors(name):
        total += _fit(synapses_ahead(g, succ, math.prod(g.shapes[name]), seen + (name,)), size)
    return total


def fan(s: Subject, name: str, direction: str) -> np.ndarray:
    """Synapses into (``in``) or out of (``out``) each neuron of ``name``, all edges summed."""
    total = np.zeros(s.size(name), dtype=np.int64)
    if direction == "in":
        for pred in s.graph.predecessors(name):
            total += _fit(synapses_behind(s.graph, pred), total.size)
    else:
        for succ in s.graph.successors(name):
            total += synapses_ahead(s.graph, succ, total.size)
    return total


def _check_fan(s: Subject, direction: str, populations: list[str]) -> Outcome:
    found = {k: int(fan(s, k, direction).max(initial=0)) for k in populations}
    worst = max(found, key=found.get, default=None)
    summary = {"max": found.get(worst, 0), "node": worst}
    rule = _fan_rule(s.chip, direction)
    if rule is None:
        return {**summary, "skipped": f"skipped: {s.chip.name} publishes no fan-{direction} "
                                      "limit"}, []
    limit, resource, need, unit = rule
    errors = []
    for name, value in found.items():
        if need(value) > limit:
            via = s.graph.predecessors(name) if direction == "in" else s.graph.successors(name)
            needs = f" (at least {need(value)} {unit})" if need(value) != value else ""
            errors.append(ResourceExceededError(
                f"{s.label(name)}: fan-{direction} {value} synapses per neuron{needs} via "
                f"{', '.join(via)} exceeds {s.chip.name}'s {limit} {resource}"))
    return {**summary, "need": need(summary["max"]), "limit": limit, "limit_of": resource}, errors


def _fan_rule(chip, direction: str):
    """(limit, resource, need from synapses per neuron, unit of need), or None if unpublished.
    A per-neuron limit counts synapses. Otherwise the core's axons bound it: each distinct source
    of a neuron takes an input axon of its core, and each destination core an output axon, at
    best ceil(fan-out / neurons per core) of them."""
    per_neuron = getattr(chip.limits, f"fan_{direction}")
    if per_neuron is not None:
        return per_neuron, f"fan-{direction} synapses per neuron", int, "synapses"
    npc = chip.core.neurons_per_core
    if direction == "in" and chip.core.input_axons is not None:
        return chip.core.input_axons, "input axons per core", int, "input axons"
    if direction == "out" and chip.core.output_axons is not None and npc:
        return (chip.core.output_axons, "output axons per core", lambda v: -(-v // npc),
                "destination cores")
    return None


def check_fan_in(s: Subject) -> Outcome:
    return _check_fan(s, "in", s.populations())


def check_fan_out(s: Subject) -> Outcome:
    return _check_fan(s, "out", s.populations(sources=True))


# -- cores ----------------------------------------------------------------------------------


def synapse_bits(s: Subject, name: str) -> int:
    """Least synapse memory that population ``name``'s incoming synapses take, in bits."""
    bits = 0
    for pred in s.graph.predecessors(name):
        node = s.graph.nodes[pred]
        width = _weight_width(node, s.chip) or 0
        if getattr(node, "delay", None) is not None and np.any(node.delay):
            width += s.chip.delays.delay_bits or 0
        bits += int(synapses_behind(s.graph, pred).sum()) * width
    return bits


def _weight_width(node: n.Node, chip) -> int | None:
    declared = node.hw.get("num_weight_bits", node.hw.get("weight_bits"))
    return int(declared) if declared is not None else chip.formats.weight_bits


def check_cores(s: Subject) -> Outcome:
    core, topology = s.chip.core, s.chip.topology
    if core.neurons_per_core is None:
        return {"skipped": f"skipped: {s.chip.name} publishes no neurons per core"}, []
    # Without a synapse share, all core memory bounds the synapses (as snnc.mapping.partition)
    memory = core.synapse_memory or core.memory
    per_node = {}
    for name in s.populations(sources=s.family.sources_on_cores):
        by_memory = -(-synapse_bits(s, name) // memory) if memory else None
        per_node[name] = {"by_neurons": -(-s.size(name) // core.neurons_per_core),
                          "by_synapse_memory": by_memory}
    need = {k: max(v or 0 for v in cores.values()) for k, cores in per_node.items()}
    per_chip = topology.app_cores_per_chip or topology.cores_per_chip
    available = per_chip * s.chips if per_chip and s.chips else None
    summary = {"needed": sum(need.values()),
               "by_neurons": sum(v["by_neurons"] for v in per_node.values()),
               "by_synapse_memory": (sum(v["by_synapse_memory"] for v in per_node.values())
                                     if memory else "not published"),
               "available": available, "chips_needed": (-(-sum(need.values()) // per_chip)
                                                        if per_chip else None),
               "per_node": per_node}
    if available is None or summary["needed"] <= available:
        return summary, []
    big = max(need, key=need.get)
    return summary, [ResourceExceededError(
        f"graph needs {summary['needed']} cores but {s.chip.name} offers {available} "
        f"({per_chip} cores per chip x {s.chips} chips); largest: {s.label(big)} needs "
        f"{need[big]} cores for {s.size(big)} neurons at {core.neurons_per_core} per core"
        + (f" and {synapse_bits(s, big)} synapse bits at {memory} per core"
           if memory else ""))]


# -- delays ---------------------------------------------------------------------------------


def check_delays(s: Subject) -> Outcome:
    delays = s.chip.delays
    steps = {k: v.delay / s.dt for k, v in s.graph.nodes.items()
             if isinstance(v, MATRIX) and v.delay is not None}
    longest = {k: int(np.rint(v).max(initial=0)) for k, v in steps.items()}
    summary = {"max_steps": max(longest.values(), default=0), "limit": delays.max_steps}
    if steps and delays.max_steps is None:
        return {**summary, "skipped": f"skipped: {s.chip.name} publishes no delay range"}, []
    # Only the upper end binds: an IR delay of 0 (same step) becomes the toolchain's shortest,
    # a latency every synapse shares (Lava: 0 + 1 added step; sPyNNaker: 1). As map-delays,
    # IR steps are compared with max_steps directly.
    errors = []
    for name, exact in steps.items():
        if np.any(np.abs(exact - np.rint(exact)) > 1e-6):
            errors.append(ResourceExceededError(
                f"{s.label(name)}: synaptic delays are not whole steps of dt {s.dt:g} s but "
                f"{s.chip.name} delays by whole steps; run map-delays to round them"))
        if longest[name] > delays.max_steps:
            errors.append(ResourceExceededError(
                f"{s.label(name)}: synaptic delay {longest[name]} steps (dt {s.dt:g} s) exceeds "
                f"{s.chip.name}'s {delays.max_steps} steps (delays.max_steps); run "
                f"map-delays{{max_delay={delays.max_steps}}} to relay longer delays"))
    full = delays.max_steps_at_full_core
    if full is not None and summary["max_steps"] > full:  # a fact for partitioning, not an error
        summary["note"] = (f"delays over {full} steps need cores below "
                           f"{s.chip.core.neurons_per_core} neurons")
    return summary, errors


# -- number formats -------------------------------------------------------------------------


def check_formats(s: Subject) -> Outcome:
    f = s.chip.formats
    weighted = [k for k, v in s.graph.nodes.items() if isinstance(v, (*MATRIX, n._Conv))]
    unquantized = [k for k in weighted if not s.graph.nodes[k].hw]
    quantized = any(v.hw for v in s.graph.nodes.values())
    summary = {"quantized": quantized if not (quantized and unquantized) else "partly",
               "unquantized": unquantized}
    errors = []
    for name, node in s.graph.nodes.items():
        errors += _format_errors(s, name, node, f)
    if s.require_quantized and unquantized:
        errors.append(ResourceExceededError(
            f"{s.label(unquantized[0])}: float weights, but require_quantized is set and "
            f"{s.chip.name} stores {f.weight_bits}-bit integer weights; run quantize first"))
    elif not quantized:
        summary["note"] = "not quantized: widths not checked"
    return summary, errors


def _format_errors(s: Subject, name: str, node: n.Node, f) -> list[SnncError]:
    errors = []
    named = node.hw.get("format")
    if named in s.foreign_formats:
        errors.append(ResourceExceededError(
            f"{s.label(name)}: quantized for '{named}' but {s.chip.name} is a {s.chip.kind} "
            "chip; quantize again for it"))
    mixed = isinstance(node, (*MATRIX, n._Conv)) and node.weight.min() < 0 < node.weight.max()
    for key, field_name in WIDTHS.items():
        if key not in node.hw:
            continue
        limit, source = getattr(f, field_name), field_name
        if field_name == "weight_bits" and mixed and f.weight_bits_mixed is not None:
            limit, source = f.weight_bits_mixed, "weight_bits_mixed"
        if limit is not None and int(node.hw[key]) > limit:
            errors.append(ResourceExceededError(
                f"{s.label(name)}: {key} {node.hw[key]} exceeds {s.chip.name}'s {limit} "
                f"(formats.{source})"))
    for key, (field_name, signed) in VALUES.items():
        bits = getattr(f, field_name)
        if key not in node.hw or bits is None:
            continue
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
        values = np.asarray(node.hw[key])
        if values.min() < low or values.max() > high:
            errors.append(ResourceExceededError(
                f"{s.label(name)}: {key} {values.min()}..{values.max()} is outside "
                f"{s.chip.name}'s {low}..{high} ({bits}-bit formats.{field_name})"))
    exp = node.hw.get("weight_exp")
    low, high = f.weight_exp_min, f.weight_exp_max
    if exp is not None and ((low is not None and exp < low) or (high is not None and exp > high)):
        errors.append(ResourceExceededError(
            f"{s.label(name)}: weight_exp {exp} is outside {s.chip.name}'s {low}..{high}"))
    return errors


# -- parameters shared by a population ------------------------------------------------------


def check_shared_parameters(s: Subject) -> Outcome:
    scopes = {"threshold_scope": s.chip.formats.threshold_scope,
              "decay_scope": s.chip.formats.decay_scope}
    errors = []
    for name in s.populations():
        node = s.graph.nodes[name]
        for field_name, scope, what in SHARED:
            values = getattr(node, field_name, None)
            if values is None or scopes[scope] != "population":
                continue
            distinct = np.unique(values).size
            if distinct > 1:
                label = "thresholds" if what == "threshold" else f"time constants {field_name}"
                errors.append(ResourceExceededError(
                    f"{s.label(name)}: {label} vary per neuron ({distinct} distinct values) but "
                    f"{s.chip.name} has one {what} per population "
                    f"(formats.{scope} = population)"))
    return {k: v or "not published" for k, v in scopes.items()}, errors


# The checks in the order they run; a strict check raises the first violation found.
CHECKS: tuple[tuple[str, Callable[[Subject], Outcome]], ...] = (
    ("node_types", check_node_types),
    ("delays", check_delays),
    ("fan_in", check_fan_in),
    ("fan_out", check_fan_out),
    ("cores", check_cores),
    ("formats", check_formats),
    ("shared_parameters", check_shared_parameters),
)
