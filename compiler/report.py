"""``snnc report``: what a model costs on each target, and how faithfully it runs there.

Per target: compile with the target's default pipeline (unless MODEL is already a program for
it), map (partition, place, route) onto the target's chip model, simulate the inputs on the
emulated chip, price the run with the chip's cost model (static, per-step overhead and event
energy; step time), and compare the outputs with the float reference on the same inputs.
One input sequence (one batch row) is one inference.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from .errors import OptionError, SnncError
from .ir import Graph, flatten
from .options import SimOptions
from .passes.fidelity import per_output
from .progress import Stages
from .report_baseline import baselines
from .report_summary import summarize
from .report_text import format_report  # noqa: F401  (the formats; ``snnc.report`` API)

SCHEMA = "snnc-report/1"  # the ``schema`` of the JSON; schemas/report.v1.schema.json
RASTER_EVENTS = 4000  # most spikes of the first inference's raster kept per run

def report(graph: Graph, targets: list[str], options: SimOptions,
           inputs: Mapping[str, np.ndarray], *, chips: int | None = None,
           compiled_for: str | None = None, program=None, pipeline: str | None = None,
           labels: np.ndarray | None = None, energy_model: str | None = None,
           calibration: Mapping[str, np.ndarray] | None = None, trials: int = 1,
           deployment: str | None = None, stages: Stages | None = None) -> dict[str, Any]:
    """The report as plain data: one entry per target (a target that cannot compile or run
    the model gets its one-line error instead; if none can, the first error is raised).
    ``compiled_for`` names the target a program MODEL was compiled for (its graph is used as
    it is for that target, and its mapping, read back from the ``program`` directory, with
    this run's traffic); other targets compile it with ``pipeline``, else their default
    pipeline. With ``labels`` (one
    per batch row), each entry also gives the accuracy of the first output's class (the unit
    with the largest sum over time), and the data the reference's. ``energy_model`` names the
    chip's ``[energy.*]`` table to use (default: the chip's own); ``calibration`` ("spikes",
    "labels") feeds data-driven passes, as in ``snnc compile``. With ``trials`` K > 1, a
    stochastic target runs K seeds (``options.seed`` + k): the entry is the first trial's, with
    the spread over all K under "trials". ``deployment`` (how inputs reach the chip:
    "streamed", "preloaded", "bias"; None: the chip's default) goes to the family's cost
    model. ``stages`` times each stage (and prints it, unless quiet)."""
    from snnc.backends import get_target

    stages = stages or Stages(quiet=True)
    reference = stages.simulate(
        lambda part: get_target("reference").simulate(graph, part, options), inputs,
        "simulating the reference")
    run = _Run(inputs, reference, layer_activity(graph, reference), chips, labels,
               energy_model, deployment, stages)
    entries, errors = {}, []
    with stages.bar("report", len(targets), "targets") as progress:
        for name in targets:
            entries[name], error = _target_entry(name, graph, options, run, compiled_for,
                                                 program, pipeline, calibration, trials)
            errors += [error] if error is not None else []
            progress.advance()
    if len(errors) == len(targets):
        raise errors[0]
    steps, batch = next(iter(reference.outputs.values())).shape[:2]
    reference_figures = {"layers": run.reference_layers, "raster": raster(reference, inputs)}
    if labels is not None:
        reference_figures["accuracy"] = accuracy(reference.outputs, labels)
    return assemble(graph, entries, options, int(steps), int(batch), reference_figures,
                    compiled_for, deployment, stages)


def assemble(graph, entries: dict, options, steps: int, batch: int, reference: dict,
             compiled_for, deployment, stages) -> dict[str, Any]:
    """The report's data from the targets' entries and the reference's figures (layers,
    raster, and accuracy when labels were given)."""
    versus = "the program's graph" if compiled_for else "the model before compilation"
    data = {"schema": SCHEMA, "steps": steps, "batch": batch, "dt": options.dt,
            "deployment": deployment,
            "fidelity_versus": f"float reference simulation of {versus}", "targets": entries}
    if "accuracy" in reference:
        data["reference_accuracy"] = reference["accuracy"]
    data["reference"] = {"layers": reference["layers"], "raster": reference["raster"]}
    data["summary"] = [summarize(name, entry, steps) for name, entry in entries.items()]
    data["baseline"] = baselines(graph, steps, data.get("reference_accuracy"))
    data["timings"] = {label: round(t, 6) for label, t in stages.seconds.items()}
    return data


def _target_entry(name, graph, options, run, compiled_for, program, pipeline, calibration,
                  trials):
    """One target's entry and its error (None), or the one-line error entry and the error."""
    from snnc.backends import get_target

    target = get_target(name)
    try:
        with run.stages.stage(f"compiling for {name}"):
            compiled = (graph if name == compiled_for
                        else target.compile(graph, options, pipeline, calibration)[0])
        stored = program if name == compiled_for else None
        runs = trials if target.stochastic else 1
        with run.stages.bar(f"trials on {name}", runs, "trials") as progress:
            done = []
            for k in range(runs):
                done.append(_entry(name, target, compiled,
                                   replace(options, seed=options.seed + k), run, stored))
                progress.advance()
        return (done[0] if runs == 1 else {**done[0], "trials": spread(done)}), None
    except SnncError as error:  # this target cannot run or price it: say why, go on
        return {"description": target.description, "error": str(error)}, error


def report_streamed(graph: Graph, targets: list[str], options: SimOptions, batches, *,
                    chips: int | None = None, compiled_for: str | None = None, program=None,
                    pipeline: str | None = None, energy_model: str | None = None,
                    calibration=None, deployment: str | None = None,
                    stages: Stages | None = None, parts=None) -> dict[str, Any]:
    """``report`` over ``batches`` (``snnc.inputs.Batches``), one batch in memory at a time.

    Every target is compiled once; then per batch the reference and each target run on it
    and are folded into running totals: counters, activity and spike counts summed (what
    mapping and pricing read), fidelity and accuracy weighted by the batch's rows, the largest
    difference kept, the rasters of the first batch's first inference. ``parts``
    (``snnc.results.BatchOutputs``) keeps those totals after every batch, so a rerun with
    --resume goes on after the last batch done. A stochastic target draws per batch: its
    figures differ from one unbatched run's by sampling, not in distribution."""
    from snnc.backends import get_target

    stages = stages or Stages(quiet=True)
    compiled, entries, errors = {}, {}, []
    for name in targets:
        target = get_target(name)
        try:
            with stages.stage(f"compiling for {name}"):
                compiled[name] = (graph if name == compiled_for else
                                  target.compile(graph, options, pipeline, calibration)[0])
        except SnncError as error:
            entries[name] = {"description": target.description, "error": str(error)}
            errors.append(error)
    state = (parts.load_state() if parts is not None else None) or {"done": 0, "runs": {}}
    label = f"simulating {len(batches)} batches of {batches.size} rows"
    with stages.stage(label), stages.bar(label, len(batches), "batches") as progress:
        progress.advance(state["done"])
        for k in range(state["done"], len(batches)):
            _fold_batch(state, graph, compiled, options, batches.batch(k),
                        batches.batch_labels(k), k == 0)
            state["done"] = k + 1
            if parts is not None:
                parts.save_state(state)
            progress.advance()
    reference = state["runs"]["reference"]
    run = _Run(None, None, layer_activity(graph, reference["recording"]), chips,
               batches.labels, energy_model, deployment, stages)
    for name in targets:
        if name in entries:
            continue
        mine = state["runs"][name]
        if "error" in mine:
            entries[name] = {"description": get_target(name).description, "error": mine["error"]}
            errors.append(SnncError(mine["error"]))
            continue
        stored = program if name == compiled_for else None
        entries[name] = priced_entry(name, get_target(name), compiled[name], options, run,
                                     mine["recording"], _figures(mine), stored)
    if len(errors) == len(targets):
        raise errors[0]
    figures = {"layers": run.reference_layers, **_figures(reference)}
    return assemble(graph, {n: entries[n] for n in targets}, options, batches.steps,
                    batches.rows, figures, compiled_for, deployment, stages)


def _fold_batch(state, graph, compiled, options, inputs, labels, first: bool) -> None:
    """One batch's reference and target runs, folded into ``state["runs"]``."""
    from snnc.backends import get_target

    from .progress import join

    runs = state["runs"]
    reference = get_target("reference").simulate(graph, inputs, options)
    done = {"reference": (reference, {"fidelity": {}, "raster": raster(reference, inputs)})}
    for name, target_graph in compiled.items():
        if "error" in runs.get(name, {}):
            continue
        try:
            recording = get_target(name).simulate(target_graph, inputs, options)
        except SnncError as error:  # as report does: this target says why, others go on
            runs[name] = {"error": str(error)}
            continue
        done[name] = (recording, {"fidelity": per_output(reference.outputs, recording.outputs),
                                  "raster": raster(recording)})
    rows = next(iter(inputs.values())).shape[1]
    for name, (recording, figures) in done.items():
        if labels is not None:
            figures["accuracy"] = accuracy(recording.outputs, labels)
        reduced = replace(recording, outputs={}, states={})  # what stays: sums, not values
        mine = runs.setdefault(name, {"rows": 0, "raster": figures["raster"], "fidelity": {}})
        mine["recording"] = reduced if first else join([mine["recording"], reduced])
        mine["rows"] += rows
        if "accuracy" in figures:
            mine["accuracy"] = mine.get("accuracy", 0.0) + figures["accuracy"] * rows
        for output, values in figures["fidelity"].items():
            total = mine["fidelity"].setdefault(output, {"equal": 0.0, "max_abs_diff": 0.0,
                                                         "agreement": 0.0})
            total["equal"] += values["equal"] * rows
            total["agreement"] += values["agreement"] * rows
            total["max_abs_diff"] = max(total["max_abs_diff"], values["max_abs_diff"])


def _figures(mine: dict) -> dict:
    """Running totals as ``_entry``'s figures: shares per row, the largest difference."""
    rows = mine["rows"]
    out = {"raster": mine["raster"],
           "fidelity": {name: {"equal": t["equal"] / rows, "max_abs_diff": t["max_abs_diff"],
                               "agreement": t["agreement"] / rows}
                        for name, t in mine["fidelity"].items()}}
    if "accuracy" in mine:
        out["accuracy"] = mine["accuracy"] / rows
    return out


class _Run:
    """What every target's run shares: the inputs, the reference run, the pricing options."""

    def __init__(self, inputs, reference, reference_layers, chips, labels, energy_model,
                 deployment, stages):
        self.inputs, self.reference, self.reference_layers = inputs, reference, reference_layers
        self.chips, self.labels = chips, labels
        self.energy_model, self.deployment, self.stages = energy_model, deployment, stages


def layer_activity(graph: Graph, recording, reference=None) -> dict[str, dict[str, float]]:
    """Per spiking population: spikes per inference, neurons, spikes per neuron per step; with
    the ``reference`` layers, the ratio of spike counts (the per-layer fidelity: 1 = as many
    spikes as the float reference in that layer)."""
    flat = graph if graph.is_flat else flatten(graph)
    runs = max(1, recording.batch)
    out = {}
    for name, count in recording.spike_counts.items():
        neurons = math.prod(flat.shapes[name]) if name in flat.shapes else 0
        layer = {"spikes": count / runs, "neurons": neurons,
                 "rate": count / max(1, neurons * recording.steps * runs)}
        if reference is not None and name in reference:
            ref = reference[name]["spikes"]
            layer["spike_ratio"] = layer["spikes"] / ref if ref else float(layer["spikes"] == 0)
        out[name] = layer
    return out


def raster(recording, inputs=None) -> dict[str, list[list[int]]]:
    """The first inference's spikes as [step, unit] pairs: the first output's (and, given the
    ``inputs``, the first input's), at most ``RASTER_EVENTS`` each."""
    arrays = {"output": next(iter(recording.outputs.values()))}
    if inputs is not None:
        arrays = {"input": next(iter(inputs.values())), **arrays}
    out = {}
    for key, array in arrays.items():
        first = np.asarray(array)[:, 0].reshape(len(array), -1)
        out[key] = np.argwhere(first != 0)[:RASTER_EVENTS].tolist()
    return out


def spread(entries: list[dict]) -> dict[str, Any]:
    """Mean, standard deviation, least and most over trials of accuracy, the first output's
    share of equal values, and energy per inference."""
    figures = {"fidelity_equal": [next(iter(e["fidelity"].values()))["equal"] for e in entries]}
    if "accuracy" in entries[0]:
        figures["accuracy"] = [e["accuracy"] for e in entries]
    if "cost" in entries[0]:
        figures["energy_per_inference"] = [e["cost"]["total"] for e in entries]
    out: dict[str, Any] = {"count": len(entries)}
    for key, values in figures.items():
        v = np.asarray(values, dtype=float)
        out[key] = {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
                    "max": float(v.max())}
    return out


def accuracy(outputs: Mapping[str, np.ndarray], labels: np.ndarray) -> float:
    """Share of batch rows whose first output's largest time-summed unit is the label."""
    out = np.asarray(next(iter(outputs.values())))
    predicted = out.reshape(*out.shape[:2], -1).sum(axis=0).argmax(axis=1)
    return float(np.mean(predicted == labels))


def _entry(name, target, graph, options, run: _Run, program=None) -> dict[str, Any]:
    recording = run.stages.simulate(lambda part: target.simulate(graph, part, options),
                                    run.inputs, f"simulating on {name}")
    figures = {"fidelity": per_output(run.reference.outputs, recording.outputs),
               "raster": raster(recording)}
    if run.labels is not None:
        figures["accuracy"] = accuracy(recording.outputs, run.labels)
    return priced_entry(name, target, graph, options, run, recording, figures, program)


def priced_entry(name, target, graph, options, run, recording, figures: dict,
                 program=None) -> dict[str, Any]:
    """A target's entry from its run's ``recording`` (its counters, activity and spike counts:
    outputs are not read) and the ``figures`` measured on its outputs (fidelity, raster,
    accuracy): the layers, the mapping with the run's traffic, and the price."""
    entry = {"description": target.description, "fidelity": figures["fidelity"],
             "spikes": dict(recording.spike_counts),
             "layers": layer_activity(graph, recording, run.reference_layers),
             "raster": figures["raster"]}
    if "accuracy" in figures:
        entry["accuracy"] = figures["accuracy"]
    chip = target.chip_model()
    if chip is None:
        return entry
    with run.stages.stage(f"mapping on {name}"):
        mapping = _mapping(target, graph, chip, run.chips, recording.activity, program,
                           options)
    if mapping is None:
        return entry
    price = target.family.cost or slice_cost
    with run.stages.stage(f"pricing on {name}"):
        cost = price(chip, recording, mapping, model=run.energy_model,
                     deployment=run.deployment)
    entry.update(chip=chip.name, mapping=mapping.fit, mapping_summary=mapping.summary(),
                 cost=cost.to_dict(), cost_lines=cost.lines(), deployment=run.deployment)
    if hasattr(mapping, "routes"):
        entry["traffic"] = mapping.routes.totals()
    return entry


def slice_cost(chip, recording, mapping, *, model=None, deployment=None):
    """The core-slice cost model on a ``map_graph`` mapping (the default of ``Family.cost``).
    ``deployment`` (how inputs reach the chip) goes on to ``estimate`` only when given, so a
    cost model that does not take it yet still prices the chip's default."""
    from snnc.hw_models.cost import estimate

    ran = len(next(iter(recording.counters.neuron_updates.values())))  # alignment steps too
    more = {} if deployment is None else {"deployment": deployment}
    if more and "deployment" not in inspect.signature(estimate).parameters:
        raise OptionError(f"{chip.name}: its cost model does not model --deployment yet "
                          "(it prices input preloaded on the chip)")
    return estimate(chip, recording.counters, steps_per_inference=ran, batch=recording.batch,
                    placement=placement_of(mapping), hops=hops_of(mapping), model=model, **more)


def _mapping(target, graph, chip, chips, activity, program, options):
    """The program's stored mapping with this run's traffic, else a fresh one (None for a
    family without a mapping strategy)."""
    from snnc.mapping import Mapping, map_graph

    stage = target.family.mapping
    if stage is None:
        return None
    stored = program is not None and (program / "partition.json").is_file()
    if stage is map_graph and stored and chips is None:  # a family's own mapping is redone
        return Mapping.read(program).routed(graph, chip, activity)
    return stage(graph, chip, chips, activity=activity, family=target.family, options=options)


def placement_of(mapping) -> dict[str, list[tuple[int, int, int]]]:
    """The cost model's placement: per population, (core, chip, neurons) of each slice."""
    out: dict[str, list[tuple[int, int, int]]] = {}
    for c in mapping.partition.cores:
        out.setdefault(c.population, []).append(
            (c.core, mapping.placement.cores[c.core].chip, c.neurons))
    return out


def hops_of(mapping) -> dict[str, int]:
    """Packet hops over the run per connection ``source->target``, from the routes."""
    out: dict[str, int] = {}
    for link in mapping.routes.links:
        target = mapping.partition.cores[link.target_core].population
        key = f"{link.source}->{target}"
        out[key] = out.get(key, 0) + link.packet_hops
    return out
