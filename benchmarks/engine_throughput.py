"""The SFQ pulse emulation against a per-pulse heapq simulator of the same circuit, and the
shared engine's synaptic throughput and per-step overhead, on one core.

1. Pulses. One SFQ layer (--n x --n synapses at 30 % density, deterministic multi-fluxon
   weights of 1..15 pulses, unserialised so that merger collisions happen) driven by seeded
   Bernoulli spikes. snnc: ``PulseGates`` (``snnc.backends.sfq.pulses``) delivers every step
   at once, vectorized over pulses. Peer: a discrete-event simulator written like PyLSE's
   (``pylse`` simulation loop): a ``heapq`` of (tick, sequence, cell, ...) events, every
   pulse stepping cell by cell through the splitter tree, the JTL wiring, the gate's pulse
   train and the merger tree, each merger a small state machine that drops a pulse arriving
   less than its window after the last one it passed. Both use the circuit's integer ticks
   (``cells.layer_timing``). Delivered pulses per (step, neuron) and the collision count must
   be identical, or the script fails.
2. Engine. ``snnc.backends.engine.run`` on Input(--width) -> one population through a dense
   --width x --width connection (all-ones weights, int64, a fluxon-counting IF cell), dense
   and 5 % sparse, at activities that give >= 1e4 synaptic events per step: synaptic events
   per second of the plain engine (its dense sums, not the pulse path of part 1, whose rate
   is its pulses over its time). Per-step overhead: the same run on a 1 -> 1 network, time
   per step, layer by layer and step by step.

The issue's pass marks are printed as PASS/FAIL: pulse emulation >= 100x the heapq peer,
>= 5e7 synaptic events/s at >= 1e4 events per step, <= 20 us overhead per step. The peer
reuses ``cells.layer_timing`` for its tick arithmetic (only the event loop differs) and
covers deterministic, unserialised gates only.

Times are the min and median over --rounds rounds. Run from the repository root:
    .venv/bin/python benchmarks/engine_throughput.py
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads BLAS

import argparse  # noqa: E402
import heapq  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from snnc.backends import engine  # noqa: E402
from snnc.backends.sfq import lower  # noqa: E402
from snnc.backends.sfq.cells import cells, layer_timing  # noqa: E402
from snnc.backends.sfq.neurons import SfqNeuron  # noqa: E402
from snnc.hw_models import load_chip  # noqa: E402
from snnc.ir import nodes as n  # noqa: E402
from snnc.options import SimOptions  # noqa: E402

SEED = 0


def layer(size: int, rng) -> np.ndarray:
    pulses = rng.integers(1, 16, (size, size))
    return np.where(rng.random((size, size)) < 0.3, pulses, 0)


def emulate(pulses, sent, lib):
    """snnc: the layer's PulseGates over all steps at once -> delivered (steps, n_out)."""
    l_ = lower.Layer("l", "m", "in", "out", "exc", pulses, np.zeros_like(pulses), 0)
    target, source = np.nonzero(pulses)
    syn = engine.Synapses(*pulses.shape, target, source, pulses[target, source])
    gates = lower.gates(l_, syn, lib, lower.Settings("deterministic", False, 1), 1)
    runner = gates.start(syn, len(sent), 1, np.random.default_rng(0))
    partial = syn.deliver(sent, "sparse").reshape(len(sent), 1, 1, -1)
    got = runner.deliver(partial, sent[:, None, :], 0)
    return got[:, 0, 0], runner.counts()


def heapq_simulate(pulses, sent, lib):
    """The peer: every pulse cell by cell through a heapq (PyLSE-style discrete events)."""
    n_out, n_in = pulses.shape
    t = layer_timing(pulses, np.zeros_like(pulses), lib)
    d = lib.delay
    fan = {j: np.flatnonzero(t.source == j) for j in range(n_in)}  # synapse ids per source
    delivered = np.zeros((len(sent), n_out), np.int64)
    last = {}  # merger -> tick of the last pulse it passed
    collisions, seq, queue, period = 0, 0, [], 10 ** 7
    for step in range(len(sent)):
        for j in np.flatnonzero(sent[step]):
            if len(fan[j]):
                queue.append((step * period, seq, "split", int(j), 0, 0, len(fan[j])))
                seq += 1
    heapq.heapify(queue)
    while queue:
        event = heapq.heappop(queue)
        tick, _, cell = event[:3]
        if cell == "split":  # a splitter level: (source, level, lo, hi) of its synapses
            j, level, lo, hi = event[3:]
            if level == t.split_depth[j]:
                s = int(fan[j][lo])
                heapq.heappush(queue, (tick + d["jtl"], seq, "wire", s, 1))
                seq += 1
                continue
            mid = max(lo + 1, (lo + hi + 1) // 2) if hi - lo > 1 else hi
            for a, b in ((lo, mid), (mid, hi)):
                if a < b:
                    heapq.heappush(queue, (tick + d["splitter"], seq, "split", j, level + 1,
                                           a, b))
                    seq += 1
        elif cell == "wire":
            s, stage = event[3:]
            if stage < t.wires[s]:
                heapq.heappush(queue, (tick + d["jtl"], seq, "wire", s, stage + 1))
                seq += 1
            else:
                for k in range(int(pulses[t.target[s], t.source[s]])):  # the gate's train
                    heapq.heappush(queue, (tick + d["gate"] + k * lib.spacing, seq, "merge",
                                           s, 0))
                    seq += 1
        else:  # a pulse reaching merger level ``level`` + 1 of its tree (or the neuron)
            s, level = event[3:]
            if level == t.tree_depth[s]:
                delivered[tick // period, t.target[s]] += 1
                continue
            key = (int(t.target[s]), level, int(t.leaf[s]) >> (level + 1))
            if key in last and tick - last[key] < lib.window:
                collisions += 1
                continue
            last[key] = tick
            heapq.heappush(queue, (tick + d["merger"], seq, "merge", s, level + 1))
            seq += 1
    return delivered, collisions


def timed(rounds, fn):
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), result


def pulses_benchmark(args, lib) -> None:
    rng = np.random.default_rng(SEED)
    pulses = layer(args.n, rng)
    sent = rng.random((args.steps, args.n)) < args.activity
    fast = timed(args.rounds, lambda: emulate(pulses, sent, lib))
    slow = timed(args.rounds, lambda: heapq_simulate(pulses, sent, lib))
    (got, counts), (want, lost) = fast[2], slow[2]
    if not (np.array_equal(got, want) and int(counts["collisions"].sum()) == lost):
        raise SystemExit("FAIL: the emulation and the heapq simulator deliver different pulses")
    print(f"pulses: {args.n}x{args.n} layer, {args.steps} steps, {int(counts['pulses_in'].sum())}"
          f" pulses into gates, {int(got.sum())} delivered, {lost} lost to collisions "
          f"(identical in both)")
    print(f"  snnc PulseGates   min {fast[0] * 1e3:9.2f} ms  median {fast[1] * 1e3:9.2f} ms")
    print(f"  heapq per pulse   min {slow[0] * 1e3:9.2f} ms  median {slow[1] * 1e3:9.2f} ms")
    print(f"  speed-up          min {slow[0] / fast[0]:9.1f} x  median {slow[1] / fast[1]:9.1f} x"
          f"  [{verdict(slow[1] / fast[1] >= 100)}: >= 100x]")
    print(f"  pulse path rate   {int(counts['pulses_in'].sum()) / fast[1]:.3g} pulses/s (median)")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def counter_network(width: int, weights: np.ndarray | None) -> engine.Network:
    cell = SfqNeuron(n.IF(r=np.ones(width), v_threshold=np.full(width, 1e9),
                          v_reset=np.zeros(width)), SimOptions(), 1.0, np.zeros(width))
    cell.ports = ()  # one port: the plain sum
    syn = engine.Synapses.from_dense(np.ones((width, width), np.int64) if weights is None
                                     else weights)
    return engine.Network((engine.Population("in", width), engine.Population("out", width,
                                                                            _OnePort(cell))),
                          (engine.Connection("c", "in", "out", syn, 0),), dtype=np.float64)


def _two_ports(summed: np.ndarray) -> np.ndarray:
    """One port's sums as the cell's (exc, inh) pair, inh empty."""
    return np.stack([summed, np.zeros_like(summed)], axis=-3)


class _OnePort:
    """The SFQ cell with its two ports folded into one (identity synapses deliver one sum)."""

    state_vars = ("v",)

    def __init__(self, model):
        self.model = model

    def start(self, size, batch, bound):
        runner = self.model.start(size, batch, bound)
        step, scan = runner.step, runner.scan
        runner.step = lambda a: step(_two_ports(a))
        runner.scan = lambda a, probe: scan(_two_ports(a), probe)
        return runner


def engine_benchmark(args) -> None:
    rng = np.random.default_rng(SEED)
    width = args.width
    activity = max(args.activity, 1e4 / width ** 2 * 1.2)
    sparse = np.where(rng.random((width, width)) < 0.05, rng.integers(1, 16, (width, width)), 0)
    print(f"engine: Input({width}) -> {width}, {args.steps} steps, one core")
    for label, weights, rate in (("dense, all ones", None, activity),
                                 ("5 % random 1..15", sparse, min(1.0, 20 * activity))):
        net = counter_network(width, weights)
        feeds = {"in": rng.random((args.steps, 1, width)) < rate}
        best, median, trace = timed(args.rounds, lambda: engine.run(net, feeds, args.steps))
        events = int(trace.counters.totals()["synaptic_events"])
        print(f"  {label:<17} {events / args.steps:9.3g} synaptic events per step: "
              f"best {events / best:.3g}/s  median {events / median:.3g}/s  "
              f"[{verdict(events / median >= 5e7 and events / args.steps >= 1e4)}: "
              ">= 5e7/s at >= 1e4 per step]")
    tiny, steps = counter_network(1, None), 20000
    feeds = {"in": rng.random((steps, 1, 1)) < 0.5}
    for schedule in ("auto", "step"):
        best, median, _ = timed(args.rounds, lambda: engine.run(tiny, feeds, steps,
                                                                 schedule=schedule))
        print(f"  per-step overhead ({schedule:>4}, 1 -> 1 network)  min "
              f"{best / steps * 1e6:.2f} us  median {median / steps * 1e6:.2f} us  "
              f"[{verdict(median / steps <= 20e-6)}: <= 20 us]")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description="SFQ pulse emulation vs a PyLSE-style heapq simulator, and the engine's "
                    "synaptic throughput and per-step overhead (one core).")
    parser.add_argument("--n", type=int, default=128, help="pulse layer size (n x n)")
    parser.add_argument("--steps", type=int, default=40, help="timesteps per run")
    parser.add_argument("--activity", type=float, default=0.1,
                        help="spike probability per source and step")
    parser.add_argument("--width", type=int, default=1000, help="engine layer width")
    parser.add_argument("--rounds", type=int, default=5,
                        help="timed rounds per measurement (min and median reported)")
    args = parser.parse_args(argv)
    lib = cells(load_chip("sfq_rsfq"))
    pulses_benchmark(args, lib)
    engine_benchmark(args)


if __name__ == "__main__":
    main()
