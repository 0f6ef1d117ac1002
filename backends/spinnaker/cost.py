"""The spinnaker family's cost (``Family.cost``): the core-slice cost model
(``snnc.hw_models.cost.estimate`` through ``snnc.report.slice_cost``, SpiNNMachine's or Sharp
et al.'s energy tables over the network's cores, timer step semantics) on the SpiNNaker
mapping, with the mapping's router traffic and the ARM load per core and step
(``mapping.traffic``) beside it.

The energy is the estimate's as it is: it prices a real-time run (every step lasts the 1 ms
timestep). Where the load says a core overruns the step, a real run needs the
``time_scale_factor`` it gives, and lasts (and idles) that many times longer; the report says
so rather than rescaling the estimate.
"""
from __future__ import annotations

from typing import Any

from .mapping.traffic import load, load_lines, totals


class SpinnakerCost:
    """A cost report (``snnc.hw_models.cost_report.CostReport``) with "traffic" and "load"."""

    def __init__(self, report, traffic: dict, arm: dict):
        self._report, self.traffic, self.load = report, traffic, arm

    def __getattr__(self, name: str) -> Any:  # total, inference_time, terms, ...
        return getattr(self._report, name)

    def to_dict(self) -> dict:
        return {**self._report.to_dict(), "traffic": self.traffic, "load": self.load}

    def lines(self) -> list[str]:
        t = self.traffic
        return [*self._report.lines(),
                f"  router: {t['packets']} packets, {t['router_hops']} chip-to-chip hops, "
                f"{t['table_lookups']} table look-ups, {t['synaptic_events']} synaptic events "
                "over the run", *load_lines(self.load)]


def cost(chip, recording, mapping, *, model=None, deployment=None) -> SpinnakerCost:
    """``Family.cost``: the generic estimate on ``mapping``'s cores, plus traffic and load."""
    from snnc.report import slice_cost

    report = slice_cost(chip, recording, mapping, model=model, deployment=deployment)
    activity = recording.activity or mapping.activity
    return SpinnakerCost(report, totals(mapping, activity),
                         load(mapping, chip, recording.counters, activity,
                              max(1, recording.batch)))
