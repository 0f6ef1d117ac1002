"""What ``snnc.hw_models.cost.estimate`` returns: energy (J) and time (s) per inference, with
the static, overhead and event terms apart, per layer and per core, each term labelled with
the evidence kind of its figures; ``to_dict`` for JSON, ``lines``/``format`` for a text table.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Term:
    """One energy term per inference: ``count`` events (steps for overhead, seconds x chips
    for static) at ``unit`` joules (watts for static) each."""

    name: str
    energy: float
    count: float
    unit: float
    evidence: str
    source: str


@dataclass(frozen=True)
class LayerCost:
    """A population (neuron updates, spikes out) or a connection (synaptic ops, messages),
    per inference."""

    name: str
    kind: str  # "population" or "connection"
    cores: int
    events: Mapping[str, float]
    energy: Mapping[str, float]


@dataclass(frozen=True)
class CoreCost:
    """One core's share of its population's work, per inference; ``busy`` is its event work
    time summed over the inference's steps."""

    core: int
    chip: int
    population: str
    neurons: int
    synaptic_ops: float
    neuron_updates: float
    spikes: float
    energy: float
    busy: float


@dataclass(frozen=True)
class CostReport:
    """Energy (J) and time (s) per inference, the terms apart, per layer and per core."""

    chip: str
    model: str
    steps_per_inference: int
    inferences: float
    chips: int
    cores: int
    step_time: float
    """Mean step length: overhead plus the slowest core's work."""
    step_overhead_time: float
    step_overhead_source: str
    """Evidence and key of the overhead time (a fitted overhead, else a bare barrier sync)."""
    step_work_time: float
    """Mean over steps of the slowest core's event work."""
    inference_time: float
    static: float
    overhead: float
    events: float
    terms: tuple[Term, ...]
    layers: tuple[LayerCost, ...]
    per_core: tuple[CoreCost, ...]
    unpriced: tuple[str, ...]
    active: float = 0.0
    """Running cores' power over the inference beyond idle (SpiNNaker's core_active_power)."""
    step_semantics: str = "barrier"
    """What a step is (schema.STEP_SEMANTICS): barrier steps last overhead + slowest core,
    timer steps a fixed timestep."""
    deployment: str = "preloaded"
    """How input reaches the chip (``cost_structure.DEPLOYMENTS``)."""
    step_parts: tuple = ()
    """The structured parts of the step overhead (``cost_structure.StepPart``), if any."""
    error_bands: Mapping[str, Mapping] = field(default_factory=dict)
    """{"energy"|"step_time": {"factor": f, "source": key}}: the leave-one-out error of the
    calibration; the truth is expected within [value / f, value * f]."""
    warnings: tuple[str, ...] = ()
    """Where the network lies far outside the calibrated range."""

    @property
    def dynamic(self) -> float:
        return self.overhead + self.active + self.events

    @property
    def total(self) -> float:
        return self.static + self.dynamic

    @property
    def inference_rate(self) -> float:
        return 1.0 / self.inference_time

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(dynamic=self.dynamic, total=self.total, inference_rate=self.inference_rate)
        out["error_bands"] = {k: dict(v) for k, v in self.error_bands.items()}
        out["warnings"] = list(self.warnings)
        return out

    def lines(self) -> list[str]:
        """A text table: the summary, the terms, then layers and cores."""
        if self.step_semantics == "timer":
            step = (f"  step {_us(self.step_time)} [{self.step_overhead_source}]; slowest core "
                    f"works {_us(self.step_work_time)} of it")
        else:
            step = (f"  step {_us(self.step_time)} = overhead {_us(self.step_overhead_time)} "
                    f"[{self.step_overhead_source}] + slowest core {_us(self.step_work_time)}")
        active = f"active cores {_uj(self.active)} + " if self.active else ""
        out = [f"{self.chip} / energy model '{self.model}': {self.chips} chip(s), {self.cores} "
               f"cores, {self.steps_per_inference} steps per inference, input "
               f"{self.deployment}",
               f"{step}; inference {_us(self.inference_time)} ({self.inference_rate:.1f}/s)"]
        out += [f"    {p.name:26} {_us(p.seconds):>10}  {p.evidence} ({p.source})"
                for p in self.step_parts]
        out.append(f"  energy per inference {_uj(self.total)} = static {_uj(self.static)} + "
                   f"overhead {_uj(self.overhead)} + {active}events {_uj(self.events)} "
                   f"(dynamic {_uj(self.dynamic)})")
        out += [f"  error band ({name}): x/ {band['factor']:.2f}, the leave-one-out spread "
                f"of the calibration ({band['source']})"
                for name, band in self.error_bands.items()]
        out += [f"  warning: {w}" for w in self.warnings]
        out.append(f"  {'term':16} {'per inference':>14} {'count':>12} {'each':>10}  evidence")
        for t in self.terms:
            out.append(f"  {t.name:16} {_uj(t.energy):>14} {t.count:12.4g} {t.unit:10.3g}  "
                       f"{t.evidence} ({t.source})")
        if self.unpriced:
            out.append(f"  unpriced (no figure in the model): {', '.join(self.unpriced)}")
        out.append(f"  {'layer':24} {'cores':>5} {'events per inference':40} {'energy':>12}")
        for lay in self.layers:
            events = ", ".join(f"{k} {v:.4g}" for k, v in lay.events.items())
            out.append(f"  {lay.name:24} {lay.cores:5d} {events:40} "
                       f"{_uj(sum(lay.energy.values())):>12}")
        out.append(f"  {'core':>5} {'chip':>4} {'population':20} {'neurons':>7} {'syn ops':>10} "
                   f"{'busy':>10} {'energy':>12}")
        for c in self.per_core:
            out.append(f"  {c.core:5d} {c.chip:4d} {c.population:20} {c.neurons:7d} "
                       f"{c.synaptic_ops:10.4g} {_us(c.busy):>10} {_uj(c.energy):>12}")
        return out

    def format(self) -> str:
        return "\n".join(self.lines())


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def _uj(joules: float) -> str:
    return f"{joules * 1e6:.2f} uJ"
