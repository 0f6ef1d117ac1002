"""Test accuracy of digits.nir under snnc's reference simulator (no torch needed).

Encodes the test split exactly as train.py did (data.py, same seed), simulates the whole split
with dt = 1 ms and predicts the output neuron with the most spikes.

Run from the repository root:  .venv/bin/python examples/digits/evaluate.py
"""
from pathlib import Path

import numpy as np

from data import DT, test_set
from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.options import SimOptions

graph = load_model(Path(__file__).resolve().parent / "digits.nir")
spikes, labels = test_set()
counts = simulate(graph, spikes, SimOptions(dt=DT)).outputs[graph.outputs[0]].sum(0)
print(f"test accuracy (snnc reference, {len(labels)} images): "
      f"{np.mean(counts.argmax(1) == labels):.4f}")
