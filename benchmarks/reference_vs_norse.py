"""Time per simulation step: snnc's float reference simulator against Norse 1.1.0's forward pass.

The network is a 3-layer LIF MLP, (Linear(512 -> 512) -> LIFBoxCell) three times, with seeded
random float32 weights and seeded Bernoulli(p=0.1) input spikes, run for --steps steps at batch 1
and batch 64 with dt = 1e-3 s. Norse runs step by step under torch.no_grad()
(``out, state = model(x[t], state)``), with torch's default thread count and with one thread;
snnc simulates the same network, built directly as an IR graph, with
``snnc.backends.reference.simulate``. Each is warmed up once, then the three are timed in turn
for --repeats rounds and each one's best round is kept.

The output spikes are compared too. The neuron updates match Norse bit for bit, but the matrix
products do not (numpy's OpenBLAS and torch's MKL sum in different orders), so a membrane that
lands within a rounding error of the threshold can fire on one side only.

Run from the repository root:  .venv/bin/python benchmarks/reference_vs_norse.py
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from norse.torch import LIFBoxCell, LIFBoxParameters, SequentialState

from snnc.backends.reference import simulate
from snnc.ir import LIF, Affine, Graph, Input, Output
from snnc.options import SimOptions

WIDTH, LAYERS, DT, P_SPIKE, SEED = 512, 3, 1e-3, 0.1, 0
BATCHES = (1, 64)


def make_weights(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer (W, b) in float32, scaled so that every layer fires on ~10% of its steps."""
    scale = 6.0 / np.sqrt(WIDTH * P_SPIKE)
    return [(rng.normal(0.01, scale, (WIDTH, WIDTH)).astype(np.float32),
             rng.normal(0.0, 0.1, WIDTH).astype(np.float32)) for _ in range(LAYERS)]


def norse_model(weights, p: LIFBoxParameters) -> SequentialState:
    modules = []
    for w, b in weights:
        linear = torch.nn.Linear(WIDTH, WIDTH)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, LIFBoxCell(p, dt=DT)]
    return SequentialState(*modules)


def snnc_graph(weights, p: LIFBoxParameters) -> Graph:
    """Norse LIFBoxCell(p) -> LIF(tau=1/tau_mem_inv, r=1, v_leak, v_threshold=v_th, v_reset)."""
    full = lambda value: np.full(WIDTH, float(value))  # noqa: E731
    nodes, chain = {"input": Input(shape=(WIDTH,))}, ["input"]
    for i, (w, b) in enumerate(weights):
        nodes[f"fc{i}"] = Affine(weight=w, bias=b)
        nodes[f"lif{i}"] = LIF(tau=1.0 / full(p.tau_mem_inv), r=full(1.0), v_leak=full(p.v_leak),
                               v_threshold=full(p.v_th), v_reset=full(p.v_reset))
        chain += [f"fc{i}", f"lif{i}"]
    nodes["output"] = Output(shape=(WIDTH,))
    chain.append("output")
    return Graph(nodes=nodes, edges=tuple(zip(chain[:-1], chain[1:])))


def run_norse(model: SequentialState, x: torch.Tensor) -> torch.Tensor:
    out, state = [], None
    with torch.no_grad():
        for t in range(len(x)):
            z, state = model(x[t], state)
            out.append(z)
    return torch.stack(out)


def one_thread(fn):
    def run():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(threads)
    return run


def best_times(fns: dict, repeats: int) -> tuple[dict, dict]:
    """Warm each up once, then time them in turn, round by round (so that a busy spell of the
    machine hits all alike); keep each one's best round."""
    results = {name: fn() for name, fn in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    threads = torch.get_num_threads()
    print(f"torch {torch.__version__} ({threads} threads), numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs; {LAYERS} x (Linear({WIDTH}->{WIDTH}) -> LIFBoxCell), "
          f"{args.steps} steps, dt={DT}, best of {args.repeats}")
    rng = np.random.default_rng(SEED)
    weights = make_weights(rng)
    p = LIFBoxParameters()
    model, graph = norse_model(weights, p), snnc_graph(weights, p)
    options = SimOptions(dt=DT)

    row = "{:>5} | {:>16} | {:>16} | {:>12} | {:>5} | {:>13} | {:<16} | {}"
    print(row.format("batch", f"Norse ({threads} thr)", "Norse (1 thr)", "snnc", "ratio",
                     "ratio (1 thr)", "spikes identical", "output rate"))
    print(row.format("", "ms/step", "ms/step", "ms/step", "", "", "", ""))
    for batch in BATCHES:
        x = (rng.random((args.steps, batch, WIDTH)) < P_SPIKE).astype(np.float32)
        x_torch = torch.from_numpy(x)
        norse = lambda: run_norse(model, x_torch)  # noqa: E731
        best, results = best_times({"norse": norse, "norse1": one_thread(norse),
                                    "snnc": lambda: simulate(graph, x, options)}, args.repeats)
        z_snnc = results["snnc"].outputs["output"]
        mismatches = int((results["norse"].numpy() != z_snnc).sum())
        same = "yes" if mismatches == 0 else f"NO ({mismatches} differ)"
        norse_ms, norse1_ms, snnc_ms = (1e3 * best[k] / args.steps for k in best)
        print(row.format(batch, f"{norse_ms:.4f}", f"{norse1_ms:.4f}", f"{snnc_ms:.4f}",
                         f"{norse_ms / snnc_ms:.2f}", f"{norse1_ms / snnc_ms:.2f}", same,
                         f"{z_snnc.mean():.3f}"))


if __name__ == "__main__":
    main()
