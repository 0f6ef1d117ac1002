"""Calibration as code: fit the free parameters of the structured Loihi cost model
(``cost_structure``) to every published case (``calibration_cases``), write them with their
provenance into ``loihi1.toml`` and ``loihi2.toml``, and print the leave-one-out errors: for
each case, fit on all the others and predict it.

    python -m snnc.backends.loihi.calibrate            # fit, print, write the chip files
    python -m snnc.backends.loihi.calibrate --dry-run  # fit and print only

(The rebuilds run on the Loihi backend, which hw_models never imports, tests/
test_architecture.py; so the command lives there and calls ``main`` here with its cases.)

The fit is least squares in log(predicted / measured) over every measured quantity (step
time, dynamic and total energy per inference), the parameters bounded below by zero
(``scipy.optimize.least_squares``). Each parameter is constrained by the cases whose
measurements depend on it (``depends``). A parameter that only one case constrains is
labelled "determined by <case> alone": leaving that case out leaves it unconstrained, so its
prediction uses the sister parameter (``FALLBACK``), and the case's leave-one-out error says
how far that sister carries, not how well the model predicts; such cases are marked.

What the cases say (energy_cases.md): the streamed keyword spotter and its sweep draw a
nearly constant dynamic power (~78 mW) whatever their step length and core count, so the
chip's running power is the management power, not a per-step cost; what makes the spotter's
step 337 us is the host loop (``io_time_streamed``), which a preloaded workload does not pay.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .calibration_cases import Case

PARAMETERS = ("management_time", "chip_sync_time", "io_time_streamed", "sweep_io_time",
              "io_energy_streamed", "management_power_loihi1", "management_power_loihi2")
FALLBACK = {"management_power_loihi2": "management_power_loihi1",
            "management_power_loihi1": "management_power_loihi2",
            "io_time_streamed": "sweep_io_time", "sweep_io_time": "io_time_streamed"}
UNITS = {"management_time": ("us", 1e6), "chip_sync_time": ("us", 1e6),
         "io_time_streamed": ("us", 1e6), "sweep_io_time": ("us", 1e6),
         "io_energy_streamed": ("uJ", 1e6), "management_power_loihi1": ("mW", 1e3),
         "management_power_loihi2": ("mW", 1e3)}
START = dict(management_time=5e-6, chip_sync_time=1e-6, io_time_streamed=3e-4,
             sweep_io_time=7e-4, io_energy_streamed=1e-6, management_power_loihi1=0.05,
             management_power_loihi2=0.1)


def depends(case: Case, quantity: str) -> set[str]:
    """The parameters a case's measured ``quantity`` depends on."""
    out = {"management_time"}
    if case.chips > 1:
        out.add("chip_sync_time")
    if case.deployment == "streamed":
        out.add(case.io)
    if quantity.startswith("energy"):
        out.add("management_power_" + case.chip)
        if case.deployment == "streamed":
            out.add("io_energy_streamed")
    return out


def constrained(cases: list[Case]) -> dict[str, list[str]]:
    """Per parameter, the cases that constrain it."""
    out = {p: [] for p in PARAMETERS}
    for case in cases:
        for p in set().union(*(depends(case, q) for q in case.measured)):
            out[p].append(case.name)
    return out


def fit(cases: list[Case]) -> dict[str, float]:
    """The least-squares parameters; an unconstrained one takes its sister's value."""
    from scipy.optimize import least_squares

    free = [p for p, names in constrained(cases).items() if names]

    def params(x) -> dict:
        p = dict(zip(free, x))
        for name in PARAMETERS:
            if name not in p:
                p[name] = p[FALLBACK[name]]
        return p

    def residuals(x):
        p = params(x)
        return [math.log(case.predict(p)[q] / m) for case in cases
                for q, (m, _) in case.measured.items()]

    x0 = np.array([START[p] for p in free])
    result = least_squares(residuals, x0, bounds=(0, np.inf), x_scale=x0)
    return params(result.x)


@dataclass(frozen=True)
class Row:
    """One measured quantity of one case: measured, fitted on all, left out."""

    case: str
    quantity: str
    measured: float
    fitted: float
    left_out: float
    alone: tuple[str, ...]
    """Parameters only this case constrains: its left-out figure then is no prediction."""

    @property
    def error(self) -> float:
        """The leave-one-out ratio, >= 1 whichever way it misses."""
        r = self.left_out / self.measured
        return max(r, 1 / r)


def leave_one_out(cases: list[Case]) -> tuple[dict, list[Row]]:
    """The fit on all cases and one row per measured quantity of every case."""
    everything = fit(cases)
    owners = constrained(cases)
    rows = []
    for k, case in enumerate(cases):
        rest = cases[:k] + cases[k + 1:]
        p = fit(rest)
        full, out = case.predict(everything), case.predict(p)
        rows += [Row(case.name, q, m, full[q], out[q],
                     tuple(sorted(n for n in depends(case, q) if owners[n] == [case.name])))
                 for q, (m, _) in case.measured.items()]
    return everything, rows


def bands(rows: list[Row], cases: list[Case]) -> dict[str, float]:
    """The largest leave-one-out ratio of energy and of step time, over the preloaded/bias
    cases and over the streamed ones apart (a streamed run pays the host loop, whose figure
    only the keyword spotter gives)."""
    streamed = {c.name for c in cases if c.deployment == "streamed"}
    out = {}
    for tail, keep in (("", lambda r: r.case not in streamed),
                       ("_streamed", lambda r: r.case in streamed)):
        for kind, prefix in (("energy", "energy"), ("time", "step_time")):
            out[kind + tail] = max(r.error for r in rows
                                   if r.quantity.startswith(prefix) and keep(r))
    return out


def table(rows: list[Row]) -> list[str]:
    lines = [f"{'case':18} {'quantity':15} {'measured':>11} {'fit on all':>11} "
             f"{'left out':>11} {'LOO error':>9}  note"]
    for r in rows:
        unit, scale = ("us", 1e6) if r.quantity == "step_time" else ("uJ", 1e6)
        note = f"determined by this case alone: {', '.join(r.alone)}" if r.alone else ""
        lines.append(f"{r.case:18} {r.quantity:15} {r.measured * scale:8.4g} {unit} "
                     f"{r.fitted * scale:8.4g} {unit} {r.left_out * scale:8.4g} {unit} "
                     f"{r.error:8.2f}x  {note}")
    return lines


def branch_check(cases: list[Case], p: dict) -> str:
    """The sweep's event part in isolation: energy added per branch, N = 0 to 10."""
    by = {c.name: c for c in cases}
    lo, hi = by["kws_branches_0"], by["kws_branches_10"]
    slope = (hi.predict(p)["energy_dynamic"] - lo.predict(p)["energy_dynamic"]) / 10
    events = (hi.events - lo.events) / 10
    return (f"sweep slope: {slope * 1e6:.1f} uJ per branch predicted ({events * 1e6:.1f} uJ "
            f"of it events at SANA-FE's figures) against about 17 uJ measured (energy_cases.md 1)")


def main(argv: Optional[list[str]] = None, cases: Optional[list[Case]] = None) -> int:
    """Fit ``cases`` (the backend's rebuilds), print the leave-one-out table, write the
    chip files unless --dry-run."""
    parser = argparse.ArgumentParser(prog="python -m snnc.backends.loihi.calibrate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="fit and print; write nothing")
    args = parser.parse_args(argv)
    if cases is None:
        print("snnc.hw_models.calibrate: the cases are rebuilt on the Loihi backend; run "
              "python -m snnc.backends.loihi.calibrate")
        return 2
    params, rows = leave_one_out(cases)
    print("fitted parameters (all cases):")
    owners = constrained(cases)
    for name in PARAMETERS:
        unit, scale = UNITS[name]
        print(f"  {name:26} {params[name] * scale:10.4g} {unit}   on {', '.join(owners[name])}")
    print("\nleave-one-out (fit on all cases but one, predict it):")
    print("\n".join(table(rows)))
    b = bands(rows, cases)
    print(f"\nerror bands (largest leave-one-out ratio): preloaded/bias energy x/ "
          f"{b['energy']:.2f}, step time x/ {b['time']:.2f}; streamed energy x/ "
          f"{b['energy_streamed']:.2f}, step time x/ {b['time_streamed']:.2f}")
    print(branch_check(cases, params))
    if not args.dry_run:
        from .calibration_write import write_chip_files

        for path in write_chip_files(cases, params, rows, b):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
