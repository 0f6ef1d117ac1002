"""Simulation results: a printed summary and an atomically written ``.npz``; streamed runs
write one part per batch (``BatchOutputs``), so a rerun resumes after the last batch done."""
from __future__ import annotations

import json
import math
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .ir import Graph, flatten
from .options import SimOptions


def summarize(graph: Graph, recording, options: SimOptions, title: str, seconds: float) -> str:
    """A table of spike counts and rates per spiking population, then the outputs."""
    outputs = {name: (values.shape, float(values.sum()))
               for name, values in recording.outputs.items()}
    return summary_lines(graph, recording.spike_counts, recording.steps, recording.batch,
                         outputs, options, title, seconds)


def summary_lines(graph: Graph, spike_counts: dict, steps: int, batch: int, outputs: dict,
                  options: SimOptions, title: str, seconds: float) -> str:
    """``summarize`` from totals: spike counts per node, outputs as name -> (shape, sum)."""
    flat = graph if graph.is_flat else flatten(graph)
    own = sorted({node.reset for node in flat.nodes.values() if getattr(node, "reset", None)})
    reset = f"reset {options.reset}" + (f" (model's own: {', '.join(own)})" if own else "")
    lines = [f"simulated {title}: {steps} steps x batch {batch}, "
             f"dt {options.dt:g} s, {options.integrator}, {reset}, "
             f"{options.dtype} ({seconds:.3f} s)",
             f"  {'node':<16} {'type':<8} {'neurons':>8} {'spikes':>10} {'rate/neuron/step':>17}"]
    for name, count in spike_counts.items():
        node = flat.nodes[name]
        size = math.prod(node.shape)
        rate = count / max(1, size * steps * batch)
        lines.append(f"  {name:<16} {node.type_name:<8} {size:>8} {count:>10} {rate:>17.4f}")
    for name, (shape, total) in outputs.items():
        lines.append(f"  output '{name}': shape {shape}, sum {total:.6g}")
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


class BatchOutputs:
    """OUT.npz of a streamed run, written batch by batch.

    ``OUT.npz.parts/`` holds ``manifest.json`` (what the run reads and how: a resumed run
    must match it) and ``batch-NNNNNN.npz`` per batch done, each written atomically, with the
    batch's outputs, states and spike counts. ``join`` writes OUT.npz (atomically) from the
    parts, one array at a time through a memory-mapped file so that memory stays one batch,
    and removes the folder. A folder left by an interrupted run is continued with ``resume``
    and refused without it, naming what to do."""

    def __init__(self, path: str | Path, manifest: dict, resume: bool):
        from .errors import OptionError

        self.path, self.parts = Path(path), Path(f"{path}.parts")
        manifest = json.loads(json.dumps(manifest))  # as it reads back: lists, not tuples
        if self.parts.is_dir():
            done = len(self._done())
            if not resume:
                raise OptionError(f"{self.parts}/: an unfinished earlier run ({done} batch "
                                  "file(s)); --resume continues it, or remove the folder")
            found = self._manifest()
            changed = [k for k in manifest if found.get(k) != manifest[k]]
            if changed:
                raise OptionError(f"{self.parts}/: the earlier run had another {changed[0]} "
                                  f"({found.get(changed[0])!r}, now {manifest[changed[0]]!r});"
                                  " remove the folder to start again")
        else:
            self.parts.mkdir()
            self._write_text(self.parts / "manifest.json", json.dumps(manifest, indent=1))

    def _manifest(self) -> dict:
        from .errors import OptionError

        try:
            return json.loads((self.parts / "manifest.json").read_text())
        except (OSError, ValueError):
            raise OptionError(f"{self.parts}/manifest.json: missing or damaged; remove the "
                              "folder to start again") from None

    def _done(self) -> list[Path]:
        return sorted(self.parts.glob("batch-*.npz"))

    def part(self, k: int) -> Path:
        return self.parts / f"batch-{k:06d}.npz"

    def _open(self, k: int):
        path = self.part(k)
        return np.load(path, allow_pickle=False)

    def done(self, k: int) -> bool:
        return self.part(k).is_file()

    def write(self, k: int, recording) -> None:
        arrays = {**{f"out/{n}": v for n, v in recording.outputs.items()},
                  **{f"state/{n}": v for n, v in recording.states.items()},
                  **{f"spikes/{n}": np.int64(c) for n, c in recording.spike_counts.items()}}
        with atomic_path(self.part(k)) as tmp:
            with open(tmp, "wb") as file:
                np.savez(file, **arrays)

    def totals(self, count: int) -> tuple[dict[str, int], dict[str, tuple], int]:
        """Spike counts, outputs (shape, sum) and batch rows over parts 0..count-1."""
        spikes: dict[str, int] = {}
        outputs: dict[str, list] = {}
        rows = 0
        for k in range(count):
            rows_here = 0
            with self._open(k) as part:
                for key in part.files:
                    kind, _, name = key.partition("/")
                    if kind == "spikes":
                        spikes[name] = spikes.get(name, 0) + int(part[key])
                    elif kind == "out":
                        value = part[key]
                        shape, total = outputs.get(name, [value.shape, 0.0])
                        outputs[name] = [shape, total + float(value.sum())]
                        rows_here = value.shape[1]
                rows += rows_here
        shaped = {n: ((s[0], rows, *s[2:]), t) for n, (s, t) in outputs.items()}
        return spikes, shaped, rows

    def join(self, options: SimOptions, count: int) -> None:
        """OUT.npz from parts 0..count-1: outputs by name, states "node.var", dt."""
        with self._open(0) as first:
            keys = [k for k in first.files if not k.startswith("spikes/")]
        with atomic_path(self.path) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                for key in keys:
                    joined = self._joined(key, count)
                    archive.write(joined, arcname=f"{key.partition('/')[2]}.npy")
                    os.unlink(joined)
                scratch = self.parts / "dt.npy"
                np.save(scratch, np.float64(options.dt))
                archive.write(scratch, arcname="dt.npy")
        shutil.rmtree(self.parts)

    def _joined(self, key: str, count: int) -> Path:
        """One array of every part, joined along the batch axis into a .npy file."""
        shapes, dtype = [], None
        for k in range(count):
            with self._open(k) as part:  # one batch in memory at a time
                header = part[key]
                shapes.append(header.shape)
                dtype = header.dtype
        total = (shapes[0][0], sum(s[1] for s in shapes), *shapes[0][2:])
        target = self.parts / "joining.npy"
        out = np.lib.format.open_memmap(target, mode="w+", dtype=dtype, shape=total)
        at = 0
        for k, shape in enumerate(shapes):
            with self._open(k) as part:
                out[:, at:at + shape[1]] = part[key]
            at += shape[1]
        out.flush()
        del out
        return target

    def save_state(self, state) -> None:
        """A streamed report's running totals after a batch (replaced atomically): their
        structure as JSON inside an .npz beside their arrays, so that reading them back
        unpickles nothing."""
        arrays: dict[str, np.ndarray] = {}
        meta = json.dumps(_encoded(state, arrays))
        with atomic_path(self.parts / "state.npz") as tmp:
            with open(tmp, "wb") as file:
                np.savez(file, __meta__=np.array(meta), **arrays)

    def load_state(self):
        """The totals ``save_state`` kept (this run's own file, checked by the manifest), or
        None before the first batch."""
        path = self.parts / "state.npz"
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as saved:
            arrays = {key: saved[key] for key in saved.files}
        return _decoded(json.loads(str(arrays.pop("__meta__"))), arrays)

    def finish(self) -> None:
        """The run is written: its parts folder goes."""
        shutil.rmtree(self.parts)

    @staticmethod
    def _write_text(path: Path, text: str) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(text + "\n")


def _encoded(value, arrays: dict, types: tuple | None = None):
    """``value`` as JSON data: arrays moved into ``arrays`` (named by number), recordings
    and counters tagged by their fields (every dict of the totals is keyed by names)."""
    from snnc.backends import recording_types

    Recording, Counters = types = types or recording_types()
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, Recording):
        fields = {f: getattr(value, f) for f in value.__dataclass_fields__}
        return {"__recording__": _encoded(fields, arrays, types)}
    if isinstance(value, Counters):
        return {"__counters__": _encoded(value.counts, arrays, types)}
    if isinstance(value, dict):
        return {str(k): _encoded(v, arrays, types) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encoded(v, arrays, types) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _decoded(value, arrays: dict, types: tuple | None = None):
    """What ``_encoded`` wrote, rebuilt."""
    from snnc.backends import recording_types

    Recording, Counters = types = types or recording_types()
    if isinstance(value, list):
        return [_decoded(v, arrays, types) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__recording__" in value:
        return Recording(**_decoded(value["__recording__"], arrays, types))
    if "__counters__" in value:
        return Counters(**_decoded(value["__counters__"], arrays, types))
    return {k: _decoded(v, arrays, types) for k, v in value.items()}
