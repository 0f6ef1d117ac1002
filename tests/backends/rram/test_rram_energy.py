"""A hand-countable run: one crossbar (4 inputs x 3 neurons), 7 input spikes on 4 steps,
priced by ``snnc report`` on every RRAM preset, against the figures read from its TOML.

The weights are integer multiples m / 15 of the largest (1.5), so the 4-bit format (16
levels) holds them exactly and each device's conductance is countable by hand: the device on
a weight's side at g_off + |m| / 15 (g_on - g_off), the other at g_off, zeros of used rows
and columns at g_off twice. A pulse on row i reads its 2 x 3 devices; it costs
V_read^2 t_pulse (6 g_off + S_i / 15 (g_on - g_off)), S_i = sum_j |m_ij| (30, 12, 3, 18).
Spikes per row: 2, 2, 1, 2; steps with a spike: 4, each one read of the tile and 3 column
pairs through the ADCs: 12 conversions. The device instance is made nominal (no programming
error, faults, drift, IR drop); read noise and the ADC stay at the preset's values, since
they change no count. Tolerance: 1e-12 relative (float rounding of the same products).
"""
from pathlib import Path

import numpy as np
import pytest

from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.report import report

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HW = Path(__file__).resolve().parents[3] / "hw_models"
UNITS = {"uS": 1e-6, "ns": 1e-9, "pJ": 1e-12, "fJ": 1e-15, "V": 1.0}
M = np.array([[15, 0, -3, 6], [-15, 9, 0, 0], [0, 3, 0, -12]])  # (out, in), units of 0.1
ROW_SUM = np.abs(M).sum(axis=0)  # per input row: 30, 12, 3, 18
SPIKES = {0: (0, 2), 1: (1,), 3: (0, 1, 3), 4: (3,)}  # step: rows pulsed
NOMINAL = (("drift_time", "0"), ("programming", "0"), ("stuck_off", "0"), ("stuck_on", "0"),
           ("wire_resistance", "0"))


def one_crossbar() -> Graph:
    ones = np.ones(3)
    return Graph(nodes={"input": n.Input(shape=(4,)), "fc": n.Linear(weight=M * 0.1),
                        "if": n.IF(r=ones, v_threshold=1e9 * ones, v_reset=0 * ones),
                        "output": n.Output(shape=(3,))},
                 edges=[("input", "fc"), ("fc", "if"), ("if", "output")])


def spike_train() -> np.ndarray:
    x = np.zeros((6, 1, 4), np.float32)
    for step, rows in SPIKES.items():
        x[step, 0, list(rows)] = 1
    return x


def crossbar_figures(chip: str) -> dict[str, float]:
    section = tomllib.loads((HW / f"{chip}.toml").read_text())["crossbar"]
    return {k: section[k]["value"] * UNITS[section[k]["unit"]]
            for k in ("g_on", "g_off", "read_voltage", "read_pulse", "adc_energy",
                      "row_drive_energy")}


@pytest.mark.parametrize("chip", ["rram", "rram_40nm", "rram_neurosim", "rram_crosssim"])
def test_cell_read_and_adc_energies_are_the_hand_count(chip):
    x = spike_train()
    per_row = x.sum(axis=(0, 1))  # 2, 2, 1, 2
    assert per_row.sum() == 7
    f = crossbar_figures(chip)
    row_siemens = 6 * f["g_off"] + ROW_SUM / 15 * (f["g_on"] - f["g_off"])
    cell_energy = f["read_voltage"] ** 2 * f["read_pulse"] * float(per_row @ row_siemens)
    entry = report(one_crossbar(), [chip], SimOptions(dt=1e-3, device=NOMINAL),
                   {"input": x})["targets"][chip]
    terms = {t["name"]: t for t in entry["cost"]["terms"]}
    assert terms["cell reads"]["count"] == 7 * 2 * 3
    assert terms["cell reads"]["energy"] == pytest.approx(cell_energy, rel=1e-12)
    assert terms["ADC conversions"]["count"] == 4 * 3
    assert terms["ADC conversions"]["unit"] == pytest.approx(f["adc_energy"], rel=1e-12)
    assert terms["ADC conversions"]["energy"] == pytest.approx(12 * f["adc_energy"], rel=1e-12)
    assert terms["row drivers"]["energy"] == pytest.approx(7 * f["row_drive_energy"], rel=1e-12)
    assert entry["mapping"]["tiles"]["need"] == 1
