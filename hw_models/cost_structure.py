"""The structured part of a barrier-stepped cost model: what a step costs beyond the cores'
event work, term by term, each a named figure of the chip model, and how the deployment of
the input changes it.

One step of a barrier-synchronised chip (Loihi) lasts

    T_step = management_time                       x86 management and step handshake
           + barrier(tiles)                        mesh barrier, growing with the tiles in use
           + chip_sync_time * log2(chips)          the barrier across chips
           + max over cores of the event work      (``snnc.hw_models.cost``)
           + io_time(deployment)                   host I/O the deployment needs per step

``barrier(tiles)`` interpolates Davies et al. 2018 Table 2 (113 ns for 1 tile, 465 ns for 32,
``timing.barrier_sync_min/max``) linearly in the tiles of the busiest chip. The multi-chip
term follows Frady et al. 2020 (Pohoiki Springs: 14.3 us for 256 chips, 16.2 us for 768),
whose growth is logarithmic in the chips, as a barrier tree's is.

Energy per inference, beyond the counted events:

    static     = static_power * chips * T_inference
    overhead   = management_power * chips * T_inference    (the term's name, as before)
    host_io    = io_energy(deployment) * steps

Deployments (``DEPLOYMENTS``; energy_cases.md section 5):
- ``streamed``: every step the host sends the input and reads the outputs back, as
  nengo-loihi runs the keyword spotter (Blouw et al. 2019): ``io_time_streamed`` and
  ``io_energy_streamed`` per step;
- ``preloaded`` (the default): the input sits in on-chip spike generators before the run,
  as NxSDK and Lava benchmarks run (NxTF MNIST): no host I/O per step;
- ``bias``: the input is the bias of an on-chip population (lava-dl PilotNet repeats one
  frame that way): no host I/O per step either.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

DEPLOYMENTS = ("streamed", "preloaded", "bias")
DEFAULT_DEPLOYMENT = "preloaded"


@dataclass(frozen=True)
class StepPart:
    """One part of a step's fixed length: ``seconds`` per step, from the figure ``source``."""

    name: str
    seconds: float
    evidence: str
    source: str


def is_structured(figures) -> bool:
    """Whether the energy model is a structured one (it gives a management time)."""
    return figures.get("management_time")[0] is not None


def check_deployment(chip_name: str, deployment: Optional[str]) -> str:
    from .cost import CostModelError

    deployment = deployment or DEFAULT_DEPLOYMENT
    if deployment not in DEPLOYMENTS:
        raise CostModelError(f"{chip_name}: deployment '{deployment}' is not one of "
                             f"{', '.join(DEPLOYMENTS)}")
    return deployment


def step_parts(chip, figures, placement, deployment: str) -> list[StepPart]:
    """The fixed parts of one step for this placement and deployment (see the module doc)."""
    parts = [_part(figures, "management", "management_time", 1.0)]
    cores_on = _cores_per_chip_in_use(placement)
    barrier = barrier_part(chip, max(cores_on.values(), default=1))
    if barrier is not None:
        parts.append(barrier)
    chips = max(1, len(cores_on))
    if chips > 1 and figures.get("chip_sync_time")[0] is not None:
        parts.append(_part(figures, f"chip sync ({chips} chips)", "chip_sync_time",
                           math.log2(chips)))
    if deployment == "streamed":
        parts.append(_part(figures, "host I/O (streamed)", "io_time_streamed", 1.0))
    return [p for p in parts if p is not None]


def _part(figures, name: str, field: str, times: float) -> Optional[StepPart]:
    value, evidence, key = figures.get(field)
    if value is None:
        return None
    return StepPart(name, value * times, evidence, key)


def _cores_per_chip_in_use(placement) -> dict[int, int]:
    cores: dict[int, set] = {}
    for rows in placement.values():
        for core, chip_id, _ in rows:
            cores.setdefault(chip_id, set()).add(core)
    return {chip_id: len(c) for chip_id, c in cores.items()}


def barrier_part(chip, cores: int) -> Optional[StepPart]:
    """The mesh barrier for the tiles ``cores`` occupy, interpolated in Davies' Table 2."""
    t, top = chip.timing, chip.topology
    if t.barrier_sync_min is None or t.barrier_sync_max is None:
        return None
    per_tile = top.cores_per_tile or 1
    tiles_per_chip = max(2, math.ceil((top.cores_per_chip or per_tile) / per_tile))
    tiles = min(tiles_per_chip, max(1, math.ceil(cores / per_tile)))
    seconds = t.barrier_sync_min + (t.barrier_sync_max - t.barrier_sync_min) * (
        (tiles - 1) / (tiles_per_chip - 1))
    evidence = chip.sources["timing.barrier_sync_max"].evidence
    return StepPart(f"barrier ({tiles} tiles)", seconds, evidence,
                    "timing.barrier_sync_min,timing.barrier_sync_max")


def fixed_energy_terms(figures, chips: int, steps: int, inference_time: float,
                       deployment: str) -> list:
    """The management power over the inference and the host I/O energy per step."""
    from .cost_report import Term

    terms = []
    power, evidence, key = figures.get("management_power")
    if power is not None:
        # named "overhead" as the unstructured model's per-step overhead was: reports and
        # their readers sort terms by name; its source names the management power
        terms.append(Term("overhead", power * chips * inference_time,
                          chips * inference_time, power, evidence, key))
    if deployment == "streamed":
        energy, evidence, key = figures.get("io_energy_streamed")
        if energy is not None:
            terms.append(Term("host_io", energy * steps, steps, energy, evidence, key))
    return terms


def uncertainty(figures, cores: int, steps: int, rate: float, deployment: str = "preloaded"
                ) -> tuple[dict, tuple[str, ...]]:
    """The leave-one-out error bands of the model for this deployment (streamed cases have
    their own), and a warning for each way this network lies far (over 4x) outside the
    calibration cases' range."""
    bands = {}
    tail = "_streamed" if deployment == "streamed" else ""
    for name, field in (("energy", "energy_error"), ("step_time", "time_error")):
        value, evidence, key = figures.get(field + tail)
        if value is not None:
            bands[name] = {"factor": value, "source": key}
    warnings = []
    for what, value, low, high in (
            ("cores", cores, "calibrated_cores_min", "calibrated_cores_max"),
            ("steps per inference", steps, "calibrated_steps_min", "calibrated_steps_max"),
            ("spikes per neuron per step", rate, "calibrated_rate_min",
             "calibrated_rate_max")):
        lo, hi = figures.get(low)[0], figures.get(high)[0]
        if lo is None or hi is None:
            continue
        if value < lo / 4 or value > hi * 4:
            warnings.append(f"{what} {value:.3g} is far outside the calibrated range "
                            f"{lo:.3g}-{hi:.3g}: the error band does not cover it")
    return bands, tuple(warnings)
