"""The text formats of ``snnc report``: a terminal table, Markdown, and the JSON document
(``report_data``; its schema is schemas/report.v1.schema.json). HTML: ``report_html``."""
from __future__ import annotations

import json
from typing import Any

from .program import json_value
from .report_summary import table_lines


def format_report(data: dict[str, Any], title: str, style: str = "table") -> str:
    """The report as ``style``: "table" (terminal), "markdown", "json" (``report_data``) or
    "html" (a self-contained page with plots)."""
    if style == "json":
        return json.dumps(report_data(data, title), indent=1, default=json_value)
    if style == "html":
        from .report_html import render

        return render(report_data(data, title), title)
    markdown = style == "markdown"
    lines = [f"report: {title}, {data['steps']} steps x batch {data['batch']} "
             f"(one batch row = one inference), dt {data['dt']:g} s"]
    if "reference_accuracy" in data:
        lines.append(f"accuracy on the input's labels: reference "
                     f"{100 * data['reference_accuracy']:.2f} %")
    if data.get("summary"):
        lines += ["", "## every target side by side" if markdown else "every target side by side:",
                  *table_lines(data["summary"], data.get("baseline", []), markdown),
                  *_baseline_notes(data.get("baseline", []), markdown)]
    for row in data.get("summary", ()):  # far outside the calibration: say so up front
        lines += [f"{'- ' if markdown else '  '}{row['target']}: {w}"
                  for w in row.get("warnings", ())]
    for name, entry in data["targets"].items():
        lines += _target_lines(name, entry, data["fidelity_versus"], markdown)
    return "\n".join(lines)


def report_data(data: dict[str, Any], title: str) -> dict[str, Any]:
    """What the JSON holds (schemas/report.v1.schema.json): the report without its text lines,
    the model's name after the schema version."""
    targets = {k: {f: v for f, v in e.items() if f != "cost_lines"}
               for k, e in data["targets"].items()}
    return {"schema": data.get("schema"), "model": title,
            **{k: v for k, v in data.items() if k != "schema"}, "targets": targets}


def _baseline_notes(rows: list[dict], markdown: bool) -> list[str]:
    out = []
    for b in rows:
        each = b["energy_per_mac"]
        out.append(f"{'- ' if markdown else '  '}dense {b['name']} (an estimate): "
                   f"{b['macs_per_inference']:,} MACs per inference at {each['value']:.3g} "
                   f"{each['unit']} [{each['evidence']}], {b['device']}")
    return out


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
