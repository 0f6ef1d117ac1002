"""Simulation results: a printed summary and an atomically written ``.npz``."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .ir import Graph, flatten
from .options import SimOptions


def summarize(graph: Graph, recording, options: SimOptions, title: str, seconds: float) -> str:
    """A table of spike counts and rates per spiking population, then the outputs."""
    flat = graph if graph.is_flat else flatten(graph)
    own = sorted({node.reset for node in flat.nodes.values() if getattr(node, "reset", None)})
    reset = f"reset {options.reset}" + (f" (model's own: {', '.join(own)})" if own else "")
    lines = [f"simulated {title}: {recording.steps} steps x batch {recording.batch}, "
             f"dt {options.dt:g} s, {options.integrator}, {reset}, "
             f"{options.dtype} ({seconds:.3f} s)",
             f"  {'node':<16} {'type':<8} {'neurons':>8} {'spikes':>10} {'rate/neuron/step':>17}"]
    for name, count in recording.spike_counts.items():
        node = flat.nodes[name]
        size = math.prod(node.shape)
        rate = count / max(1, size * recording.steps * recording.batch)
        lines.append(f"  {name:<16} {node.type_name:<8} {size:>8} {count:>10} {rate:>17.4f}")
    for name, values in recording.outputs.items():
        lines.append(f"  output '{name}': shape {values.shape}, sum {values.sum():.6g}")
    return "\n".join(lines)


def trial_spread(recordings: list, seed: int) -> str:
    """Per output, its sum over steps, batch and units in each trial: mean, std, range."""
    lines = [f"  over {len(recordings)} trials (seeds {seed}..{seed + len(recordings) - 1}):"]
    for name in recordings[0].outputs:
        sums = np.array([float(r.outputs[name].sum()) for r in recordings])
        lines.append(f"  output '{name}': sum {sums.mean():.6g} +- {sums.std():.3g} "
                     f"[{sums.min():.6g}, {sums.max():.6g}]")
    return "\n".join(lines)


def save_recording(recording, options: SimOptions, path: str | Path, more=()) -> None:
    """Outputs (by Output node name) and recorded states ("node.var") in one .npz; with
    ``more`` trials, each output also as "NAME.trials", the trials stacked first."""
    arrays = {**recording.outputs, **recording.states}
    for name in recording.outputs if more else ():
        arrays[f"{name}.trials"] = np.stack([recording.outputs[name]]
                                            + [r.outputs[name] for r in more])
    arrays["dt"] = np.float64(options.dt)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as file:
            np.savez_compressed(file, **arrays)
