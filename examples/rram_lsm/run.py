"""The zero-shot LSM (``lsm.py``) on every RRAM preset: accuracy in software, on ideal
devices and over device instances, and energy per inference against Loihi 2, all from snnc.

Run:  .venv/bin/python examples/rram_lsm/run.py [--instances 20] [--limit N] [--out DIR]
      [--report-images 100]
Writes DIR/lsm.nir (the reservoir), DIR/readout.npz (the digital readout's weight, bias and
the test labels), DIR/test_spikes.npz (the encoded test split) and DIR/results.json (what it
prints), so that the CLI runs the same network:  snnc report DIR/lsm.nir -t rram_40nm,loihi2 -i DIR/test_spikes.npz --dt 1e-3
Accuracy: the digital readout (trained once, in software) on the reservoir's spike counts of
each run. "ideal devices": the compiled reservoir (4-bit conductance levels) on exact
devices, which is the reference of that graph. A preset's K device instances are seeds
0..K-1 (``--trials K --seed 0``): programming error, faults and read noise drawn per seed.
Energy per inference: ``snnc.report`` (``snnc report -t ... --format json``) on the first
``--report-images`` test images, device instance seed 0, reservoir only (the readout is
digital and the same on every target).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lsm  # noqa: E402  (the example's own module, beside this script)

from snnc.backends import get_target  # noqa: E402
from snnc.frontends import write_nir  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from snnc.report import report  # noqa: E402

PRESETS = ("rram", "rram_40nm", "rram_neurosim", "rram_crosssim")
OPTIONS = SimOptions(dt=lsm.DT)
IDEAL = dataclasses.replace(OPTIONS, device=(("ideal", "true"),))


def accuracy(target: str, graph, spikes, labels, readout, options) -> float:
    run = get_target(target).simulate(graph, spikes, options)
    return float(np.mean(lsm.classify(run.outputs["spikes"], *readout) == labels))


def preset_accuracies(graph, spikes, labels, readout, instances: int) -> dict:
    """Per preset: its accuracy on ideal devices and on each of ``instances`` instances."""
    out = {}
    for name in PRESETS:
        compiled, _ = get_target(name).compile(graph, OPTIONS)
        per_seed = [accuracy(name, compiled, spikes, labels, readout,
                             dataclasses.replace(OPTIONS, seed=seed))
                    for seed in range(instances)]
        out[name] = {"ideal": accuracy(name, compiled, spikes, labels, readout, IDEAL),
                     "instances": per_seed}
    return out


def energies(graph, spikes, images: int) -> dict:
    """Per preset and loihi2, from snnc's report: energy per inference (J, "total"), its
    per-event part ("events": the whole total on RRAM, whose models price no static power;
    loihi2's synaptic ops, neuron updates and messages without its measured per-step chip
    overhead and static power), inference time (s) and arrays or cores used."""
    data = report(graph, [*PRESETS, "loihi2"], OPTIONS, {"input": spikes[:, :images]})
    out = {}
    for name, entry in data["targets"].items():
        if "error" in entry:
            out[name] = {"error": entry["error"]}
            continue
        cost, fit = entry["cost"], entry["mapping"]
        out[name] = {"total": cost["total"], "events": cost.get("events", cost["total"]),
                     "time": cost["inference_time"],
                     "used": fit.get("tiles", fit.get("cores", {})).get("need")}
    return out


def write_model(directory: Path, graph, readout, spikes, labels) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_nir(graph, directory / "lsm.nir")
    # the labels stay out of test_spikes.npz: the CLI would score them against the
    # reservoir's 200 outputs, which are features for the readout, not classes
    np.savez_compressed(directory / "readout.npz", weight=readout[0], bias=readout[1],
                        test_labels=labels)
    np.savez_compressed(directory / "test_spikes.npz", spikes=spikes.astype(np.uint8))


def table(software, loihi_accuracy, accuracies, power) -> str:
    loihi = power["loihi2"]
    head = (f"{'target':14} {'ideal':>7} {'instances: mean +- std [min, max]':>34} "
            f"{'energy/inf':>11} {'events/inf':>11} {'loihi2/this':>11} {'(events)':>9}")
    lines = [head, f"{'software':14} {software:7.4f}",
             f"{'loihi2':14} {loihi_accuracy:7.4f} {'':34} {_nj(loihi['total'])} "
             f"{_nj(loihi['events'])}"]
    for name, acc in accuracies.items():
        inst, energy = np.asarray(acc["instances"]), power[name]
        spread = (f"{inst.mean():.4f} +- {inst.std():.4f} [{inst.min():.4f}, "
                  f"{inst.max():.4f}]")
        lines.append(f"{name:14} {acc['ideal']:7.4f} {spread:>34} {_nj(energy['total'])} "
                     f"{_nj(energy['events'])} {loihi['total'] / energy['total']:11.0f} "
                     f"{loihi['events'] / energy['events']:9.0f}")
    return "\n".join(lines)


def _nj(joules: float) -> str:
    return f"{joules * 1e9:8.1f} nJ"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=20,
                        help="device instances (seeds 0..K-1) per preset")
    parser.add_argument("--limit", type=int, default=None,
                        help="use the first N images of each split (fast check)")
    parser.add_argument("--report-images", type=int, default=100,
                        help="test images priced by snnc report")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="where lsm.nir, readout.npz and test_spikes.npz go")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    graph, readout, spikes, labels, train_accuracy = lsm.build(args.limit, OPTIONS)
    write_model(args.out, graph, readout, spikes, labels)
    software = accuracy("reference", graph, spikes, labels, readout, OPTIONS)
    loihi2 = get_target("loihi2")
    loihi_accuracy = accuracy("loihi2", loihi2.compile(graph, OPTIONS)[0], spikes, labels,
                              readout, OPTIONS)
    accuracies = preset_accuracies(graph, spikes, labels, readout, args.instances)
    power = energies(graph, spikes, args.report_images)
    results = {"train_accuracy": train_accuracy, "software": software,
               "loihi2_accuracy": loihi_accuracy, "presets": accuracies, "energy": power,
               "test_images": int(len(labels)), "instances": args.instances,
               "seconds": time.perf_counter() - start}
    print(f"zero-shot LSM: {lsm.RESERVOIR} reservoir neurons, {lsm.STEPS} steps, "
          f"{len(labels)} test images; readout trained in software (train accuracy "
          f"{train_accuracy:.4f}); {args.instances} device instances per preset")
    print(table(software, loihi_accuracy, accuracies, power))
    print(f"({results['seconds']:.1f} s)")
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
