"""One row per target of ``snnc report``, read from each entry's generic fields only.

A target joins the side-by-side table with no edit here: every family's cost report gives
``total`` (J per inference), ``inference_time`` (s) and ``terms`` (name, energy, count, unit,
evidence, source), and every mapping artefact a ``fit`` dict of resources (need against a limit).
Terms are sorted into the issue's categories by their names; the raw terms stay in the entry.
"""
from __future__ import annotations

import math
from typing import Any

# Category of an energy term, by words in its name (first match wins; "other" otherwise).
CATEGORIES = (("cooling", ("cool", "cryo", "4k")),
              ("static", ("static", "leak", "idle", "bias")),
              ("adc", ("adc", "dac", "sense", "periphery")),
              ("routing", ("message", "packet", "hop", "rout", "splitter", "merger", "jtl",
                           "wiring", "noc", "spike_out")),
              ("synaptic", ("synap", "crossbar", "read", "weight", "gate")),
              ("neuron", ("neuron", "update")),
              ("overhead", ("overhead", "clock", "step", "active", "sync", "management",
                            "host_io")))
CATEGORY_NAMES = tuple(name for name, _ in CATEGORIES) + ("other", "beyond terms")
# "beyond terms": what a total holds past its terms' sum (a model that prices cooling, say,
# as a factor on the terms rather than as a term of its own).


def category(term_name: str) -> str:
    lowered = term_name.lower()
    for name, words in CATEGORIES:
        if any(word in lowered for word in words):
            return name
    return "other"


def summarize(name: str, entry: dict, steps: int) -> dict[str, Any]:
    """The row of one target: energy and its breakdown, latency, throughput, resources,
    fidelity and accuracy, with the chip model and the evidence kinds behind the figures."""
    row: dict[str, Any] = {"target": name, "description": entry.get("description", "")}
    if "error" in entry:
        return {**row, "error": entry["error"]}
    row["fidelity"] = _first_output(entry).get("agreement", _first_output(entry).get("equal"))
    row["accuracy"] = entry.get("accuracy")
    cost = entry.get("cost")
    if cost is None:
        return row
    per_step = cost.get("step_time")
    if per_step is None:
        per_step = cost["inference_time"] / max(1, cost.get("steps_per_inference") or steps)
    breakdown = dict.fromkeys(CATEGORY_NAMES, 0.0)
    for term in cost.get("terms", ()):
        breakdown[category(term["name"])] += float(term["energy"])
    beyond = float(cost["total"]) - sum(breakdown.values())
    if beyond > 1e-9 * abs(float(cost["total"])):
        breakdown["beyond terms"] = beyond
    row.update(chip=entry.get("chip", cost.get("chip")), energy_model=cost.get("model"),
               deployment=entry.get("deployment"),
               energy_per_inference=float(cost["total"]),
               breakdown={k: v for k, v in breakdown.items() if v},
               evidence=sorted({t["evidence"] for t in cost.get("terms", ())}),
               latency_per_step=float(per_step),
               latency_per_inference=float(cost["inference_time"]),
               throughput=1.0 / float(cost["inference_time"]),
               resources=resources(entry.get("mapping") or {}),
               fits=(entry.get("mapping") or {}).get("fits"),
               mapping_summary=entry.get("mapping_summary", ""))
    if cost.get("error_bands"):  # the calibration's leave-one-out spread (x/ factor)
        row["error_bands"] = cost["error_bands"]
    if cost.get("warnings"):  # the network lies far outside the calibrated range
        row["warnings"] = list(cost["warnings"])
    if "trials" in entry:
        row["trials"] = entry["trials"]
    return row


def resources(fit: dict) -> list[dict[str, Any]]:
    """Each resource of a fit dict (a value with a ``need``): need, limit, unit, utilisation.
    Families name the limit differently (``limit``, ``max``, ``per_chip``), so the first given."""
    out = []
    for key, value in fit.items():
        if not isinstance(value, dict) or not isinstance(value.get("need"), (int, float)):
            continue
        limit, per = None, ""
        for field, label in (("limit", ""), ("given", " given"), ("max", ""),
                             ("per_chip", " per chip")):
            if isinstance(value.get(field), (int, float)):
                limit, per = value[field], label
                break
        need = value["need"]
        out.append({"name": key, "need": need, "limit": limit, "limit_kind": per.strip(),
                    "unit": value.get("unit", key),
                    "utilisation": need / limit if limit else None})
    return out


def _first_output(entry: dict) -> dict:
    return next(iter(entry.get("fidelity", {}).values()), {})


# -- text ----------------------------------------------------------------------------------------


def table_lines(rows: list[dict], baselines: list[dict], markdown: bool) -> list[str]:
    """Every target side by side (and the dense baselines, marked estimates)."""
    head = ("target", "chip", "energy/inf", "latency/step", "latency/inf", "inf/s", "fidelity",
            "accuracy", "fits", "evidence")
    body = [_cells(row) for row in rows] + [_baseline_cells(b) for b in baselines]
    if markdown:
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                *("| " + " | ".join(cells) + " |" for cells in body)]
    widths = [max(len(str(c)) for c in column) for column in zip(head, *body)]
    fmt = lambda cells: "  " + "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths))  # noqa: E731
    return [fmt(head), *(fmt(cells) for cells in body)]


def _cells(row: dict) -> tuple[str, ...]:
    if "error" in row:
        return (row["target"], "-", "not reported", "", "", "", "", "", "", "")
    if "energy_per_inference" not in row:
        return (row["target"], "-", "-", "-", "-", "-", percent(row["fidelity"]),
                percent(row["accuracy"]), "-", "-")
    bands = row.get("error_bands", {})
    band = lambda key: f" x/{bands[key]['factor']:.2g}" if key in bands else ""  # noqa: E731
    return (row["target"], str(row["chip"]), joules(row["energy_per_inference"]) + band("energy"),
            seconds(row["latency_per_step"]) + band("step_time"),
            seconds(row["latency_per_inference"]),
            f"{row['throughput']:.4g}", percent(row["fidelity"]), percent(row["accuracy"]),
            {True: "yes", False: "NO", None: "?"}[row["fits"]], ",".join(row["evidence"]))


def _baseline_cells(b: dict) -> tuple[str, ...]:
    latency = b.get("latency_per_inference")
    return (f"dense {b['name']}", b["device"][:28], joules(b["energy_per_inference"]), "",
            seconds(latency) if latency else "-", f"{1 / latency:.4g}" if latency else "-",
            "float", percent(b.get("accuracy")), "", "estimate")


def joules(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    for scale, unit in ((1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value / 1e-15:.4g} fJ"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value / 1e-12:.4g} ps"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"
