"""The dense baseline rows of ``snnc report``: the model as dense multiply-accumulates on a
conventional processor, priced per MAC from ``schemas/baseline.toml`` (each figure sourced).

A dense processor uses every weight on every timestep, so MACs per inference = the dense weight
count (a convolution's kernel once per output position) x the steps of one inference. That is
what a framework computes when it runs the SNN on a CPU or GPU; the rows are estimates.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import InputError
from .ir import Graph, flatten
from .ir import nodes as n

BASELINES = Path(__file__).with_name("schemas") / "baseline.toml"


def dense_macs_per_step(graph: Graph) -> int:
    """Multiply-accumulates of one timestep with every weight used (zeros too)."""
    flat = graph if graph.is_flat else flatten(graph)
    total = 0
    for name, node in flat.nodes.items():
        if isinstance(node, (n.Affine, n.Linear)):
            total += int(node.weight.size)
        elif isinstance(node, n._Conv):
            total += int(node.weight.size // node.weight.shape[0]) * math.prod(flat.shapes[name])
    return total


def baselines(graph: Graph, steps: int, accuracy: float | None = None,
              path: Path = BASELINES) -> list[dict[str, Any]]:
    """One row per processor in the baseline file: energy and (where a rate is given) latency
    per inference, each figure with its evidence and source."""
    macs = dense_macs_per_step(graph) * steps
    rows = []
    for entry in _read(path):
        energy = entry["energy_per_mac"]
        row = {"name": entry["name"], "device": entry["device"], "estimate": True,
               "macs_per_inference": macs, "energy_per_mac": energy,
               "energy_per_inference": macs * float(energy["value"]), "accuracy": accuracy}
        rate = entry.get("macs_per_second")
        if rate is not None:
            row.update(macs_per_second=rate,
                       latency_per_inference=macs / float(rate["value"]))
        rows.append(row)
    return rows


def _read(path: Path) -> list[dict]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        entries = tomllib.loads(path.read_text())["baseline"]
        for entry in entries:
            for key in ("energy_per_mac", *(["macs_per_second"] if "macs_per_second" in entry
                                            else [])):
                figure = entry[key]
                missing = {"value", "unit", "evidence", "source"} - set(figure)
                if missing:
                    raise KeyError(f"{entry['name']}.{key} lacks {', '.join(sorted(missing))}")
        return entries
    except (OSError, KeyError, ValueError) as error:
        raise InputError(f"{path}: not a baseline file ({error})") from None
