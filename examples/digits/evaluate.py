"""Test accuracy of digits.nir under snnc's reference simulator, or of a program compiled
from it on the program's target (e.g. loihi2, emulated bit-accurately); no torch needed.

Encodes the test split exactly as train.py did (data.py, same seed), simulates the whole split
with dt = 1 ms and predicts the output neuron with the most spikes.

Run from the repository root:  .venv/bin/python examples/digits/evaluate.py [MODEL]
(MODEL: digits.nir by default, or e.g. the program directory `make run` compiles, out/digits)
"""
import sys
from pathlib import Path

import numpy as np

from data import DT, test_set
from snnc.backends import get_target
from snnc.frontends import load_model
from snnc.options import SimOptions
from snnc.program import is_program, read_program

model = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "digits.nir"
program = read_program(model) if is_program(model) else None
graph = program.graph if program else load_model(model)
target = program.target if program else "reference"
spikes, labels = test_set()
run = get_target(target).simulate(graph, spikes, SimOptions(dt=DT))
counts = run.outputs[graph.outputs[0]].sum(0)
print(f"test accuracy of {Path(model).name} (snnc {target}, {len(labels)} images): "
      f"{np.mean(counts.argmax(1) == labels):.4f}")
