"""What each ``snnc`` command does; ``cli.py`` parses the arguments."""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from .ir import Graph
from .options import SimOptions


def load(args: argparse.Namespace) -> tuple[Graph, SimOptions, dict]:
    """The model's graph, its base options, and the calibration arrays (possibly empty).

    A compiled program brings the options it was compiled with; another model brings the dt
    its frontend recorded. Options given on the command line override either.
    """
    return load_stored(args)[:3]


def load_stored(args: argparse.Namespace):
    """``load``'s graph, options and calibration, and the compiled program (or None)."""
    from snnc.frontends import load_model

    from .inputs import load_calibration
    from .program import is_program, read_program

    calibration = load_calibration(args.calibration) if args.calibration else {}
    program = read_program(args.model) if is_program(args.model) else None
    if program is not None:
        base = program.options
        graph = program.graph
    else:
        graph = load_model(args.model, calibration.get("inputs"))
        base = SimOptions(dt=float(graph.metadata.get("dt", SimOptions.dt)))
    given = {k: getattr(args, k) for k in ("dt", "integrator", "reset", "dtype", "seed")
             if getattr(args, k, None) is not None}
    if getattr(args, "device", None):  # added to (and overriding) a program's own settings
        given["device"] = {**dict(base.device), **dict(args.device)}
    return graph, dataclasses.replace(base, **given), calibration, program


def inspect(args: argparse.Namespace) -> None:
    from .ir.text import format_graph

    graph, _, _ = load(args)
    print(format_graph(graph, Path(args.model).name))


def compile_(args: argparse.Namespace) -> None:
    from snnc.backends import get_target

    from .ir.text import format_graph
    from .program import Program, check_program_output, pass_entry, write_program

    check_program_output(args.output)  # refuse a foreign -o before any work
    target = get_target(args.target)
    graph, options, calibration = load(args)
    spec = target.pipeline if args.pipeline is None else args.pipeline

    def after_each(applied, result, record):
        print(f"pass {applied.name}")
        print("\n".join(_report_lines(record.report, "  ")))
        if args.print_between_passes:
            print(format_graph(result, f"after {applied.name}"))

    compiled, records = target.compile(graph, options, spec, calibration, after_each)
    if args.time_passes:
        for record in records:
            print(f"  {record.seconds:9.4f} s  {record.applied.name}")
        print(f"  {sum(r.seconds for r in records):9.4f} s  total")
    mapping = _map(target, compiled, args, options)
    emitted: list[Path] = []

    def extras(staging: Path) -> None:
        if mapping is not None:  # partition/placement/routes/fit report as JSON
            emitted.extend(mapping.write(staging))
        if target.emit is not None:  # a real toolchain's files (Lava script) join the program
            emitted.extend(target.emit(compiled, options, staging))

    timings = {"passes": [{"pass": r.applied.name, "seconds": round(r.seconds, 6)}
                          for r in records]}
    write_program(Program(compiled, args.target, options, spec,
                          tuple(pass_entry(r) for r in records), str(args.model),
                          args.deployment), args.output, extras=extras, timings=timings)
    print(f"wrote {args.output}/ (target {args.target}, pipeline '{spec}')")
    for path in emitted:
        print(f"  {Path(args.output) / Path(path).name}")


def _map(target, graph, args: argparse.Namespace, options):
    """Map ``graph`` on the target's chip model with its family's strategy (None for targets
    without a chip). Slices: a graph that does not fit gets its fit report written beside OUT
    before the error (naming the resource, the need and the limit) is raised."""
    import json

    from .atomic import atomic_path
    from .errors import ResourceExceededError
    from .mapping import fit_report, map_graph, partition

    chip, family = target.chip_model(), target.family
    if chip is None or family.mapping is None:
        return None
    part = None
    try:
        if family.mapping is not map_graph:  # the family's own strategy
            mapping = family.mapping(graph, chip, args.chips, family=family, options=options)
        else:
            part = partition(graph, chip, family.sources_on_cores)  # kept for the fit report
            mapping = map_graph(graph, chip, args.chips, part=part, family=family)
    except ResourceExceededError as error:
        path = Path(f"{args.output}.fit_report.json")
        report = (fit_report(graph, chip, part, args.chips, str(error))
                  if family.mapping is map_graph else  # a family's own: the error as data
                  {"chip": chip.name, "fits": False, "error": str(error),
                   **{key: getattr(error, key) for key in ("resource", "need", "limit", "node")}})
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(report, indent=1, default=str) + "\n")
        raise ResourceExceededError(f"{error} (fit report: {path})", resource=error.resource,
                                    need=error.need, limit=error.limit, node=error.node) from None
    print(f"mapped: {mapping.summary()}")
    return mapping


def simulate(args: argparse.Namespace) -> None:
    from snnc.backends import get_target

    from .inputs import load_spikes
    from .program import is_program
    from .progress import bar, simulate_in_slices
    from .atomic import check_output_file
    from .options import check_device_keys
    from .results import save_recording, summarize, trial_spread

    if args.output:
        check_output_file(args.output)
    _check_streaming(args)
    target = get_target(args.target)
    graph, options, calibration = load(args)
    check_device_keys(options, [target])
    if not is_program(args.model):  # compile on the fly, as `compile` would
        graph = target.compile(graph, options, args.pipeline, calibration)[0]
    if args.batch_size:
        return simulate_streamed(args, target, graph, options)
    inputs = load_spikes(args.input, graph, options.dt, args.steps)
    trials = args.trials if target.stochastic else 1
    if args.trials > 1 and trials == 1:
        print(f"target {args.target} is deterministic: one trial, not {args.trials}")
    start = time.perf_counter()
    recordings = []
    with bar(f"trials on {args.target}", trials, "trials", args.quiet) as progress:
        for k in range(trials):
            recordings.append(simulate_in_slices(
                lambda part: target.simulate(graph, part, dataclasses.replace(
                    options, seed=options.seed + k), record=args.record), inputs,
                f"simulating on {args.target}" + (f" (trial {k + 1}/{trials})"
                                                  if trials > 1 else ""), quiet=args.quiet))
            progress.advance()
    elapsed = time.perf_counter() - start
    print(summarize(graph, recordings[0], options, f"{Path(args.model).name} on {args.target}",
                    elapsed))
    if trials > 1:
        print(trial_spread(recordings, options.seed))
    if args.output:
        save_recording(recordings[0], options, args.output, recordings[1:])
        print(f"wrote {args.output}")


def _check_streaming(args: argparse.Namespace) -> None:
    from .errors import OptionError

    if args.resume and not args.batch_size:
        raise OptionError("--resume continues a streamed run: give --batch-size N too")
    if args.batch_size and getattr(args, "trials", 1) > 1:
        raise OptionError("--batch-size streams one trial; run --trials without it")
    if args.batch_size and hasattr(args, "record") and not args.output:
        raise OptionError("--batch-size writes its outputs batch by batch: give -o OUT.npz")


def simulate_streamed(args: argparse.Namespace, target, graph, options) -> None:
    """``simulate`` over a data set in batches of ``--batch-size`` rows: one batch in memory,
    each written to OUT.npz.parts/ as it is done (a rerun with ``--resume`` goes on after
    the last one), then joined into OUT.npz."""
    from .inputs import Batches
    from .progress import bar
    from .results import BatchOutputs, summary_lines

    batches = Batches(args.input, graph, args.steps, args.batch_size,
                      scratch=Path(args.output).resolve().parent)
    try:
        manifest = {"model": str(Path(args.model).resolve()), "target": args.target,
                    "pipeline": args.pipeline, "input": batches.identity(),
                    "batch_size": args.batch_size, "steps": batches.steps,
                    "record": sorted(args.record), "options": options.to_dict()}
        out = BatchOutputs(args.output, manifest, args.resume)
        todo = [k for k in range(len(batches)) if not out.done(k)]
        start = time.perf_counter()
        with bar(f"simulating on {args.target}", len(batches), "batches", args.quiet) as progress:
            progress.advance(len(batches) - len(todo))
            for k in todo:
                out.write(k, target.simulate(graph, batches.batch(k), options,
                                             record=args.record))
                progress.advance()
        elapsed = time.perf_counter() - start
    finally:
        batches.close()
    spikes, outputs, rows = out.totals(len(batches))
    resumed = len(batches) - len(todo)
    print(summary_lines(graph, spikes, batches.steps, rows, outputs, options,
                        f"{Path(args.model).name} on {args.target}", elapsed))
    print(f"  {len(batches)} batches of {args.batch_size} rows"
          + (f", {resumed} done by an earlier run" if resumed else ""))
    out.join(options, len(batches))
    print(f"wrote {args.output}")


def report(args: argparse.Namespace) -> None:
    from snnc.backends import get_target, target_names

    from .atomic import atomic_path, check_output_file
    from .options import check_device_keys
    from .errors import OptionError
    from .inputs import load_labels, load_spikes
    from .progress import Stages
    from .report import format_report
    from .report import report as build

    if args.output:
        check_output_file(args.output)
    _check_streaming(args)
    stages = Stages(quiet=args.quiet)
    with stages.stage("loading the model"):
        graph, options, calibration, stored = load_stored(args)
    compiled_for = stored.target if stored is not None else None
    if stored is not None and args.deployment is None:  # the deployment it was compiled for
        args.deployment = stored.deployment
    known = target_names()
    names = ([t for t in known if t != "reference"] if args.target == "all"
             else args.target.split(","))
    unknown = [t for t in names if t not in known]
    if unknown:
        raise OptionError(f"unknown target(s) {', '.join(unknown)} (available: "
                          f"{', '.join(known)})")
    check_device_keys(options, [get_target(t) for t in names])
    program = Path(args.model) if compiled_for else None
    if args.batch_size:
        data, parts = report_streamed(args, graph, names, options, calibration, compiled_for,
                                      program, stages)
    else:
        inputs = load_spikes(args.input, graph, options.dt, args.steps)
        labels = load_labels(args.input, next(iter(inputs.values())).shape[1])
        data, parts = build(graph, names, options, inputs, chips=args.chips, program=program,
                            compiled_for=compiled_for, pipeline=args.pipeline, labels=labels,
                            energy_model=args.energy_model, calibration=calibration,
                            trials=args.trials, deployment=args.deployment,
                            stages=stages), None
    with stages.stage(f"formatting {args.format}"):
        text = format_report(data, Path(args.model).name, args.format)
    if args.output:
        with atomic_path(args.output) as tmp:
            tmp.write_text(text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    if parts is not None:
        parts.finish()
    stages.done()


def report_streamed(args, graph, names, options, calibration, compiled_for, program, stages):
    """``report`` over ``--batch-size`` batches; with -o FILE, its running totals are kept in
    FILE.parts/ after every batch (``--resume`` goes on from there)."""
    from .errors import OptionError
    from .inputs import Batches
    from .report import report_streamed as build
    from .results import BatchOutputs

    if args.resume and not args.output:
        raise OptionError("--resume continues a report written with -o FILE: give -o")
    scratch = Path(args.output).resolve().parent if args.output else None
    batches = Batches(args.input, graph, args.steps, args.batch_size, scratch=scratch)
    try:
        parts = None
        if args.output:
            manifest = {"model": str(Path(args.model).resolve()), "targets": names,
                        "pipeline": args.pipeline, "input": batches.identity(),
                        "batch_size": args.batch_size, "steps": batches.steps,
                        "chips": args.chips, "energy_model": args.energy_model,
                        "deployment": args.deployment, "options": options.to_dict()}
            parts = BatchOutputs(args.output, manifest, args.resume)
        data = build(graph, names, options, batches, chips=args.chips,
                     compiled_for=compiled_for, program=program, pipeline=args.pipeline,
                     energy_model=args.energy_model, calibration=calibration,
                     deployment=args.deployment, stages=stages, parts=parts)
    finally:
        batches.close()
    return data, parts


def sweep(args: argparse.Namespace) -> None:
    from .sweep import run_sweep

    run_sweep(args)


def targets(args: argparse.Namespace) -> None:
    from snnc.backends import get_family, get_target, target_names
    from snnc.hw_models import list_chips, load_chip

    print("targets:")
    for name in target_names():
        target = get_target(name)
        print(f"  {name:<12} {target.description}")
        print(f"  {'':<12} nodes: {', '.join(target.family.node_types)}")
        print(f"  {'':<12} default pipeline: {target.pipeline or '(none)'}")
        if target.chip:
            print(f"  {'':<12} chip model: {target.chip} (mapping, cost report)")
        if target.stochastic:
            print(f"  {'':<12} stochastic: --seed S and --trials K draw its random parts")
        for key, what in target.device_keys.items():
            print(f"  {'':<12} --device {key}=...: {what}")
    print("chip models (hw_models/, every number sourced; for passes such as check{chip=...}):")
    runs = {}
    for name in target_names():
        runs.setdefault(get_target(name).chip, []).append(name)
    for name in list_chips():
        chip = load_chip(name)
        print(f"  {name:<12} {chip.description}")
        if _limits(chip):
            print(f"  {'':<12} {_limits(chip)}")
        family = get_family(chip.kind)
        print(f"  {'':<12} family {chip.kind}: formats "
              f"{', '.join(f.name for f in family.formats) or 'none'}; "
              + (f"target {', '.join(runs[name])}" if name in runs
                 else f"no target yet (check{' and quantize' * bool(family.formats)} only)"))


def _limits(chip) -> str:
    """The headline limits of a chip model; unpublished ones are left out."""
    facts = [("cores/chip", chip.topology.cores_per_chip),
             ("neurons/core", chip.core.neurons_per_core),
             ("weight bits", chip.formats.weight_bits),
             ("state bits", chip.formats.state_bits),
             ("max delay steps", chip.delays.max_steps),
             ("energy model", chip.energy_model)]
    return ", ".join(f"{label} {value}" for label, value in facts if value is not None)


def _report_lines(report: dict, indent: str) -> list[str]:
    """A pass report as indented lines: flat mappings on one line, nested ones as blocks."""
    lines = []
    for key, value in report.items():
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            lines.append(f"{indent}{key}:")
            lines += _report_lines(value, indent + "  ")
        elif isinstance(value, dict):
            inline = ", ".join(f"{k}={_short(v)}" for k, v in value.items()) or "-"
            lines.append(f"{indent}{key}: {inline}")
        else:
            lines.append(f"{indent}{key}: {_short(value)}")
    return lines


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)
