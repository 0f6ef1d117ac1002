"""What ``snnc sweep`` writes into DIR: sweep.json and sweep.csv (one row per point, in grid
order), pareto.png (accuracy against energy per inference, per target, the Pareto front
joined), and the table it prints."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .atomic import atomic_path
from .report_summary import joules, percent, seconds
from .sweep import ROW_FIELDS


def write_outputs(rows: list[dict], axes: list[str], out: Path) -> str:
    flat = [flat_row(row, axes) for row in rows]
    with atomic_path(out / "sweep.json") as tmp:
        tmp.write_text(json.dumps({"axes": axes, "points": rows}, indent=1, sort_keys=True) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(flat[0]) if flat else axes)
    writer.writeheader()
    writer.writerows(flat)
    with atomic_path(out / "sweep.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    _pareto_plot(rows, out / "pareto.png")
    return table(rows, axes) + f"\nwrote {out}/sweep.json, sweep.csv, pareto.png"


def flat_row(row: dict, axes: list[str]) -> dict:
    """The CSV row: the point's settings, then the figures (evidence joined by '+')."""
    out = {axis: row["point"].get(axis, "") for axis in axes}
    for field in ROW_FIELDS:
        value = row.get(field)
        out[field] = "+".join(value) if isinstance(value, list) else ("" if value is None
                                                                        else value)
    return out


def pareto_front(rows: list[dict]) -> list[dict]:
    """The points no other point beats on both energy (lower) and accuracy (higher)."""
    ok = [r for r in rows if r.get("energy_per_inference") and _score(r) is not None]
    return sorted((r for r in ok if not any(
        o["energy_per_inference"] <= r["energy_per_inference"] and _score(o) >= _score(r)
        and (o["energy_per_inference"], _score(o)) != (r["energy_per_inference"], _score(r))
        for o in ok)), key=lambda r: r["energy_per_inference"])


def _score(row: dict):
    return row.get("accuracy") if row.get("accuracy") is not None else row.get("fidelity")


def table(rows: list[dict], axes: list[str]) -> str:
    front = {r["key"] for r in pareto_front(rows)}
    head = [*axes, "energy/inf", "latency/inf", "accuracy", "fidelity", "fits", "pareto"]
    body = []
    for r in rows:
        settings = [r["point"].get(a, "") for a in axes]
        if r.get("error"):
            body.append([*settings, "error: " + r["error"][:60], "", "", "", "", ""])
            continue
        body.append([*settings, joules(r["energy_per_inference"]),
                     seconds(r["latency_per_inference"]), percent(r["accuracy"]),
                     percent(r["fidelity"]), {True: "yes", False: "no"}.get(r["fits"], "?"),
                     "*" if r["key"] in front else ""])
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    return "\n".join("  ".join(f"{c:<{w}}" for c, w in zip(line, widths)).rstrip()
                     for line in [head, *body])


def _pareto_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    ok = [r for r in rows if r.get("energy_per_inference") and _score(r) is not None]
    for target in dict.fromkeys(r["target"] for r in ok):
        mine = [r for r in ok if r["target"] == target]
        axis.scatter([r["energy_per_inference"] for r in mine],
                     [100 * _score(r) for r in mine], label=target, s=22)
    front = pareto_front(rows)
    if front:
        axis.step([r["energy_per_inference"] for r in front], [100 * _score(r) for r in front],
                  where="post", color="black", linewidth=0.8, label="Pareto front")
    labelled = any(r.get("accuracy") is not None for r in ok)
    axis.set_xscale("log")
    axis.set_xlabel("energy per inference (J)")
    axis.set_ylabel("accuracy (%)" if labelled else "agreement with the reference (%)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    plt.close(figure)
