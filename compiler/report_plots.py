"""The plots of the HTML report, drawn with matplotlib (Agg, no display) into PNG bytes, from the
report's JSON document only: energy breakdown per target, per-layer activity, a spike raster of
the first inference, fidelity per layer, and accuracy against energy per inference."""
from __future__ import annotations

import io
from typing import Callable

import numpy as np

from .report_summary import CATEGORY_NAMES

COLORS = dict(zip(CATEGORY_NAMES, ("#4c72b0", "#8c8c8c", "#dd8452", "#55a868", "#c44e52",
                                   "#8172b3", "#937860", "#da8bc3", "#64b5cd")))


def plots(doc: dict) -> dict[str, bytes]:
    """{title: PNG bytes} of every plot the document has data for."""
    drawn = {}
    for title, draw in (("Energy per inference by category", energy_breakdown),
                        ("Activity per layer", layer_activity),
                        ("Spike raster of the first inference", spike_raster),
                        ("Fidelity per layer", layer_fidelity),
                        ("Accuracy against energy per inference", accuracy_vs_energy)):
        png = _png(draw, doc)
        if png is not None:
            drawn[title] = png
    return drawn


def _png(draw: Callable, doc: dict) -> bytes | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = draw(doc, plt)
    if figure is None:
        return None
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def _priced(doc: dict) -> list[dict]:
    return [row for row in doc["summary"] if "energy_per_inference" in row]


def energy_breakdown(doc: dict, plt):
    rows = _priced(doc)
    if not rows:
        return None
    figure, axis = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.6))
    names = [f"{r['target']} ({r['energy_per_inference'] * 1e6:.3g} uJ)" for r in rows]
    left = np.zeros(len(rows))
    for cat in CATEGORY_NAMES:
        share = np.array([r["breakdown"].get(cat, 0.0) / r["energy_per_inference"]
                          for r in rows])
        if share.any():
            axis.barh(names, 100 * share, left=left, color=COLORS[cat], label=cat)
            left += 100 * share
    axis.set_xlabel("share of the energy per inference (%); total in the label")
    axis.invert_yaxis()
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=5, fontsize=8)
    return figure


def _layer_table(doc: dict, key: str):
    """Layer names and {run: [value per layer]} for the reference and every target run."""
    runs = {"reference": doc["reference"]["layers"]}
    runs.update({name: e["layers"] for name, e in doc["targets"].items() if "layers" in e})
    layers = list(doc["reference"]["layers"]) or sorted({n for r in runs.values() for n in r})
    values = {run: [float(lay[name].get(key, np.nan)) if name in lay else np.nan
                    for name in layers] for run, lay in runs.items()}
    return layers, values


def _grouped(plt, layers, values, ylabel):
    if not layers:
        return None
    figure, axis = plt.subplots(figsize=(9, 3.4))
    width = 0.8 / max(1, len(values))
    for k, (run, ys) in enumerate(values.items()):
        axis.bar(np.arange(len(layers)) + k * width, ys, width, label=run)
    axis.set_xticks(np.arange(len(layers)) + 0.4 - width / 2, layers)
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=8, ncol=4)
    return figure


def layer_activity(doc: dict, plt):
    layers, values = _layer_table(doc, "rate")
    return _grouped(plt, layers, values, "spikes per neuron per step")


def layer_fidelity(doc: dict, plt):
    layers, values = _layer_table(doc, "spike_ratio")
    values.pop("reference")
    figure = _grouped(plt, layers, values, "spikes / reference's spikes")
    if figure is not None:
        figure.axes[0].axhline(1.0, color="black", linewidth=0.8)
        figure.axes[0].set_title("per layer: 1 = as many spikes as the float reference",
                                 fontsize=9)
    return figure


def spike_raster(doc: dict, plt):
    runs = {"input": doc["reference"]["raster"].get("input", []),
            "reference output": doc["reference"]["raster"]["output"]}
    runs.update({f"{n} output": e["raster"]["output"] for n, e in doc["targets"].items()
                 if "raster" in e})
    columns = min(5, len(runs))
    rows = -(-len(runs) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.4 * rows),
                                sharex=True, squeeze=False)
    outputs = [u for label, events in runs.items() if label != "input" for _, u in events]
    top = max(outputs, default=0)  # every output panel on the same unit axis
    for axis, (label, events) in zip(axes.flat, runs.items()):
        points = np.asarray(events, dtype=float).reshape(-1, 2)
        axis.scatter(points[:, 0], points[:, 1], s=4, marker="|", color="black")
        axis.set_title(label, fontsize=8)
        high = points[:, 1].max(initial=0) if label == "input" else top
        axis.set_ylim(-0.5, high + 0.5)
        axis.tick_params(labelsize=7)
    for axis in axes.flat[len(runs):]:
        axis.set_visible(False)
    for axis in axes[-1]:
        axis.set_xlabel("step", fontsize=8)
    for axis in axes[:, 0]:
        axis.set_ylabel("unit", fontsize=8)
    figure.tight_layout()
    return figure


def accuracy_vs_energy(doc: dict, plt):
    rows = _priced(doc)
    if not rows:
        return None
    labelled = all(r.get("accuracy") is not None for r in rows)
    key, ylabel = (("accuracy", "accuracy on the labels (%)") if labelled
                   else ("fidelity", "agreement with the float reference (%)"))
    figure, axis = plt.subplots(figsize=(7, 4))
    for r in rows:
        axis.scatter(r["energy_per_inference"], 100 * r[key], s=30)
        axis.annotate(r["target"], (r["energy_per_inference"], 100 * r[key]), fontsize=8,
                      xytext=(4, 3), textcoords="offset points")
    for b in doc.get("baseline", []):
        y = 100 * (b.get("accuracy") if labelled and b.get("accuracy") is not None else 1.0)
        axis.scatter(b["energy_per_inference"], y, marker="s", color="gray", s=30)
        axis.annotate(f"dense {b['name']} (estimate)", (b["energy_per_inference"], y),
                      fontsize=8, color="gray", xytext=(4, -10), textcoords="offset points")
    axis.set_xscale("log")
    axis.set_xlabel("energy per inference (J)")
    axis.set_ylabel(ylabel)
    return figure
