"""The published Loihi cases that ``snnc.hw_models.calibrate`` fits and leaves out one by one.
Each is rebuilt on the Loihi backend (``snnc.backends.loihi.calibration_cases``: hw_models
never imports a backend), run on snnc's engine and costed once, so that the structured
model's prediction of it is a closed form in the free parameters:

    T_step   = work + barrier + management_time + chip_sync_time * log2(chips)
               + io_time_streamed                      (streamed cases)
    E_dyn    = events + management_power * chips * T_inference + io_energy_streamed * steps
    E_total  = E_dyn + static_power * chips * T_inference

``work`` (the slowest core's mean event work per step), ``barrier`` (Davies Table 2 for the
tiles in use) and ``events`` (the per-event energies of the chip's model) come from
``snnc.hw_models.cost.estimate`` on the rebuild. Measured values are read from the chip
files' ``[measurements.*]`` tables, so each carries its source there.

The scaling sweep of the keyword spotter (N = 0, 1, 4, 10 branches) ran with a slower host
loop than the keyword spotter itself (126 against 297 inferences/s on the same network at
N = 0, at the same ~78 mW of dynamic power): it gets a host-loop time of its own
(``sweep_io_time``, fitted on N = 0 and N = 10), a property of that measurement set-up that
is not written into the chip model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field



@dataclass(frozen=True)
class Case:
    """One published case: its rebuild's fixed parts and what was measured."""

    name: str
    chip: str
    deployment: str
    steps: int
    """Steps per inference."""
    chips: int
    cores: int
    work: float
    """The slowest core's mean event work per step (s)."""
    barrier: float
    events: float
    """Event energy per inference (J)."""
    static_power: float
    measured: dict = field(default_factory=dict)
    """{"step_time" | "energy_dynamic" | "energy_total": (value, source key)}."""
    io: str = "io_time_streamed"
    """The parameter that is this case's host I/O time (streamed cases)."""
    rate: float = 0.0
    """Spikes per neuron per step of the rebuild."""
    note: str = ""

    def predict(self, p: dict) -> dict:
        """Step time and energies for parameters ``p`` (see the module doc)."""
        streamed = self.deployment == "streamed"
        step = (self.work + self.barrier + p["management_time"]
                + p["chip_sync_time"] * math.log2(self.chips)
                + (p[self.io] if streamed else 0.0))
        time = step * self.steps
        power = p["management_power_" + self.chip]
        dynamic = (self.events + power * self.chips * time
                   + (p["io_energy_streamed"] * self.steps if streamed else 0.0))
        return {"step_time": step, "energy_dynamic": dynamic,
                "energy_total": dynamic + self.static_power * self.chips * time}


def measured_of(chip, name: str) -> dict:
    """The step time and energies a ``[measurements.NAME]`` table gives, with their keys."""
    m, out = chip.measurements[name], {}
    if m.step_time is not None:
        out["step_time"] = (m.step_time, f"measurements.{name}.step_time")
    elif m.inference_rate is not None and m.steps_per_inference is not None:
        out["step_time"] = (1 / m.inference_rate / m.steps_per_inference,
                            f"measurements.{name}.inference_rate")
    for key in ("dynamic", "total"):
        value = getattr(m, f"energy_per_inference_{key}")
        if value is not None:
            out[f"energy_{key}"] = (value, f"measurements.{name}.energy_per_inference_{key}")
    return out


