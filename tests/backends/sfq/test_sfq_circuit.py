"""The SFQ circuit mapping (junctions, timing, circuit.json) and cost report, on a graph small
enough to count by hand, and through the CLI."""
import json
from dataclasses import replace

import numpy as np
import pytest

from snnc.backends import get_target
from snnc.backends.sfq.circuit import FORMAT, Mode, map_circuit
from snnc.cli import main
from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

OPTIONS = SimOptions(dt=1e-3)


def tiny():
    """Input(2) -> Linear -> IF(2): pulses [[4, 8], [0, -4]] after quantize (unit 0.25)."""
    nodes = {"input": n.Input(shape=(2,)), "fc": n.Linear(weight=np.array([[1.0, 2.0],
                                                                           [0.0, -1.0]])),
             "if": n.IF(r=np.ones(2), v_threshold=np.full(2, 2.0), v_reset=np.zeros(2)),
             "output": n.Output(shape=(2,))}
    return Graph(nodes=nodes, edges=[("input", "fc"), ("fc", "if"), ("if", "output")])


@pytest.fixture(scope="module")
def compiled():
    return get_target("sfq_rsfq").compile(tiny(), OPTIONS)[0]


def test_junctions_counted_by_hand(compiled):
    circuit = map_circuit(compiled, get_target("sfq_rsfq").chip_model())
    # 2 neurons x 10; exc: 3 JTLs x 2 + 2 gates x 6 + 1 merger x 5; inh: 1 JTL x 2 + 1 gate x 6
    assert circuit.jjs(Mode(False, None)) == 20 + 23 + 8
    assert circuit.jjs(Mode(True, None)) == 51 + 3 * (6 + 3)  # a DRO and clock splitter each


def test_critical_path_by_hand(compiled):
    circuit = map_circuit(compiled, get_target("sfq_rsfq").chip_model())
    # synapse (0, 1): 2 JTLs (114 ticks) + gate 51 + 7 more pulses x 60 + 1 merger 40 + neuron 80
    assert circuit.critical_path(Mode(False, None)) == 114 + 51 + 420 + 40 + 80
    # serialised: released after the latest gate (165) and a DRO (51), 2 leaves x 8 pulses
    assert circuit.critical_path(Mode(True, None)) == 165 + 51 + 2 * 8 * 60 + 120
    fit = circuit.fit
    assert fit["fan_in"] == {"need": 2, "limit": 100, "unit": "synapses per merger tree",
                             "ok": True}
    assert fit["clock_cycles_per_step"] == 1 and fit["fits"]


def test_circuit_json_is_versioned(compiled, tmp_path):
    circuit = map_circuit(compiled, get_target("sfq_rsfq").chip_model())
    assert circuit.write(tmp_path) == ["circuit.json"]
    data = json.loads((tmp_path / "circuit.json").read_text())
    assert data["format"] == FORMAT and data["version"] == 1
    assert data["jjs"] == {"serialized": 78, "unserialized": 51}
    assert [layer["name"] for layer in data["layers"]] == ["input->if#fc.exc", "input->if#fc.inh"]


def cost_of(name, compiled):
    target = get_target(name)
    chip = target.chip_model()
    inputs = np.ones((10, 3, 2))
    recording = target.simulate(compiled, inputs, OPTIONS)
    return target.family.cost(chip, recording, map_circuit(compiled, chip)), recording


def test_cost_rsfq_static_ersfq_none(compiled):
    rsfq, recording = cost_of("sfq_rsfq", compiled)
    ersfq, _ = cost_of("sfq_ersfq", compiled)
    assert rsfq.static > 0 and ersfq.static == 0
    assert rsfq.static == pytest.approx(78 * 369e-9 * rsfq.inference_time)
    assert rsfq.inference_time == pytest.approx(10 / 3.02e9)  # 1 clock cycle per step
    for cost in (rsfq, ersfq):
        assert cost.total == pytest.approx(cost.energy_4k * 400)
        assert cost.energy_4k == pytest.approx(cost.dynamic + cost.static)
        assert all(t.evidence in ("estimated", "simulated", "datasheet") for t in cost.terms)
        assert sorted(cost.wall_alternatives) == ["carnot (70 W/W)", "plant1000 (1000 W/W)"]
        json.dumps(cost.to_dict())
        assert cost.lines()
    assert ersfq.dynamic == pytest.approx(2 * rsfq.dynamic)  # doubled switching energy
    assert recording.counters.totals()["pulses"] == 10 * 3 * (4 + 8 + 4)


def test_switchings_counted_by_hand(compiled):
    """The tiny graph, 10 steps x 3 rows (inferences), both inputs firing every step,
    serialised. Per inference and step: every source has fan-out 1 in its layer (no
    splitters); 4 wiring JTLs (3 exc, 1 inh) of 2 JJs; 16 pulses into the gates (4 + 8 exc,
    4 inh) of 6 JJs, each also through its serialiser DRO (6 JJs); the 12 exc pulses through
    one merger level (5 JJs), the inh tree has one leaf (no merger); 16 delivered pulses of 2
    input JJs; neuron 0 (input 1 + 2 >= threshold 2) fires every step, a 10-JJ cell, neuron 1
    (input -1) never; the clock into 2 neurons and 3 serialiser DROs, 5 JJs each."""
    cost, _ = cost_of("sfq_rsfq", compiled)
    terms = {t.name.split(": ")[1]: t.count for t in cost.terms if t.name.startswith("dyn")}
    assert terms == pytest.approx({
        "splitter trees": 0, "JTL wiring": 10 * 4 * 2, "gates": 10 * 16 * (6 + 6),
        "merger trees": 10 * 12 * 5, "neuron inputs": 10 * 16 * 2,
        "neuron firing": 10 * 10, "clock": 10 * (2 + 3) * 5})
    unit = 100e-6 * 2.067833848e-15  # I_c x flux quantum
    assert cost.dynamic == pytest.approx(sum(terms.values()) * unit, rel=0.02)


def test_run_settings_price_the_circuit(compiled):
    """--device gates=deterministic on sfq gives sfq_rsfq's circuit timing (same cells)."""
    chip, rsfq_chip = get_target("sfq").chip_model(), get_target("sfq_rsfq").chip_model()
    options = replace(OPTIONS, device=(("gates", "deterministic"),))
    recording = get_target("sfq").simulate(compiled, np.ones((10, 3, 2)), options)
    cost = get_target("sfq").family.cost(chip, recording, map_circuit(compiled, chip))
    rsfq, _ = cost_of("sfq_rsfq", compiled)
    assert cost.critical_path == rsfq.critical_path and cost.step_time == rsfq.step_time
    with pytest.raises(OptionError, match="pulses_per_spike applies to stochastic gates"):
        get_target("sfq").simulate(compiled, np.ones((10, 3, 2)), replace(
            options, device=(("gates", "deterministic"), ("pulses_per_spike", "3"))))


def test_cli_compile_writes_the_circuit_and_report_prices_it(tmp_path, capsys):
    digits = "examples/digits/digits.nir"
    assert main(["compile", digits, "-t", "sfq", "--dt", "1e-3", "-o", str(tmp_path / "p")]) == 0
    assert json.loads((tmp_path / "p" / "circuit.json").read_text())["format"] == FORMAT
    assert main(["report", digits, "-t", "sfq", "-i", "examples/digits/test_spikes.npz",
                 "--dt", "1e-3", "--trials", "3", "--seed", "1", "--format", "json",
                 "-o", str(tmp_path / "r.json")]) == 0
    entry = json.loads((tmp_path / "r.json").read_text())["targets"]["sfq"]
    assert entry["trials"]["count"] == 3 and entry["cost"]["total"] > 0
    assert entry["mapping"]["fan_in"]["ok"]


def test_switch_energy_must_agree_with_the_critical_current(compiled):
    from snnc.backends.sfq.cost import switch_energy
    from snnc.hw_models.schema import ChipModelError
    chip = get_target("sfq_rsfq").chip_model()
    assert switch_energy(chip, "ic_phi0") == pytest.approx(0.21e-18)
    drifted = replace(chip, sfq=replace(chip.sfq, critical_current=150e-6))
    with pytest.raises(ChipModelError, match="critical_current x flux quantum"):
        switch_energy(drifted, "ic_phi0")
