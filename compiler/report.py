"""``snnc report``: what a model costs on each target, and how faithfully it runs there.

Per target: compile with the target's default pipeline (unless MODEL is already a program for
it), map (partition, place, route) onto the target's chip model, simulate the inputs on the
emulated chip, price the run with the chip's cost model (static, per-step overhead and event
energy; step time), and compare the outputs with the float reference on the same inputs.
One input sequence (one batch row) is one inference.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from .errors import SnncError
from .ir import Graph
from .options import SimOptions
from .passes.fidelity import per_output
from .program import json_value
from .progress import simulate_in_slices

def report(graph: Graph, targets: list[str], options: SimOptions,
           inputs: Mapping[str, np.ndarray], *, chips: int | None = None,
           compiled_for: str | None = None, program=None, pipeline: str | None = None,
           labels: np.ndarray | None = None, energy_model: str | None = None,
           calibration: Mapping[str, np.ndarray] | None = None, trials: int = 1
           ) -> dict[str, Any]:
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
    the spread over all K under "trials"."""
    from snnc.backends import get_target

    reference = simulate_in_slices(
        lambda part: get_target("reference").simulate(graph, part, options), inputs,
        "simulating the reference")
    entries, errors = {}, []
    for name in targets:
        target = get_target(name)
        try:
            compiled = (graph if name == compiled_for
                        else target.compile(graph, options, pipeline, calibration)[0])
            stored = program if name == compiled_for else None
            runs = trials if target.stochastic else 1
            done = [_entry(name, target, compiled, replace(options, seed=options.seed + k),
                           inputs, reference, chips, labels, energy_model, stored)
                    for k in range(runs)]
            entries[name] = done[0] if runs == 1 else {**done[0], "trials": spread(done)}
        except SnncError as error:  # this target cannot run or price it: say why, go on
            entries[name] = {"description": target.description, "error": str(error)}
            errors.append(error)
    if len(errors) == len(targets):
        raise errors[0]
    steps, batch = next(iter(reference.outputs.values())).shape[:2]
    versus = "the program's graph" if compiled_for else "the model before compilation"
    data = {"steps": int(steps), "batch": int(batch), "dt": options.dt,
            "fidelity_versus": f"float reference simulation of {versus}", "targets": entries}
    if labels is not None:
        data["reference_accuracy"] = accuracy(reference.outputs, labels)
    return data


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


def _entry(name, target, graph, options, inputs, reference, chips, labels, energy_model,
           program=None) -> dict[str, Any]:
    recording = simulate_in_slices(lambda part: target.simulate(graph, part, options), inputs,
                                   f"simulating on {name}")
    entry = {"description": target.description,
             "fidelity": per_output(reference.outputs, recording.outputs),
             "spikes": dict(recording.spike_counts)}
    if labels is not None:
        entry["accuracy"] = accuracy(recording.outputs, labels)
    chip = target.chip_model()
    if chip is None:
        return entry
    mapping = _mapping(target, graph, chip, chips, recording.activity, program)
    if mapping is None:
        return entry
    price = target.family.cost or slice_cost
    cost = price(chip, recording, mapping, model=energy_model, deployment=None)
    entry.update(chip=chip.name, mapping=mapping.fit, mapping_summary=mapping.summary(),
                 cost=cost.to_dict(), cost_lines=cost.lines())
    if hasattr(mapping, "routes"):
        entry["traffic"] = mapping.routes.totals()
    return entry


def slice_cost(chip, recording, mapping, *, model=None, deployment=None):
    """The core-slice cost model on a ``map_graph`` mapping (the default of ``Family.cost``).
    ``deployment`` (how inputs reach the chip) is not modelled yet."""
    from snnc.hw_models.cost import estimate

    ran = len(next(iter(recording.counters.neuron_updates.values())))  # alignment steps too
    return estimate(chip, recording.counters, steps_per_inference=ran, batch=recording.batch,
                    placement=placement_of(mapping), hops=hops_of(mapping), model=model)


def _mapping(target, graph, chip, chips, activity, program):
    """The program's stored mapping with this run's traffic, else a fresh one (None for a
    family without a mapping strategy)."""
    from snnc.mapping import Mapping

    stage = target.family.mapping
    if stage is None:
        return None
    if program is not None and (program / "partition.json").is_file() and chips is None:
        return Mapping.read(program).routed(graph, chip, activity)
    return stage(graph, chip, chips, activity=activity, family=target.family)


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


# -- formatting ---------------------------------------------------------------------------------


def format_report(data: dict[str, Any], title: str, style: str = "table") -> str:
    if style == "json":
        plain = {**data, "targets": {k: {f: v for f, v in e.items() if f != "cost_lines"}
                                     for k, e in data["targets"].items()}}
        return json.dumps({"model": title, **plain}, indent=1, default=json_value)
    lines = [f"report: {title}, {data['steps']} steps x batch {data['batch']} "
             f"(one batch row = one inference), dt {data['dt']:g} s"]
    if "reference_accuracy" in data:
        lines.append(f"accuracy on the input's labels: reference "
                     f"{100 * data['reference_accuracy']:.2f} %")
    for name, entry in data["targets"].items():
        lines += _target_lines(name, entry, data["fidelity_versus"], style == "markdown")
    return "\n".join(lines)


def _target_lines(name: str, entry: dict, versus: str, markdown: bool) -> list[str]:
    head = f"## {name}" if markdown else f"\n== {name}: {entry['description']}"
    lines = [head]
    if markdown:
        lines.append(entry["description"])
    if "error" in entry:
        return lines + [f"  not reported: {entry['error']}"]
    if "accuracy" in entry:
        lines.append(f"  accuracy on the input's labels: {100 * entry['accuracy']:.2f} %")
    for out, f in entry["fidelity"].items():
        lines.append(f"  fidelity '{out}' vs the {versus}: "
                     f"{100 * f['equal']:.2f} % equal, max |diff| {f['max_abs_diff']:.4g}")
    if "trials" in entry:
        lines += _trial_lines(entry["trials"])
    if "mapping" in entry and "traffic" not in entry:  # a family's own mapping artefact
        lines.append(f"  mapping: {entry['mapping_summary']}")
        body = entry["cost_lines"]
        lines += ["```", *body, "```"] if markdown else ["  " + line for line in body]
    elif "mapping" in entry:
        fit, t = entry["mapping"], entry["traffic"]
        lines.append(f"  mapping: {fit['cores']['need']} cores on {fit['chips']['need']} "
                     f"chip(s) of {fit['chip']}; {t['packets']} packets, {t['packet_hops']} "
                     f"packet-hops, {t['inter_chip_packets']} between chips, "
                     f"{t['host_packets']} host input packets over the run")
        for p in fit["populations"]:
            lines.append(f"    {p['name']:<16} {p['neurons']:>8} neurons {p['cores']:>4} cores "
                         f"{p['synapses']:>10} synapses {p['synapse_bits']:>11} bits")
        body = entry["cost_lines"]
        lines += ["```", *body, "```"] if markdown else ["  " + line for line in body]
    return lines


def _trial_lines(trials: dict) -> list[str]:
    out = [f"  over {trials['count']} trials (seeds): mean +- std [min, max]"]
    for key, unit, scale in (("accuracy", "%", 100), ("fidelity_equal", "% equal", 100),
                             ("energy_per_inference", "uJ", 1e6)):
        if key in trials:
            f = {k: scale * v for k, v in trials[key].items() if k != "count"}
            out.append(f"    {key:<22} {f['mean']:.4g} +- {f['std']:.3g} {unit} "
                       f"[{f['min']:.4g}, {f['max']:.4g}]")
    return out
