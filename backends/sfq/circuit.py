"""The SFQ circuit mapping: a graph quantized for SFQ as cells, junctions, area and timing
(``circuit.json``, the compile artefact of the SFQ family).

Per population: one neuron cell per neuron. Per layer (``lower.layers``: one matrix, one
sign): a splitter tree per source, JTL wiring, a gate per synapse, a merger tree per target
and delay (``cells``), a DRO shift register of d stages per tree with a delay of d steps, and,
when serialised, a DRO per synapse with its clock splitter (the chain that releases the
gates one after another). Timing, in ticks: a layer's path is its latest pulse reaching a
neuron; the timestep's critical path is the longest chain of zero-delay layers (a wave of
pulses through the network within one step), which sets the shortest timestep and, at the
chip clock, the clock cycles per step. Both serialised and unserialised figures are kept:
the settings of a run (``--device serialize=``) pick which the cost model uses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snnc.ir import nodes as n

from .cells import cells, layer_timing
from . import lower

FORMAT, VERSION = "snnc-sfq-circuit", 1


@dataclass(frozen=True)
class LayerCircuit:
    """One layer's cells and timing (ticks), and per source its fan-out and wiring JTLs."""

    name: str
    source: str
    target: str
    synapses: int
    max_pulses: int
    splitters: int
    jtls: int
    gates: int
    mergers: int
    tree_depth: float  # mean over synapses: mergers a pulse passes
    max_fan_in: int
    delay_dros: int
    zero_delay: bool
    deterministic_path: int  # ticks, unserialised, |n| pulses per synapse
    first_pulse_path: int  # ticks, unserialised, one pulse per synapse
    release_path: int  # ticks of the serialiser's fixed part (release and trees)
    fanout: np.ndarray = field(repr=False)
    wires: np.ndarray = field(repr=False)
    gate_bias: dict | None = None  # stochastic gates: bias currents that set their p

    def path(self, mode: "Mode", spacing: int) -> int:
        """Ticks from the layer's sources firing to its last pulse reaching a neuron. A
        stochastic gate sends k pulses per spike, a deterministic one |n|; serialised, the
        gates of a tree release one after another, one pulse per ``spacing`` (the pulse
        spacing, an estimate: see ``cells``)."""
        k = mode.pulses_per_spike
        free = self.first_pulse_path + (k - 1) * spacing if k else self.deterministic_path
        if not mode.serialize:
            return free
        longest = k or max(1, self.max_pulses)
        return max(free, self.release_path + self.max_fan_in * longest * spacing)

    def jjs(self, jj: dict, serialize: bool) -> int:
        base = (self.splitters * jj["splitter"] + self.jtls * jj["jtl"] + self.gates
                * jj["gate"] + self.mergers * jj["merger"] + self.delay_dros * jj["dro"])
        return base + (self.synapses * (jj["dro"] + jj["splitter"]) if serialize else 0)

    def to_dict(self, jj: dict, mode: "Mode", spacing: int) -> dict:
        plain = {k: getattr(self, k) for k in (
            "name", "source", "target", "synapses", "max_pulses", "splitters", "jtls", "gates",
            "mergers", "max_fan_in", "delay_dros", "zero_delay")}
        out = {**plain, "tree_depth": round(self.tree_depth, 3),
               "path": self.path(Mode(False, mode.pulses_per_spike), spacing),
               "serialized_path": self.path(Mode(True, mode.pulses_per_spike), spacing),
               "jjs": self.jjs(jj, False), "jjs_serialized": self.jjs(jj, True)}
        return out if self.gate_bias is None else {**out, "gate_bias": self.gate_bias}


@dataclass(frozen=True)
class Mode:
    """The settings that change the circuit's size and timing: serialised gates, and pulses
    per spike of stochastic gates (None: deterministic multi-fluxon weights)."""

    serialize: bool
    pulses_per_spike: int | None


@dataclass(frozen=True)
class Circuit:
    chip: str
    tick: float
    clock: float | None
    populations: dict  # name -> neurons
    layers: tuple
    jj: dict
    mode: Mode  # the chip model's default settings
    spacing: int  # ticks between pulses of one gate (and serialised releases)
    area_per_jj: float | None  # um^2
    limits: dict

    def jjs(self, mode: Mode | None = None) -> int:
        serialize = (mode or self.mode).serialize
        neurons = sum(self.populations.values()) * self.jj["neuron"]
        return neurons + sum(layer.jjs(self.jj, serialize) for layer in self.layers)

    def area_mm2(self, mode: Mode | None = None) -> float | None:
        if self.area_per_jj is None:
            return None
        return self.jjs(mode) * self.area_per_jj * 1e-6

    def critical_path(self, mode: Mode | None = None) -> int:
        """Ticks of the longest chain of zero-delay layers, neuron cells included."""
        mode = mode or self.mode
        reach = {name: 0 for name in self.populations}
        for _ in range(len(self.layers) + 1):  # relax: layers feed forward within a step
            for layer in self.layers:
                start = reach.get(layer.source, 0) if layer.zero_delay else 0
                own = layer.path(mode, self.spacing)
                reach[layer.target] = max(reach[layer.target], start + own)
        return max(reach.values(), default=0)

    def step_period(self, mode: Mode | None = None) -> float:
        """Seconds per timestep: the critical path rounded up to whole clock cycles."""
        path = self.critical_path(mode) * self.tick
        if not self.clock:
            return path
        return max(1, int(np.ceil(path * self.clock - 1e-9))) / self.clock

    @property
    def fit(self) -> dict:
        fan_in = max((layer.max_fan_in for layer in self.layers), default=0)
        fan_out = max((int(layer.fanout.max(initial=0)) for layer in self.layers), default=0)
        need = {"jjs": (self.jjs(), None, "JJs"),
                "area": (self.area_mm2(), self.limits.get("area"), "mm^2"),
                "fan_in": (fan_in, self.limits.get("fan_in"), "synapses per merger tree"),
                "fan_out": (fan_out, self.limits.get("fan_out"), "synapses per splitter tree"),
                # a timestep may take several clock cycles: no limit, the cycles are below
                "critical_path": (self.critical_path() * self.tick, None, "s")}
        out = {"chip": self.chip, "serialized": self.mode.serialize,
               "pulses_per_spike": self.mode.pulses_per_spike}
        for key, (value, limit, unit) in need.items():
            out[key] = {"need": value, "limit": limit, "unit": unit,
                        "ok": None if limit is None else bool(value <= limit)}
        out["fits"] = all(v["ok"] is not False for k, v in out.items() if isinstance(v, dict))
        out["clock_cycles_per_step"] = (int(round(self.step_period() * self.clock))
                                        if self.clock else None)
        return out

    def summary(self) -> str:
        area = self.area_mm2()
        return (f"{self.jjs():,} JJs ({'' if area is None else f'{area:.3g} mm^2, '}"
                f"{sum(self.populations.values())} neuron cells, "
                f"{sum(layer.synapses for layer in self.layers)} synapse gates) on "
                f"{self.chip}; critical path {self.critical_path() * self.tick * 1e12:.1f} ps"
                f" {'serialised' if self.mode.serialize else 'unserialised'} (unserialised "
                f"{self.critical_path(self._unserialized()) * self.tick * 1e12:.1f} ps) at "
                "the chip's default settings (a run's report prices its own)")

    def _serialized(self) -> Mode:
        return Mode(True, self.mode.pulses_per_spike)

    def _unserialized(self) -> Mode:
        return Mode(False, self.mode.pulses_per_spike)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "chip": self.chip, "tick_s": self.tick,
                "clock_hz": self.clock, "cell_jjs": self.jj, "fit": self.fit,
                "pulses_per_spike": self.mode.pulses_per_spike,
                "jjs": {"serialized": self.jjs(self._serialized()),
                        "unserialized": self.jjs(self._unserialized())},
                "critical_path_ticks": {
                    "serialized": self.critical_path(self._serialized()),
                    "unserialized": self.critical_path(self._unserialized())},
                "populations": self.populations,
                "layers": [layer.to_dict(self.jj, self.mode, self.spacing)
                           for layer in self.layers]}

    def write(self, directory: str | Path) -> list[str]:
        path = Path(directory) / "circuit.json"
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=1, default=_plain))
        temporary.replace(path)
        return [path.name]


def map_circuit(graph, chip, chips=None, activity=None, family=None, options=None) -> Circuit:
    """The circuit of a graph quantized for SFQ on ``chip`` (``chips`` and ``activity`` are
    not used: one die, and the cost model reads the run's settings from its counters and
    prices the circuit in those: ``Circuit.mode`` is only the chip's default)."""
    graph = lower.flat(graph)
    lower.check(graph, chip.name)
    lib = cells(chip)
    default = lower.chip_defaults(chip.sfq)
    k = default["pulses_per_spike"] if default["gates"] == "stochastic" else None
    found = tuple(_layer(layer, lib, k, chip.sfq) for layer in lower.layers(graph))
    pops = {name: int(np.prod(node.shape)) for name, node in graph.nodes.items()
            if isinstance(node, n.Neuron)}
    return Circuit(chip.name, lib.tick, chip.timing.clock, pops, found, lib.jjs,
                   Mode(default["serialize"], k), lib.spacing, chip.sfq.area_per_jj,
                   {"fan_in": chip.limits.fan_in, "fan_out": chip.limits.fan_out,
                    "area": chip.sfq.die_area})


def _layer(layer: lower.Layer, lib, pulses_per_spike: int | None, sfq) -> LayerCircuit:
    delays = np.unique(layer.delays[layer.pulses > 0])
    slot_of = np.searchsorted(delays, layer.delays)
    t = layer_timing(layer.pulses, slot_of, lib)
    counts = layer.pulses[t.target, t.source]
    tree_ticks = t.tree_depth * lib.delay["merger"] + lib.delay["neuron"]
    first = t.arrival + tree_ticks
    trees, sizes = np.unique(t.target * len(delays) + t.slot, return_counts=True)
    fanout = np.count_nonzero(layer.pulses, axis=0)
    wires = np.bincount(t.source, t.wires, layer.pulses.shape[1])
    tree_delay = delays[trees % len(delays)] if len(trees) else np.zeros(0, np.int64)
    return LayerCircuit(
        name=layer.name, source=layer.source, target=layer.target, synapses=len(counts),
        max_pulses=int(counts.max(initial=0)),
        splitters=int(np.maximum(fanout - 1, 0).sum()), jtls=int(t.wires.sum()),
        gates=len(counts), mergers=int(np.maximum(sizes - 1, 0).sum()),
        tree_depth=float(t.tree_depth.mean()) if len(counts) else 0.0,
        max_fan_in=int(sizes.max(initial=0)), delay_dros=int(tree_delay.sum()),
        zero_delay=bool(delays.size and delays.min() == 0),
        deterministic_path=int((first + (counts - 1) * lib.spacing).max(initial=0)),
        first_pulse_path=int(first.max(initial=0)),
        release_path=int(t.arrival.max(initial=0)) + lib.delay["dro"]
        + int(tree_ticks.max(initial=0)),
        fanout=fanout, wires=wires,
        gate_bias=_gate_bias(counts, pulses_per_spike, sfq) if pulses_per_spike else None)


def _gate_bias(counts: np.ndarray, k: int, sfq) -> dict | None:
    """The bias currents that give the stochastic gates their pass probabilities
    p = |n| / (k * worth): I_b = I_0 + s * logit(p) (the sigmoid of sfq_rram.md 1, with the
    chip model's estimated I_0 and s); p = 1 gates are biased well above I_0 (saturated)."""
    if sfq.gate_bias_center is None or sfq.gate_bias_width is None or not len(counts):
        return None
    p = counts / float(k * -(-int(counts.max()) // k))
    inner = p[p < 1]
    bias = sfq.gate_bias_center + sfq.gate_bias_width * np.log(inner / (1 - inner))
    return {"probabilities": sorted({round(float(v), 4) for v in p})[:32],
            "bias_ua_min": round(float(bias.min()) * 1e6, 3) if len(bias) else None,
            "bias_ua_max": round(float(bias.max()) * 1e6, 3) if len(bias) else None,
            "saturated": int(np.count_nonzero(p >= 1))}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")
