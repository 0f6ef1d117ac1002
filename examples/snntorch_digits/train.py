"""Train a small Leaky network on the 8x8 digits with snnTorch 1.0.0, then check snnc on it.

Same data and encoding as ``examples/digits`` (its data.py: 40 steps of Bernoulli spikes, one
fixed encoding of the test split); the network is model.py's. Training: Adam on snnTorch's
``ce_rate_loss`` (cross-entropy of the output spikes at every step) through snnTorch's default
arctan surrogate gradient; the predicted class is the output neuron with the most spikes.

Writes model.pt (the state dict) next to this file, then measures test accuracy with snnTorch
and with snnc (``from_snntorch`` + the reference simulator) and compares their spike counts.

Run from the repository root:  .venv/bin/python examples/snntorch_digits/train.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from snntorch import functional, utils

# appended, not prepended: examples/digits has a model.py of its own (the Norse network)
sys.path.append(str(Path(__file__).resolve().parents[1] / "digits"))
from data import encode, load_split, test_set  # noqa: E402
from model import HERE, make_model, trained  # noqa: E402

from snnc.backends.reference import simulate  # noqa: E402
from snnc.frontends.snntorch import from_snntorch  # noqa: E402
from snnc.options import SimOptions  # noqa: E402

EPOCHS, BATCH, LR, SEED = 30, 128, 5e-3, 0


def run(model: torch.nn.Sequential, spikes: torch.Tensor) -> torch.Tensor:
    """Output spikes (steps, batch, 10) for input spikes (steps, batch, 64), from rest."""
    utils.reset(model)
    return torch.stack([model(x) for x in spikes])


def train(model: torch.nn.Sequential, x_train: np.ndarray, y_train: np.ndarray) -> None:
    rng = np.random.default_rng(SEED)  # fresh spike trains every epoch, reproducibly
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = functional.ce_rate_loss()
    labels = torch.from_numpy(y_train)
    torch.set_flush_denormal(True)  # subnormal gradients slow x86 down ~10x; training only
    for epoch in range(EPOCHS):
        spikes = torch.from_numpy(encode(x_train, rng))
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            loss = loss_fn(run(model, spikes[:, idx]), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1:2d}  loss {total / len(order):.4f}")
    torch.set_flush_denormal(False)


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    x_train, _, y_train, _ = load_split()
    model = make_model()
    start = time.perf_counter()
    train(model, x_train, y_train)
    print(f"training: {time.perf_counter() - start:.1f} s")
    torch.save(model.state_dict(), HERE / "model.pt")

    module, sample = trained()  # what the CLI loads: model.py:trained
    spikes, labels = test_set()
    with torch.no_grad():
        snntorch_counts = run(module, torch.from_numpy(spikes)).sum(0).numpy()
    graph = from_snntorch(module, sample)  # dt = 1e-4 s, as the CLI reads it: any dt gives the
    dt = graph.metadata["dt"]              # same spikes, since tau = dt / (1 - beta)
    snnc_counts = simulate(graph, spikes, SimOptions(dt=dt)).outputs["output"].sum(0)

    # argmax breaks ties toward the lower class, the same way for both
    for name, counts in (("snnTorch", snntorch_counts), ("snnc reference", snnc_counts)):
        print(f"test accuracy ({name}): {np.mean(counts.argmax(1) == labels):.4f}")
    same = np.all(snntorch_counts == snnc_counts, axis=1)
    print(f"output spike counts identical on {same.sum()} of {len(same)} test samples")


if __name__ == "__main__":
    main()
