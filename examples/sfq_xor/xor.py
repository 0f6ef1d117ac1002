"""The seed paper's case study on the SFQ target: a multi-layer rate-coded XOR network with
stochastic synapses (Krylov, Edwards, Friedman & Friedman, arXiv:2311.10721), compiled and
emulated pulse by pulse, with its classification margins over trials.

Rate coding: an input bit is a pulse train, 1 = a pulse in 90 % of steps, 0 = 5 %. Three
layers: the hidden OR cell fires on any input pulse that passes its gate (p = 0.8), the AND
cell only when both inputs pulse in a step; the output fires on OR and not AND (its AND
synapse is inhibitory).
The weights are set by hand (the paper proposes several training methods; none is needed
for XOR), the cells are memoryless (tau = dt: v is the step's input), and each synapse is a
stochastic pass gate: its weight is a pass probability x one pulse's worth.

Run:  .venv/bin/python examples/sfq_xor/xor.py [--trials 50] [--steps 100]
      [--serialize false] [--target sfq_ersfq] [--write DIR: DIR/xor.nir, DIR/xor_spikes.npz]
Prints per input pattern the output rate over trials, and the margin: the least rate of a
pattern that should read 1 minus the largest rate of one that should read 0 (positive:
every trial classified correctly by a threshold between them).
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from snnc.backends import get_target
from snnc.backends.sfq.circuit import map_circuit
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

PATTERNS = ((0, 0), (0, 1), (1, 0), (1, 1))
RATE = {0: 0.05, 1: 0.9}
DT = 1e-3


def memoryless(threshold) -> n.LIF:
    size = len(threshold)
    return n.LIF(tau=np.full(size, DT), r=np.ones(size), v_leak=np.zeros(size),
                 v_threshold=np.asarray(threshold, float), v_reset=np.zeros(size))


def xor_graph() -> Graph:
    nodes = {"input": n.Input(shape=(2,)),
             # OR: each input pulse passes w.p. 0.8 and alone crosses 0.5; AND: both needed
             "fc1": n.Linear(weight=np.array([[0.8, 0.8], [1.0, 1.0]])),
             "hidden": memoryless([0.5, 1.5]),
             "fc2": n.Linear(weight=np.array([[1.0, -1.0]])),
             "out": memoryless([0.5]), "output": n.Output(shape=(1,))}
    edges = [("input", "fc1"), ("fc1", "hidden"), ("hidden", "fc2"), ("fc2", "out"),
             ("out", "output")]
    return Graph(nodes=nodes, edges=edges)


def inputs(steps: int, seed: int) -> np.ndarray:
    """(steps, 4 patterns, 2) rate-coded pulse trains."""
    rng = np.random.default_rng(seed)
    rates = np.array([[RATE[a], RATE[b]] for a, b in PATTERNS])
    return (rng.random((steps, len(PATTERNS), 2)) < rates).astype(np.float32)


def write(directory: str, steps: int) -> None:
    """The model as NIR and one input set (the four patterns, seed 0) for ``snnc``."""
    from pathlib import Path

    from snnc.frontends import write_nir

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    write_nir(xor_graph(), out / "xor.nir")
    np.savez_compressed(out / "xor_spikes.npz", spikes=inputs(steps, 0))
    print(f"wrote {out / 'xor.nir'} and {out / 'xor_spikes.npz'}")


def main(argv=None) -> np.ndarray:
    """Runs the trials, prints the table; returns the margin of each trial."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--target", default="sfq")
    parser.add_argument("--serialize", default="true")
    parser.add_argument("--write", help="write xor.nir and xor_spikes.npz (seed 0) here")
    args = parser.parse_args(argv)
    if args.write:
        write(args.write, args.steps)
    target = get_target(args.target)
    options = SimOptions(dt=DT, device=(("serialize", args.serialize),))
    graph, _ = target.compile(xor_graph(), options)
    rates, last = [], None
    for trial in range(args.trials):  # trial k: seed k for the gates and the input trains
        run = dataclasses.replace(options, seed=trial)
        last = target.simulate(graph, inputs(args.steps, trial), run)
        rates.append(last.outputs["output"][:, :, 0].mean(axis=0))
    rates = np.asarray(rates)  # (trials, patterns)
    want = np.array([a ^ b for a, b in PATTERNS], bool)
    print(f"XOR on {args.target} (serialize={args.serialize}), {args.trials} trials x "
          f"{args.steps} steps; output pulse rate per step:")
    for k, (a, b) in enumerate(PATTERNS):
        r = rates[:, k]
        print(f"  {a} xor {b} = {a ^ b}: rate {r.mean():.3f} +- {r.std():.3f} "
              f"[{r.min():.3f}, {r.max():.3f}]")
    margins = rates[:, want].min(axis=1) - rates[:, ~want].max(axis=1)
    worst = rates[:, want].min() - rates[:, ~want].max()
    print(f"  margin per trial (least 1-rate - largest 0-rate): {margins.mean():.3f} +- "
          f"{margins.std():.3f}, least {margins.min():.3f}; over all trials {worst:.3f}")
    totals = last.counters.totals()
    chip = target.chip_model()
    cost = target.family.cost(chip, last, map_circuit(graph, chip))
    print(f"  last trial: {totals['pulses_in']} pulses into gates, {totals['pulses']} "
          f"delivered, {totals['collisions']} lost to collisions")
    for line in cost.lines()[:2]:
        print("  " + line)
    return margins


if __name__ == "__main__":
    main()
