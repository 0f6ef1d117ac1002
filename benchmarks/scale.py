"""Compile + map time and peak memory against network size, for Loihi 2 and SpiNNaker 1.

The path is the one ``snnc compile`` takes: ``target.compile`` (the target's default
pipeline: lower, normalize, [split-populations,] map-delays, quantize) and then the family's
mapping stage, ``target.family.mapping(graph, chip, chips, family=, options=)`` (core
slices, placement and routes for Loihi; whatever the SpiNNaker family maps with at the time
of the run). Time is wall-clock of each stage; the network is built before the clock starts.

Networks: random and sparse, ``--neurons`` N in populations of ``--population`` P LIF
neurons; each population receives from ``--sources`` S populations (or the Input) chosen at
random among those before it, through one P x P Linear matrix each whose entries are non-zero
with probability fan_in / (S P), normal weights: N x fan_in synapses in all (1e8 at 1e6
neurons and fan-in 100). The IR stores each matrix densely (NIR's Linear), so a network's
weights take N x S x P float32 values whatever its sparsity: that, not the compiler, is why
sparsity lives inside fixed-size blocks here (a 1e6 x 1e6 matrix would take 4 TB).

Memory: each case runs in a fresh subprocess, and its peak is the process's high-water
resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the whole process: Python,
numpy, the network and everything the compiler holds); "added" is that peak less the
resident set measured just before compiling (the network and the imports), i.e. what compile
and map add on top of the model they are given. tracemalloc is not used: it slows numpy's
allocations several-fold and would distort the times.

Peer, measured in the same process: one scan of every weight (``np.count_nonzero`` per
matrix), the least work any compiler that reads each synapse once must do; the table gives
compile + map time as a multiple of it. Growth exponents are the least-squares slopes of
log(time) and log(memory) against log(neurons) over the sizes run (1 = linear).

Times are the min and median over --rounds rounds (a fresh process each). Quick run:
    .venv/bin/python benchmarks/scale.py --sizes 1e4,1e5 --rounds 1
Full run (about 10 minutes on 2 cores, peak under 6 GB):
    .venv/bin/python benchmarks/scale.py
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DT = 1e-3  # s: dt / tau = 0.05 for the tau of 20 ms below, well inside Euler's range


def random_network(neurons: int, fan_in: int, population: int, sources: int, seed: int):
    """The benchmark's network (see the module docstring), as an snnc Graph."""
    from snnc.ir import Graph
    from snnc.ir import nodes as n

    rng = np.random.default_rng(seed)
    size, count = population, max(1, neurons // population)
    density = min(1.0, fan_in / (sources * size))
    nodes, edges, senders = {"input": n.Input(shape=(size,))}, [], ["input"]
    ones = np.ones(size, np.float32)
    for k in range(count):
        for s in rng.choice(len(senders), size=min(sources, len(senders)), replace=False):
            weight = (rng.random((size, size), dtype=np.float32) < density) \
                * rng.standard_normal((size, size), dtype=np.float32) * np.float32(0.5)
            nodes[f"w{k}_{s}"] = n.Linear(weight=weight)
            edges += [(senders[s], f"w{k}_{s}"), (f"w{k}_{s}", f"p{k}")]
        nodes[f"p{k}"] = n.LIF(tau=0.02 * ones, r=ones, v_leak=0 * ones, v_threshold=ones,
                               v_reset=0 * ones)
        senders.append(f"p{k}")
    nodes["output"] = n.Output(shape=(size,))
    return Graph(nodes=nodes, edges=tuple(edges + [(senders[-1], "output")]))


def resident_bytes() -> int:
    """The process's resident set now (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def one_case(args: argparse.Namespace) -> dict:
    """Build, then compile and map once; runs in its own process (``--case``)."""
    import resource

    from snnc.backends import get_target
    from snnc.ir import nodes as n
    from snnc.options import SimOptions

    graph = random_network(args.case, args.fan_in, args.population, args.sources, args.seed)
    target, options = get_target(args.target), SimOptions(dt=DT)
    start = time.perf_counter()
    for node in graph.nodes.values():  # the peer: every weight read once
        if isinstance(node, n.Linear):
            np.count_nonzero(node.weight)
    scan = time.perf_counter() - start
    synapses = sum(int(np.count_nonzero(v.weight)) for v in graph.nodes.values()
                   if isinstance(v, n.Linear))
    before = resident_bytes()
    start = time.perf_counter()
    compiled, _ = target.compile(graph, options)
    compiled_at = time.perf_counter()
    mapping = target.family.mapping(compiled, target.chip_model(), None, family=target.family,
                                    options=options)
    mapped_at = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"neurons": args.case, "target": args.target, "synapses": synapses,
            "compile_s": compiled_at - start, "map_s": mapped_at - compiled_at,
            "total_s": mapped_at - start, "scan_s": scan, "peak_bytes": peak,
            "added_bytes": peak - before, "mapping": mapping.summary()}


def run_case(neurons: int, target: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--case", str(neurons), "--target", target,
               "--fan-in", str(args.fan_in), "--population", str(args.population),
               "--sources", str(args.sources), "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{target} at {neurons:g} neurons failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) against log(x); None with fewer than two sizes."""
    if len(xs) < 2:
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def summary(rounds: list[dict]) -> dict:
    """One case over its rounds: min and median of each time, the largest peak."""
    out = dict(rounds[0])
    for key in ("compile_s", "map_s", "total_s", "scan_s"):
        values = [r[key] for r in rounds]
        out[key], out[key.replace("_s", "_median_s")] = min(values), statistics.median(values)
    out["peak_bytes"] = max(r["peak_bytes"] for r in rounds)
    out["added_bytes"] = max(r["added_bytes"] for r in rounds)
    return out


def print_table(rows: list[dict], rounds: int) -> None:
    print(f"compile + map, min (median) over {rounds} round(s); memory: peak RSS of the "
          "case's process, and what compile + map added")
    print(f"{'target':<11} {'neurons':>9} {'synapses':>11} {'compile s':>17} {'map s':>15} "
          f"{'total s':>15} {'x scan':>7} {'peak GB':>8} {'added GB':>9}")
    for r in rows:
        print(f"{r['target']:<11} {r['neurons']:>9.0e} {r['synapses']:>11.3e} "
              f"{r['compile_s']:>8.2f} ({r['compile_median_s']:>6.2f}) "
              f"{r['map_s']:>6.2f} ({r['map_median_s']:>6.2f}) "
              f"{r['total_s']:>6.2f} ({r['total_median_s']:>6.2f}) "
              f"{r['total_s'] / r['scan_s']:>7.0f} {r['peak_bytes'] / 1e9:>8.2f} "
              f"{r['added_bytes'] / 1e9:>9.2f}")
        print(f"{'':<11} {r['mapping']}")


def print_exponents(rows: list[dict]) -> dict:
    exponents = {}
    print("growth exponents (slope of log y on log neurons; 1 = linear):")
    for target in dict.fromkeys(r["target"] for r in rows):
        mine = [r for r in rows if r["target"] == target]
        xs = [r["neurons"] for r in mine]
        found = {key: slope(xs, [r[key] for r in mine])
                 for key in ("compile_s", "map_s", "total_s", "peak_bytes", "added_bytes")}
        exponents[target] = found
        print(f"  {target:<11} " + ", ".join(
            f"{key.replace('_s', ' time').replace('_bytes', ' memory')} "
            + ("-" if v is None else f"{v:.2f}") for key, v in found.items()))
    return exponents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6",
                        help="neuron counts, comma-separated (default 1e4,1e5,1e6)")
    parser.add_argument("--targets", default="loihi2,spinnaker1",
                        help="targets, comma-separated (default loihi2,spinnaker1)")
    parser.add_argument("--fan-in", type=int, default=100, help="synapses per neuron (100)")
    parser.add_argument("--population", type=int, default=128,
                        help="neurons per population (128)")
    parser.add_argument("--sources", type=int, default=2,
                        help="matrices into each population (2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per case; min and median over them (3)")
    parser.add_argument("--seed", type=int, default=0, help="the networks' seed (0)")
    parser.add_argument("--json", type=Path, help="also write the rows and exponents here")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)  # one case, in a child
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(one_case(args)))
        return
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = []
    for target in args.targets.split(","):
        for neurons in sizes:
            rows.append(summary([run_case(neurons, target, args) for _ in range(args.rounds)]))
            print(f"done: {target} at {neurons:.0e} neurons, {rows[-1]['total_s']:.2f} s",
                  file=sys.stderr, flush=True)
    print_table(rows, args.rounds)
    exponents = print_exponents(rows)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "exponents": exponents}, indent=1))


if __name__ == "__main__":
    main()
