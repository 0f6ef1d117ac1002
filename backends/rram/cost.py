"""The RRAM cost model (``Family.cost``): energy, time and area per inference of a run on
crossbars, from the run's counters and activity and the tiling's arrays.

Energy terms (per inference = per batch row), each with the evidence of its figure:
  cell reads       sum over pulsed rows of V_read^2 x t_pulse x (the row's G+ + G-): the run's
                   drawn conductances where the mapping was made with its options (the
                   report's), else the nominal ones; the term's source says which
  row drivers      rows pulsed (per array) x crossbar.row_drive_energy
  ADC conversions  column pairs converted x crossbar.adc_energy
  accumulate       converted column pairs added into their neurons x crossbar.accumulate_energy
  integrate        (neuron as ADC) column pairs integrated x crossbar.integrate_energy
  neuron updates   neuron updates x the energy model's neuron_update
  static           the energy model's static_power x inference time, where given
Time: a step reads every layer in turn (no pipelining across layers); a layer's arrays are
read in parallel, each one read pulse then its column pairs through its ADCs, ceil(pairs /
ADCs) conversions in series (crossbar.columns / columns_per_adc ADCs per array); then the
neurons update (timing.neuron_update). Area: arrays x (rows x columns x area_per_cell + ADCs x
adc_area). Figures the chip model lacks are listed as unpriced, never taken as zero.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from snnc.errors import OptionError
from snnc.hw_models.cost_report import Term


@dataclass(frozen=True)
class RramCost:
    """Energy (J), time (s) and area (m^2) per inference on RRAM crossbars."""

    chip: str
    model: str
    steps_per_inference: int
    inferences: int
    arrays: int
    step_time: float
    inference_time: float
    area: float
    terms: tuple[Term, ...]
    unpriced: tuple[str, ...]
    step_semantics: str = "read"

    @property
    def total(self) -> float:
        return float(sum(t.energy for t in self.terms))

    @property
    def inference_rate(self) -> float:
        return 1.0 / self.inference_time if self.inference_time > 0 else math.inf

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(total=self.total, dynamic=self.total - self._static(),
                   static=self._static(), inference_rate=self.inference_rate)
        return out

    def _static(self) -> float:
        return sum(t.energy for t in self.terms if t.name == "static")

    def lines(self) -> list[str]:
        out = [f"{self.chip} / energy model '{self.model}': {self.arrays} crossbar arrays, "
               f"{self.steps_per_inference} steps per inference, area {self.area * 1e6:.4f} mm^2",
               f"  step {self.step_time * 1e9:.1f} ns (crossbar reads + neuron update); "
               f"inference {self.inference_time * 1e6:.3f} us",
               f"  energy per inference {self.total * 1e9:.4f} nJ",
               f"  {'term':16} {'per inference':>14} {'count':>12} {'each':>10}  evidence"]
        for t in self.terms:
            out.append(f"  {t.name:16} {t.energy * 1e9:11.4f} nJ {t.count:12.4g} "
                       f"{t.unit:10.3g}  {t.evidence} ({t.source})")
        if self.unpriced:
            out.append(f"  unpriced (no figure in the model): {', '.join(self.unpriced)}")
        return out

    def format(self) -> str:
        return "\n".join(self.lines())


def rram_cost(chip, recording, mapping, *, model=None, deployment=None) -> RramCost:
    """Price one run (``recording``: counters and activity over its batch) on ``mapping``
    (a ``tiling.Tiling``). ``deployment`` is not modelled (inputs are read pulses)."""
    energy = _energy_model(chip, model)
    counters, batch = recording.counters, max(1, recording.batch)
    totals = {k: sum(float(np.sum(v)) for v in per.values())
              for k, per in counters.counts.items()}
    bar, terms, unpriced = chip.crossbar, [], []

    def add(name: str, count: float, unit, key: str) -> None:
        if unit is None:
            if count:
                unpriced.append(f"{name} ({key})")
            return
        source = chip.sources.get(key)
        terms.append(Term(name, count * unit / batch, count / batch, unit,
                          source.evidence if source else "estimated", key))

    cell_energy = _cell_read_energy(chip, mapping, recording.activity)
    cells = totals.get("cell_reads", 0.0)
    if cell_energy is None:
        add("cell reads", cells, None, "crossbar.read_voltage / read_pulse")
    else:
        terms.append(Term("cell reads", cell_energy / batch, cells / batch,
                          cell_energy / cells if cells else 0.0,
                          _evidence(chip, "crossbar.read_voltage", "crossbar.read_pulse",
                                    "crossbar.g_on", "crossbar.g_off"),
                          "V_read^2 x t_pulse x G of each device on a pulsed row, G "
                          + _conductances(mapping)))
    add("row drivers", totals.get("row_activations", 0.0), bar.row_drive_energy,
        "crossbar.row_drive_energy")
    add("ADC conversions", totals.get("adc_conversions", 0.0), bar.adc_energy,
        "crossbar.adc_energy")
    add("accumulate", totals.get("adc_conversions", 0.0), bar.accumulate_energy,
        "crossbar.accumulate_energy")
    add("integrate", totals.get("column_integrations", 0.0), bar.integrate_energy,
        "crossbar.integrate_energy")
    add("neuron updates", totals.get("neuron_updates", 0.0),
        energy.neuron_update if energy else None,
        f"energy.{model or chip.energy_model}.neuron_update")
    steps = len(next(iter(counters.neuron_updates.values()), np.zeros(recording.steps)))
    uses_adc = totals.get("adc_conversions", 0.0) > 0
    step_time = _step_time(chip, mapping, uses_adc, unpriced)
    inference_time = steps * step_time
    if energy is not None and energy.static_power:
        terms.append(Term("static", energy.static_power * inference_time, inference_time,
                          energy.static_power, _evidence(chip, f"energy.{chip.energy_model}"
                                                         ".static_power"), "static_power"))
    return RramCost(chip.name, model or chip.energy_model or "", steps, batch,
                    mapping.fit["tiles"]["need"], step_time, inference_time,
                    _area(chip, mapping, unpriced), tuple(terms), tuple(unpriced))


def _energy_model(chip, model):
    if model is None:
        return chip.default_energy
    if model not in chip.energy:
        raise OptionError(f"chip '{chip.name}' has no energy model '{model}' (have: "
                          f"{', '.join(chip.energy) or 'none'})")
    return chip.energy[model]


def _evidence(chip, *keys: str) -> str:
    """The weakest evidence among the figures a term multiplies."""
    order = ("measured", "calibrated", "datasheet", "simulated", "estimated")
    kinds = [chip.sources[k].evidence for k in keys if k in chip.sources]
    return max(kinds, key=order.index) if kinds else "estimated"


def _cell_read_energy(chip, mapping, activity) -> float | None:
    """sum over layers and rows: spikes on the row x its devices' G x V^2 x t_pulse."""
    bar = chip.crossbar
    if bar.read_voltage is None or bar.read_pulse is None:
        return None
    total = 0.0
    for layer in mapping.layers:
        spikes = np.asarray(activity.get(layer.source, ()), np.float64).reshape(-1)
        if spikes.size:
            total += float(spikes[list(layer.rows)] @ np.asarray(layer.row_siemens))
    return total * bar.read_voltage ** 2 * bar.read_pulse


def _conductances(mapping) -> str:
    kinds = sorted({getattr(layer, "conductances", "nominal") for layer in mapping.layers})
    return " / ".join(kinds) or "nominal"


def _step_time(chip, mapping, uses_adc: bool, unpriced: list) -> float:
    bar, pulse = chip.crossbar, chip.crossbar.read_pulse or 0.0
    adcs = max(1, (bar.columns or 1) // max(1, bar.columns_per_adc or 1))
    pairs = (bar.columns or 2) // 2
    time = 0.0
    for layer in mapping.layers:
        widest = min(pairs, len(layer.columns))
        series = math.ceil(widest / adcs) if uses_adc else 0
        if series and bar.adc_time is None:
            unpriced.append("ADC time (crossbar.adc_time)")
        time += pulse + series * (bar.adc_time or 0.0)
    if chip.timing.neuron_update is None:
        unpriced.append("neuron update time (timing.neuron_update)")
    return time + (chip.timing.neuron_update or 0.0)


def _area(chip, mapping, unpriced: list) -> float:
    bar, arrays = chip.crossbar, mapping.fit["tiles"]["need"]
    if bar.area_per_cell is None or bar.adc_area is None:
        unpriced.append("area (crossbar.area_per_cell, adc_area)")
        return 0.0
    adcs = max(1, bar.columns // max(1, bar.columns_per_adc or 1))
    return arrays * (bar.rows * bar.columns * bar.area_per_cell + adcs * bar.adc_area) * 1e-12
