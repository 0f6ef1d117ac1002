"""Synaptic events per second of the RRAM crossbar emulation against snnc's float reference
on the same compiled network in the same run.

Networks (seeded float weights, Bernoulli(p) input spikes, dt = 1e-3, LIF neurons):
  feedforward  256 -> 512 -> 256 (dense): 32 arrays of 128x128 on ``rram``; the engine runs
               it layer by layer over all steps (one batched read per layer);
  recurrent    the zero-shot LSM reservoir shape: 64 -> 200 LIF with 200 x 200 recurrent
               weights (12 arrays); step by step.
Each is compiled once for the chip (4-bit conductance levels) and then simulated by
  rram         the chip's default devices: programming error, faults, read noise redrawn on
               every read, 5-bit ADCs shared by 8 columns (the crossbar path, ``crossbar``);
  rram ideal   ``--device ideal=true``: exact reads (the reference's own arithmetic on the
               engine);
  reference    ``snnc.backends.reference`` on the same compiled graph.
A synaptic event is one spike crossing one synapse (a spike x its fan-out nonzeros), counted
from each run's own spikes. Times: min and median over --rounds rounds after one warm-up.
The crossbar path is vectorized over row tiles, steps x batch and rows (one batched matmul
per layer and chunk); no Python loop runs per neuron, row or sample.

Run from the repository root:  .venv/bin/python benchmarks/rram_crossbar.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from snnc.backends import get_target
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

OPTIONS = SimOptions(dt=1e-3)
IDEAL = dataclasses.replace(OPTIONS, device=(("ideal", "true"),))


def lif(size: int) -> n.LIF:
    ones = np.ones(size)
    return n.LIF(tau=2e-2 * ones, r=ones, v_leak=0 * ones, v_threshold=ones, v_reset=0 * ones)


def feedforward(rng, p: float) -> Graph:
    w1 = rng.normal(0.0, 3.0 / np.sqrt(256 * p), (512, 256))
    w2 = rng.normal(0.0, 3.0 / np.sqrt(512 * p), (256, 512))
    return Graph(nodes={"input": n.Input(shape=(256,)), "fc1": n.Linear(weight=w1),
                        "lif1": lif(512), "fc2": n.Linear(weight=w2), "lif2": lif(256),
                        "output": n.Output(shape=(256,))},
                 edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
                        ("lif2", "output")])


def recurrent(rng, p: float) -> Graph:
    w_in = rng.normal(0.0, 3.0 / np.sqrt(64 * p), (200, 64))
    w_rec = rng.normal(0.0, 0.9 / np.sqrt(200), (200, 200))
    return Graph(nodes={"input": n.Input(shape=(64,)), "w_in": n.Linear(weight=w_in),
                        "lif": lif(200), "w_rec": n.Linear(weight=w_rec),
                        "output": n.Output(shape=(200,))},
                 edges=[("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"),
                        ("w_rec", "lif"), ("lif", "output")])


def synaptic_events(graph: Graph, recording, spikes: np.ndarray) -> int:
    """Sum over matrices of the source's spikes x the matrix's nonzeros per source unit."""
    total = 0
    for name, node in graph.nodes.items():
        if not isinstance(node, n.MATRICES):
            continue
        (source,) = graph.predecessors(name)
        fanout = np.count_nonzero(node.weight, axis=0)
        sent = (spikes.reshape(*spikes.shape[:2], -1).sum(axis=(0, 1))
                if source == "input" else recording.activity[source])
        total += int(np.asarray(sent, np.int64) @ fanout)
    return total


def timed(rounds: int, fn):
    fn()  # warm-up: caches, lowering
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), result


def measure(label: str, graph: Graph, args) -> None:
    rng = np.random.default_rng(1)
    n_in = graph.nodes["input"].shape[0]
    spikes = (rng.random((args.steps, args.batch, n_in)) < args.p).astype(np.float32)
    target, reference = get_target("rram"), get_target("reference")
    compiled, _ = target.compile(graph, OPTIONS)
    runs = {"rram": lambda: target.simulate(compiled, spikes, OPTIONS),
            "rram ideal": lambda: target.simulate(compiled, spikes, IDEAL),
            "reference": lambda: reference.simulate(compiled, spikes, OPTIONS)}
    got = {}
    for name, run in runs.items():
        best, median, recording = timed(args.rounds, run)
        if name == "reference":  # the reference keeps no activity: count from rram ideal's
            events = got["rram ideal"][2]  # spikes, which are the reference's bit for bit
        else:
            events = synaptic_events(compiled, recording, spikes)
        got[name] = (best, median, events)
    print(f"{label}: {args.steps} steps x batch {args.batch}, input p = {args.p}")
    for name, (best, median, events) in got.items():
        print(f"  {name:11} min {best * 1e3:8.1f} ms  median {median * 1e3:8.1f} ms  "
              f"{events / median:9.3g} events/s (median)  {events / best:9.3g} (min)")
    rram, ref = got["rram"], got["reference"]
    print(f"  rram / reference events/s: min-time ratio {(rram[2] / rram[0]) / (ref[2] / ref[0]):.3f}"
          f", median-time ratio {(rram[2] / rram[1]) / (ref[2] / ref[1]):.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (min, median)")
    parser.add_argument("--steps", type=int, default=100, help="timesteps per run")
    parser.add_argument("--batch", type=int, default=64, help="input sequences per run")
    parser.add_argument("--p", type=float, default=0.1, help="input spike probability")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    measure("feedforward 256-512-256", feedforward(rng, args.p), args)
    measure("recurrent 64-200 (LSM reservoir)", recurrent(rng, args.p), args)


if __name__ == "__main__":
    main()
