"""Train a small LIF network on the 8x8 digits with Norse 1.1.0, export it to NIR, check snnc.

Network: Linear(64 -> 128) -> LIFBoxCell -> Linear(128 -> 10) -> LIFBoxCell, run for 40 steps
of dt = 1 ms on Bernoulli-encoded images (data.py); the predicted class is the output neuron
with the most spikes. Training: Adam on the cross-entropy of the output spike counts (scaled
down, see LOGIT_SCALE), through Norse's SuperSpike surrogate gradient.

Writes, next to this file: digits.nir (the trained model) and test_spikes.npz (the first 64
encoded test images, input for ``snnc simulate``). Then measures test accuracy with Norse and
with snnc's reference simulator on the whole test split, and compares their output spikes.

Run from the repository root:  .venv/bin/python examples/digits/train.py
"""
from __future__ import annotations

import time
from pathlib import Path

import nir
import numpy as np
import torch
from norse.torch import LIFBoxCell, LIFBoxParameters, SequentialState

from data import DT, encode, load_split, test_set
from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.options import SimOptions

HERE = Path(__file__).resolve().parent
HIDDEN, EPOCHS, BATCH, LR, SEED = 128, 60, 128, 1e-2, 0
LOGIT_SCALE = 0.25  # counts reach 40: raw, they saturate the softmax and stall learning
INIT_GAIN = 10.0    # with torch's default init both layers stay silent, so no gradient flows
# Norse's default LIF: tau_mem = 10 ms, threshold 1, leak and reset to 0.
P = LIFBoxParameters(tau_mem_inv=torch.tensor(100.0), v_leak=torch.tensor(0.0),
                     v_th=torch.tensor(1.0), v_reset=torch.tensor(0.0))


def make_model() -> SequentialState:
    fc1, fc2 = torch.nn.Linear(64, HIDDEN), torch.nn.Linear(HIDDEN, 10)
    with torch.no_grad():
        fc1.weight.mul_(INIT_GAIN)
        fc2.weight.mul_(INIT_GAIN)
    return SequentialState(fc1, LIFBoxCell(P, dt=DT), fc2, LIFBoxCell(P, dt=DT))


def run(model: SequentialState, spikes: torch.Tensor) -> torch.Tensor:
    """Output spikes (steps, batch, 10) for input spikes (steps, batch, 64)."""
    state, out = None, []
    for x in spikes:
        z, state = model(x, state)
        out.append(z)
    return torch.stack(out)


def train(model: SequentialState, x_train: np.ndarray, y_train: np.ndarray) -> None:
    rng = np.random.default_rng(SEED)  # fresh spike trains every epoch, reproducibly
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    labels = torch.from_numpy(y_train)
    # Gradients and Adam's moments underflow to subnormal floats, which make x86 CPUs ~10x
    # slower. Flushed for training only: evaluation keeps IEEE arithmetic, as numpy does.
    torch.set_flush_denormal(True)
    for epoch in range(EPOCHS):
        spikes = torch.from_numpy(encode(x_train, rng))
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            counts = run(model, spikes[:, idx]).sum(0)
            loss = torch.nn.functional.cross_entropy(LOGIT_SCALE * counts, labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:2d}  loss {total / len(order):.4f}")
    torch.set_flush_denormal(False)


def to_nir(model: SequentialState) -> nir.NIRGraph:
    """The trained model as NIR, built from its weights with numpy arrays.

    Not norse.torch.to_nir: Norse 1.1.0's exporter writes tau = dt / tau_mem_inv (dt times the
    time constant), omits v_reset and stores torch tensors and 0-d parameters. Here
    LIFBoxCell(p) -> LIF(tau=1/tau_mem_inv s, r=1, v_leak, v_threshold=v_th, v_reset).
    """
    def lif(n: int) -> nir.LIF:
        full = lambda value: np.full(n, float(value), dtype=np.float32)  # noqa: E731
        return nir.LIF(tau=full(1.0 / float(P.tau_mem_inv)), r=full(1.0), v_leak=full(P.v_leak),
                       v_threshold=full(P.v_th), v_reset=full(P.v_reset))

    def affine(layer: torch.nn.Linear) -> nir.Affine:
        return nir.Affine(layer.weight.detach().numpy(), layer.bias.detach().numpy())

    nodes = {"input": nir.Input(input_type={"input": np.array([64])}),
             "fc1": affine(model[0]), "lif1": lif(HIDDEN),
             "fc2": affine(model[2]), "lif2": lif(10),
             "output": nir.Output(output_type={"output": np.array([10])})}
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:])))


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    x_train, _, y_train, _ = load_split()
    model = make_model()
    start = time.perf_counter()
    train(model, x_train, y_train)
    print(f"training: {time.perf_counter() - start:.1f} s")

    torch.save(model.state_dict(), HERE / "norse_digits.pt")  # for model.py:trained
    path = HERE / "digits.nir"
    nir.write(path, to_nir(model))
    nir.read(path)  # nir's own reader, with its type checks, must accept the file

    spikes, labels = test_set()
    np.savez_compressed(HERE / "test_spikes.npz", spikes=spikes[:, :64], labels=labels[:64])

    with torch.no_grad():
        norse_counts = run(model, torch.from_numpy(spikes)).sum(0).numpy()
    graph = load_model(path)
    record = simulate(graph, spikes, SimOptions(dt=DT))
    snnc_counts = record.outputs[graph.outputs[0]].sum(0)

    # argmax breaks ties toward the lower class, the same way for both
    for name, counts in (("Norse", norse_counts), ("snnc reference", snnc_counts)):
        print(f"test accuracy ({name}): {np.mean(counts.argmax(1) == labels):.4f}")
    same = np.all(norse_counts == snnc_counts, axis=1)
    print(f"output spike counts identical on {same.sum()} of {len(same)} test samples")


if __name__ == "__main__":
    main()
