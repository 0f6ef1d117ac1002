"""snnc's event engine with the Loihi process models against Lava 0.10.0's own simulator.

Two feedforward LIF networks, each layer a Dense (seeded random MIXED 8-bit weights in
[-128, 128)) followed by a LIF (du = 1024, dv = 512, vth = 2000, no bias): "3x512"
(512 inputs -> 512 -> 512 -> 512) and "784-512-512-10". The inputs are seeded Bernoulli spike
trains with 5% activity, --steps steps, batch 1 (Lava has no batch).

Lava runs ``Loihi2SimCfg(select_tag="fixed_pt")`` with a RingBuffer source and one Monitor on the
output LIF's spikes. Its time is split into *startup* (compile, spawn the process runtime and
the first step: a first ``run(RunSteps(1))``) and *steady* stepping (a second
``run(RunSteps(steps - 1))``); *total* is both plus reading the monitor (``stop`` excluded).
Lava runs --lava-runs times and its best times are kept (the conservative choice for the ratios).
snnc's time is ``snnc.backends.engine.run`` on the network lowered by
``snnc.backends.loihi.to_engine``,
the best of --repeats rounds, with the default schedule (layer by layer: these networks have no
cycles) and, for comparison, ``schedule="step"`` (the schedule recurrent networks use); its
*total* is one cold pass: lowering plus the first run (which builds the dense weight matrices).
The output layer's spikes must be identical in both, or the script fails. ``--rounds R``
repeats everything R times and prints the spread of the ratios (timings vary with the load).

Synaptic events are spikes sent x fan-out (nonzero weights), from the engine's counters;
events per second divide them by each simulator's stepping time.

Run from the repository root:  .venv/bin/python benchmarks/loihi_vs_lava.py
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from snnc.backends.engine import run
from snnc.backends.loihi import Lif, LoihiNetwork, Synapse, to_engine

NETWORKS = {"3x512": (512, 512, 512, 512), "784-512-512-10": (784, 512, 512, 10)}
ACTIVITY, SEED = 0.05, 0
LIF = dict(du=1024, dv=512, vth=2000)


def network(sizes: tuple[int, ...], rng: np.random.Generator) -> LoihiNetwork:
    names = ["in"] + [f"lif{i}" for i in range(len(sizes) - 1)]
    neurons = {name: Lif(size, **LIF) for name, size in zip(names[1:], sizes[1:])}
    synapses = tuple((a, b, Synapse(rng.integers(-128, 128, (m, n))))
                     for a, b, n, m in zip(names[:-1], names[1:], sizes[:-1], sizes[1:]))
    return LoihiNetwork({"in": sizes[0]}, neurons, synapses)


def best_of(repeats: int, fn):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def time_snnc(net: LoihiNetwork, x: np.ndarray, repeats: int) -> dict:
    start = time.perf_counter()
    engine_net = to_engine(net)
    lower = time.perf_counter() - start
    run(engine_net, {"in": x})  # the first run also builds the dense weight matrices
    cold = time.perf_counter() - start
    layered, rec = best_of(repeats, lambda: run(engine_net, {"in": x}))
    stepped, rec_step = best_of(max(1, repeats // 2),
                                lambda: run(engine_net, {"in": x}, schedule="step"))
    out = list(net.neurons)[-1]
    assert np.array_equal(rec.spikes[out], rec_step.spikes[out]), "schedules disagree"
    return dict(lower=lower, cold=cold, run=layered, step_run=stepped, recording=rec,
                output=out)


def time_lava(net: LoihiNetwork, x: np.ndarray, steps: int) -> dict:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.monitor.process import Monitor

    from snnc.backends.loihi.lava import build_lava

    out = list(net.neurons)[-1]
    start = time.perf_counter()
    procs = build_lava(net, {"in": x})
    monitor = Monitor()
    monitor.probe(procs[out].s_out, steps)
    monitor.run(condition=RunSteps(num_steps=1), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    started = time.perf_counter()
    monitor.run(condition=RunSteps(num_steps=steps - 1))
    stepped = time.perf_counter()
    spikes = monitor.get_data()[out]["s_out"] != 0
    total = time.perf_counter() - start
    monitor.stop()
    return dict(startup=started - start, steady=(stepped - started) / (steps - 1), total=total,
                spikes=spikes)


def measure(name: str, steps: int, repeats: int, lava_runs: int) -> dict:
    rng = np.random.default_rng(SEED)
    net = network(NETWORKS[name], rng)
    x = (rng.random((steps, NETWORKS[name][0])) < ACTIVITY).astype(np.int32)
    snnc = time_snnc(net, x, repeats)
    runs = [time_lava(net, x, steps) for _ in range(lava_runs)]
    lava = {key: min(r[key] for r in runs) for key in ("startup", "steady", "total")}
    lava["spikes"] = runs[0]["spikes"]
    rec = snnc["recording"]
    if any(not np.array_equal(rec.spikes[snnc["output"]][:, 0], r["spikes"]) for r in runs):
        raise SystemExit(f"{name}: output spikes differ between snnc and Lava")
    events = rec.counters.totals()["synaptic_events"]
    rates = {k: float(v.mean()) for k, v in rec.spikes.items()}
    return dict(name=name, steps=steps, snnc=snnc, lava=lava, events=events, rates=rates,
                synapses=sum(int(np.count_nonzero(s.weights)) for *_, s in net.synapses),
                output_spikes=int(lava["spikes"].sum()))


def batch_rate(name: str, steps: int, batch: int, repeats: int) -> float:
    """Engine synaptic events per second at ``batch`` (the engine's throughput regime)."""
    rng = np.random.default_rng(SEED)
    engine_net = to_engine(network(NETWORKS[name], rng))
    x = rng.random((steps, batch, NETWORKS[name][0])) < ACTIVITY
    seconds, rec = best_of(repeats, lambda: run(engine_net, {"in": x}))
    return rec.counters.totals()["synaptic_events"] / seconds


def report(rows: list[dict], batch: int, batch_rates: dict) -> None:
    print(f"{'network':16} {'Lava start s':>12} {'Lava ms/step':>12} {'Lava total s':>12} "
          f"{'snnc ms/step':>12} {'(step sched)':>12} {'snnc lower s':>12} {'snnc total s':>12} "
          f"{'x steady':>9} {'x total':>8}")
    for r in rows:
        s, lv, n = r["snnc"], r["lava"], r["steps"]
        print(f"{r['name']:16} {lv['startup']:12.3f} {lv['steady'] * 1e3:12.3f} "
              f"{lv['total']:12.3f} {s['run'] / n * 1e3:12.4f} {s['step_run'] / n * 1e3:12.4f} "
              f"{s['lower']:12.4f} {s['cold']:12.4f} {lv['steady'] * n / s['run']:9.1f} "
              f"{lv['total'] / s['cold']:8.1f}")
    print()
    for r in rows[-len(NETWORKS):]:
        s, lv, n = r["snnc"], r["lava"], r["steps"]
        rates = ", ".join(f"{k} {v:.3f}" for k, v in r["rates"].items())
        print(f"{r['name']}: {r['synapses']} synapses, {n} steps, spike rates per step: {rates}; "
              f"output spikes identical ({r['output_spikes']}); {r['events']} synaptic events: "
              f"snnc {r['events'] / s['run']:.3g}/s, Lava {r['events'] / (lv['steady'] * n):.3g}/s"
              f", snnc at batch {batch} {batch_rates[r['name']]:.3g}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--lava-runs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64, help="batch of the engine-only rate")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every measurement; prints the spread of the ratios")
    args = parser.parse_args()
    rows = [measure(name, args.steps, args.repeats, args.lava_runs)
            for _ in range(args.rounds) for name in NETWORKS]
    rates = {name: batch_rate(name, args.steps, args.batch, 3) for name in NETWORKS}
    report(rows, args.batch, rates)
    if args.rounds > 1:
        spread(rows)


def spread(rows: list[dict]) -> None:
    """min / median / max over the rounds of the steady ratio and both ms/step."""
    print()
    for name in NETWORKS:
        mine = [r for r in rows if r["name"] == name]
        ratio = [r["lava"]["steady"] * r["steps"] / r["snnc"]["run"] for r in mine]
        lava = [r["lava"]["steady"] * 1e3 for r in mine]
        snnc = [r["snnc"]["run"] / r["steps"] * 1e3 for r in mine]
        print(f"{name} over {len(mine)} rounds (min / median / max): x steady "
              + " / ".join(f"{v:.1f}" for v in _three(ratio)) + "; Lava ms/step "
              + " / ".join(f"{v:.3f}" for v in _three(lava)) + "; snnc ms/step "
              + " / ".join(f"{v:.4f}" for v in _three(snnc)))


def _three(values: list[float]) -> tuple[float, float, float]:
    return min(values), float(np.median(values)), max(values)


if __name__ == "__main__":
    main()
