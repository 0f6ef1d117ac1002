"""Each RRAM non-ideality, switched on alone from ideal devices, lowers the agreement with the
reference of the same compiled graph, monotonically as it grows.

Workload: the digits example (``examples/digits``, 64 test images x 40 steps, dt 1e-3),
compiled for ``rram`` (4-bit levels), run with every other non-ideality off. Agreement is
the share of equal output spikes (``output_agreement``), averaged over the device instances
of seeds 0..3 (one instance for the deterministic effects: levels, drift, ADC).

Measured (seeds 0..5, mean +- std over seeds), the value ideal first:
  programming x chip curve  0, 1, 3, 9        1.0, 0.964+-0.001, 0.952+-0.004, 0.898+-0.019
  read noise (of G)         0, 0.03, 0.1, 0.3 1.0, 0.981+-0.001, 0.971+-0.001, 0.963+-0.001
  stuck at g_on             0, 0.3%, 1%, 3%   1.0, 0.979+-0.001, 0.964+-0.003, 0.949+-0.008
  stuck at g_off            0, 1%, 3%, 10%    1.0, 0.982+-0.003, 0.972+-0.002, 0.962+-0.001
  levels per device         16, 8, 2          1.0, 0.965, 0.938        (deterministic)
  drift time (s)            0, 1e2, 1e4, 1e8  1.0, 0.972, 0.965, 0.958 (deterministic)
  ADC bits                  0, 8, 5, 3        1.0, 0.991, 0.972, 0.967 (deterministic)
The smallest gap between neighbours is 0.005 (ADC 5 -> 3 bits, deterministic); for the
random effects it is 0.010 (stuck_off 3% -> 10%), against a standard error of the 4-seed
mean of about 0.001 there (0.009 at most, programming 9x, whose gap is 0.053). The margin,
0.003, sits below every gap and far above a deterministic effect's run-to-run noise (none:
the same seed gives the same spikes), so a non-ideality that stops lowering agreement fails.
Levels start at 16 because the compiled graph holds 16 levels: 16 device levels are exact.
"""
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target
from snnc.frontends import load_model
from snnc.options import SimOptions
from snnc.passes.fidelity import output_agreement

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
OPTIONS = SimOptions(dt=1e-3)
OFF = dict(levels=0, programming=0, read_noise=0, stuck_on=0, stuck_off=0, drift_time=0,
           wire_resistance=0, adc_bits=0)
MARGIN = 0.003
SEEDS = range(4)

SWEEPS = {  # key: values, mildest first (the first is the ideal device)
    "programming": (0, 1, 3, 9),
    "read_noise": (0, 0.03, 0.1, 0.3),
    "stuck_on": (0, 0.003, 0.01, 0.03),
    "stuck_off": (0, 0.01, 0.03, 0.1),
    "levels": (16, 8, 2),
    "drift_time": (0, 1e2, 1e4, 1e8),
    "adc_bits": (0, 8, 5, 3),
}
RANDOM = {"programming", "read_noise", "stuck_on", "stuck_off"}


@pytest.fixture(scope="module")
def digits():
    target = get_target("rram")
    graph = load_model(DIGITS / "digits.nir")
    with np.load(DIGITS / "test_spikes.npz") as data:
        spikes = data["spikes"]
    compiled, _ = target.compile(graph, OPTIONS)
    reference = get_target("reference").simulate(compiled, spikes, OPTIONS).outputs
    return target, compiled, spikes, reference


def agreement(digits, key, value) -> float:
    target, compiled, spikes, reference = digits
    device = tuple((k, str(v)) for k, v in {**OFF, key: value}.items())
    seeds = SEEDS if key in RANDOM else (0,)
    runs = [target.simulate(compiled, spikes,
                            dataclasses.replace(OPTIONS, seed=s, device=device)).outputs
            for s in seeds]
    return float(np.mean([output_agreement(reference, out) for out in runs]))


@pytest.mark.parametrize("key", sorted(SWEEPS))
def test_each_nonideality_lowers_agreement_monotonically(digits, key):
    got = [agreement(digits, key, value) for value in SWEEPS[key]]
    assert got[0] == 1.0, (key, got)  # alone at its ideal value: the reference exactly
    for value, milder, worse in zip(SWEEPS[key][1:], got, got[1:]):
        assert worse < milder - MARGIN, (key, value, got)
