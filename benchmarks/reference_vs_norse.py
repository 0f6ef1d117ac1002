"""Time per simulation step: snnc's float reference simulator against Norse 1.1.0's forward pass.

The network is a 3-layer LIF MLP, (Linear(512 -> 512) -> LIFBoxCell) three times, with seeded
random float32 weights and seeded Bernoulli(p=0.1) input spikes, run for --steps steps at batch 1
and batch 64 with dt = 1e-3 s. Norse runs step by step under torch.no_grad() (``out, state =
model(x[t], state)``) with torch's default thread count; snnc simulates the same network, built
directly as an IR graph, with ``snnc.backends.reference.simulate``. Each side is warmed up once,
then the best of --repeats runs is kept. The output spikes of both must be identical.

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


def best_time(fn, repeats: int):
    result = fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs; {LAYERS} x Linear({WIDTH}->{WIDTH}) + LIFBoxCell, "
          f"{args.steps} steps, dt={DT}, best of {args.repeats}")
    rng = np.random.default_rng(SEED)
    weights = make_weights(rng)
    p = LIFBoxParameters()
    model, graph = norse_model(weights, p), snnc_graph(weights, p)
    options = SimOptions(dt=DT)

    print(f"{'batch':>5} | {'Norse ms/step':>13} | {'snnc ms/step':>12} | {'ratio':>6} | "
          f"{'spikes identical':<16} | out rate")
    for batch in BATCHES:
        x = (rng.random((args.steps, batch, WIDTH)) < P_SPIKE).astype(np.float32)
        x_torch = torch.from_numpy(x)
        t_norse, z_norse = best_time(lambda: run_norse(model, x_torch), args.repeats)
        t_snnc, rec = best_time(lambda: simulate(graph, x, options), args.repeats)
        z_snnc = rec.outputs["output"]
        mismatches = int((z_norse.numpy() != z_snnc).sum())
        same = "yes" if mismatches == 0 else f"NO ({mismatches} differ)"
        ms_norse, ms_snnc = 1e3 * t_norse / args.steps, 1e3 * t_snnc / args.steps
        print(f"{batch:>5} | {ms_norse:>13.4f} | {ms_snnc:>12.4f} | {ms_norse / ms_snnc:>6.2f} | "
              f"{same:<16} | {z_snnc.mean():.3f}")


if __name__ == "__main__":
    main()
