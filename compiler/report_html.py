"""``snnc report --format html``: one self-contained page (styles inline, plots as PNG data URIs,
no script or file from anywhere else), so it opens offline and can be mailed as one file.

It holds the side-by-side table (and the dense baselines, marked estimates), the plots of
``report_plots``, and per target its energy terms with their evidence and sources, its
resources and its per-layer activity. A small inline script marks the page once every plot has
decoded (``data-plots-loaded`` on <body>), which the headless-browser test reads.
"""
from __future__ import annotations

import base64
from html import escape
from typing import Any

from .report_plots import plots
from .report_summary import joules, percent, seconds

STYLE = """body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:0.6em 0 1.4em}td,th{border:1px solid #ccc;padding:3px 7px;
font-size:13px;text-align:left}th{background:#f0f0f0}td.n{text-align:right}
.estimate{color:#666;font-style:italic}img{max-width:100%;border:1px solid #eee}
.error{color:#a00}figure{margin:1em 0}figcaption{font-size:13px;color:#555}"""
CHECK = """window.addEventListener('load',function(){var ok=0,im=document.images;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){ok++;}}
document.body.setAttribute('data-plots-loaded',ok+'/'+im.length);});"""


def render(doc: dict[str, Any], title: str) -> str:
    """The page of one report document (``report_text.report_data``)."""
    head = (f"<p>{doc['steps']} steps x batch {doc['batch']} (one batch row is one inference),"
            f" dt {doc['dt']:g} s; fidelity against the {escape(doc['fidelity_versus'])}."
            + (f" Reference accuracy on the input's labels: "
               f"{percent(doc['reference_accuracy'])}." if "reference_accuracy" in doc else "")
            + f" Report schema {escape(str(doc.get('schema')))}.</p>")
    body = [f"<h1>snnc report: {escape(title)}</h1>", head, "<h2>Every target side by side</h2>",
            _summary_table(doc["summary"], doc.get("baseline", [])), _baseline_notes(doc),
            "<h2>Plots</h2>"]
    for caption, png in plots(doc).items():
        data = base64.b64encode(png).decode("ascii")
        body.append(f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{escape(caption)}</figcaption></figure>")
    for row in doc["summary"]:
        body += _target_section(row, doc["targets"][row["target"]])
    if doc.get("timings"):
        body.append("<h2>Stage times</h2>" + _table(("stage", "seconds"), [
            (escape(k), f"{v:.3f}") for k, v in doc["timings"].items()]))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>snnc report: {escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}<script>{CHECK}</script></body></html>")


def _table(head, rows, classes=None) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    lines = []
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        lines.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><tr>{cells}</tr>{''.join(lines)}</table>"


def _summary_table(rows: list[dict], baselines: list[dict]) -> str:
    head = ("target", "chip model", "energy / inference", "latency / step",
            "latency / inference", "inferences / s", "fidelity", "accuracy", "fits",
            "evidence")
    body, classes = [], []
    for r in rows:
        if "error" in r:
            body.append((escape(r["target"]), "", f'<span class="error">not reported: '
                         f'{escape(r["error"])}</span>', "", "", "", "", "", "", ""))
        elif "energy_per_inference" not in r:
            body.append((escape(r["target"]), "-", "-", "-", "-", "-", percent(r["fidelity"]),
                         percent(r["accuracy"]), "-", "-"))
        else:
            body.append((escape(r["target"]), escape(f"{r['chip']} ({r['energy_model']})"),
                         joules(r["energy_per_inference"]), seconds(r["latency_per_step"]),
                         seconds(r["latency_per_inference"]), f"{r['throughput']:.4g}",
                         percent(r["fidelity"]), percent(r["accuracy"]),
                         {True: "yes", False: "no", None: "?"}[r["fits"]],
                         escape(", ".join(r["evidence"]))))
        classes.append("")
    for b in baselines:
        latency = b.get("latency_per_inference")
        body.append((f"dense {escape(b['name'])}", escape(b["device"]),
                     joules(b["energy_per_inference"]), "", seconds(latency) if latency else "-",
                     f"{1 / latency:.4g}" if latency else "-", "float (the reference)",
                     percent(b.get("accuracy")), "", "estimate"))
        classes.append("estimate")
    return _table(head, body, classes)


def _baseline_notes(doc: dict) -> str:
    items = [f"<li>dense {escape(b['name'])}: {b['macs_per_inference']:,} multiply-accumulates "
             f"per inference at {b['energy_per_mac']['value']:.3g} "
             f"{escape(b['energy_per_mac']['unit'])} ({escape(b['energy_per_mac']['evidence'])}:"
             f" {escape(b['energy_per_mac']['source'])})</li>" for b in doc.get("baseline", [])]
    return (f'<p class="estimate">Dense baselines are estimates: every weight used on every '
            f"step, neuron updates and data movement left out.</p><ul>{''.join(items)}</ul>")


def _target_section(row: dict, entry: dict) -> list[str]:
    out = [f"<h2>{escape(row['target'])}</h2><p>{escape(entry.get('description', ''))}</p>"]
    if "error" in entry:
        return out + [f'<p class="error">not reported: {escape(entry["error"])}</p>']
    if entry.get("mapping_summary"):
        out.append(f"<p>mapping: {escape(entry['mapping_summary'])}</p>")
    if "cost" in entry:
        out.append("<h3>Energy terms per inference</h3>" + _table(
            ("term", "energy", "count", "each", "evidence", "source"),
            [(escape(t["name"]), joules(t["energy"]), f"{t['count']:.4g}", f"{t['unit']:.3g}",
              escape(t["evidence"]), escape(t["source"])) for t in entry["cost"]["terms"]]))
    if row.get("resources"):
        out.append("<h3>Resources</h3>" + _table(
            ("resource", "need", "limit", "unit", "utilisation"),
            [(escape(r["name"]), f"{r['need']:.6g}",
              "-" if r["limit"] is None else f"{r['limit']:.6g} {escape(r['limit_kind'])}",
              escape(str(r["unit"])), percent(r["utilisation"])) for r in row["resources"]]))
    out.append("<h3>Layers</h3>" + _table(
        ("layer", "neurons", "spikes / inference", "spikes / neuron / step", "vs reference"),
        [(escape(name), lay["neurons"], f"{lay['spikes']:.4g}", f"{lay['rate']:.4g}",
          f"{lay['spike_ratio']:.3f}" if "spike_ratio" in lay else "-")
         for name, lay in entry.get("layers", {}).items()]))
    return out
