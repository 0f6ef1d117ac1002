"""``snnc sweep``: every point of a grid compiled, run and reported, into one table.

A grid is ``KEY=V1,V2;KEY=...``: ``target``, ``seed`` (Monte Carlo: the same executor runs the
trials), ``dt``, ``device.KEY`` (a ``--device`` setting) or ``PASS.OPTION`` (an option of a pass
of the target's pipeline; a pass the pipeline lacks is inserted before its ``quantize``). Each
point is one ``report`` of one target, written to DIR/points/<key>.json as it finishes, so a
rerun skips the points already there. Points run in a local process pool or on a Dask cluster;
a point is a pure function of its settings (fixed seeds), so both give identical rows.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from .errors import OptionError

ROW_FIELDS = ("target", "chip", "energy_per_inference", "latency_per_step",
              "latency_per_inference", "throughput", "fidelity", "accuracy", "fits", "evidence",
              "error")


def parse_grid(text: str) -> dict[str, list[str]]:
    """``"target=a,b;quantize.bits=4,6"`` -> {"target": ["a", "b"], "quantize.bits": [...]}."""
    axes: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, values = part.partition("=")
        key = key.strip()
        listed = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not listed:
            raise OptionError(f"--grid: '{part}' is not KEY=V1,V2,...")
        if key in axes:
            raise OptionError(f"--grid: '{key}' given twice")
        if key not in ("target", "seed", "dt") and "." not in key:
            raise OptionError(f"--grid: unknown key '{key}' (target, seed, dt, device.KEY or "
                              "PASS.OPTION)")
        axes[key] = listed
    if "target" not in axes:
        raise OptionError("--grid needs a 'target=...' axis")
    return axes


def points(axes: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def point_key(point: dict[str, str]) -> str:
    """A file name that names the point and is the same on every run."""
    text = ";".join(f"{k}={v}" for k, v in sorted(point.items()))
    readable = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in point.items())
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in readable)[:80]
    return f"{safe}_{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def pipeline_for(base: str, point: dict[str, str]) -> str:
    """``base`` with the point's pass options set (and missing passes inserted)."""
    from .passes.manager import _split_top_level

    passes = [_split_pass(p) for p in _split_top_level(base)]
    for key, value in point.items():
        name, dot, option = key.partition(".")
        if not dot or name == "device":
            continue
        found = [p for p in passes if p[0] == name]
        if not found:
            at = next((k for k, p in enumerate(passes) if p[0] == "quantize"), len(passes))
            passes.insert(at, (name, {}))
            found = [passes[at]]
        for _, options in found:
            options[option] = value
    return ",".join(name + ("{" + ",".join(f"{k}={v}" for k, v in opts.items()) + "}"
                            if opts else "") for name, opts in passes)


def _split_pass(text: str) -> tuple[str, dict[str, str]]:
    name, _, rest = text.strip().partition("{")
    options = dict(item.split("=", 1) for item in rest.rstrip("}").split(",") if "=" in item)
    return name.strip(), {k.strip(): v.strip() for k, v in options.items()}


def evaluate(job: dict[str, Any]) -> dict[str, Any]:
    """One point: compile, run and report it (a top-level function: a pool or a Dask worker
    runs it in another process). The row has no timings, so every executor gives the same."""
    import dataclasses

    from snnc.backends import get_target
    from snnc.frontends import load_model

    from .errors import SnncError
    from .inputs import load_labels, load_spikes
    from .options import SimOptions
    from .report import report
    from .report_summary import summarize

    point = job["point"]
    row: dict[str, Any] = {"point": point, "key": point_key(point)}
    try:
        graph = load_model(job["model"])
        options = SimOptions(dt=float(point.get("dt", job["dt"] or graph.metadata.get(
            "dt", SimOptions.dt))), seed=int(point.get("seed", job["seed"])),
            device=tuple(sorted({**job["device"], **{k[7:]: v for k, v in point.items()
                                                     if k.startswith("device.")}}.items())))
        target = get_target(point["target"])
        spec = pipeline_for(target.pipeline, point)
        inputs = load_spikes(job["input"], graph, options.dt, job["steps"])
        labels = load_labels(job["input"], next(iter(inputs.values())).shape[1])
        data = report(graph, [point["target"]], dataclasses.replace(options), inputs,
                      pipeline=spec, labels=labels)
        summary = summarize(point["target"], data["targets"][point["target"]], data["steps"])
        row.update(pipeline=spec, **{k: summary.get(k) for k in ROW_FIELDS})
    except SnncError as error:  # this point cannot compile or run: its row says why
        row.update(target=point["target"], error=str(error))
    return row


def run_points(jobs: list[dict], executor: str, workers: int, scheduler: str | None,
               done_callback) -> None:
    """Run ``evaluate`` on every job, calling ``done_callback(row)`` as each finishes."""
    if executor == "dask":
        return _run_dask(jobs, workers, scheduler, done_callback)
    if workers == 1:
        for job in jobs:
            done_callback(evaluate(job))
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no forked copies of torch/lava state
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in as_completed([pool.submit(evaluate, job) for job in jobs]):
            done_callback(future.result())
    return None


def _run_dask(jobs, workers, scheduler, done_callback) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ModuleNotFoundError:
        raise OptionError("--executor dask needs dask.distributed "
                          "(pip install 'dask[distributed]')") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            futures = client.map(evaluate, jobs, pure=False)
            for future in as_completed(futures):
                done_callback(future.result())
    finally:
        if cluster is not None:
            cluster.close()


def run_sweep(args) -> None:
    from .progress import bar
    from .sweep_output import write_outputs

    axes = parse_grid(args.grid)
    out = Path(args.output)
    (out / "points").mkdir(parents=True, exist_ok=True)
    todo = [p for p in points(axes) if not (out / "points" / f"{point_key(p)}.json").exists()]
    total = len(points(axes))
    device = dict(args.device or [])
    jobs = [{"point": p, "model": str(args.model), "input": str(args.input),
             "steps": args.steps, "dt": args.dt, "seed": args.seed or 0, "device": device}
            for p in todo]
    if not args.quiet:
        print(f"sweep: {total} points, {total - len(todo)} already in {out}/, running "
              f"{len(todo)} ({args.executor})", file=sys.stderr)
    finished = [total - len(todo)]
    with bar("sweep", len(todo), "points", args.quiet) as progress:

        def done(row):
            _write_json(out / "points" / f"{row['key']}.json", row)
            finished[0] += 1
            if not args.quiet:
                state = row.get("error") or f"{row['energy_per_inference']:.4g} J/inference"
                progress.print(f"[{finished[0]}/{total}] {row['key']}: {state}")
            progress.advance()

        workers = args.workers or min(4, os.cpu_count() or 1)
        run_points(jobs, args.executor, workers, args.scheduler, done)
    rows = [json.loads((out / "points" / f"{point_key(p)}.json").read_text())
            for p in points(axes)]
    print(write_outputs(rows, list(axes), out))


def _write_json(path: Path, value) -> None:
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


__all__ = ["parse_grid", "points", "point_key", "pipeline_for", "evaluate", "run_points",
           "run_sweep"]
