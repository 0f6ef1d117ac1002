"""Chip descriptions: every bundled file loads, every number is sourced, bad files fail clearly."""
from dataclasses import FrozenInstanceError

import pytest

from snnc.errors import SnncError
from snnc.hw_models import CHIPS, EVIDENCE, ChipModelError, list_chips, load_chip

HEADER = """
[chip]
name = "toy"
description = "a test chip"
kind = "loihi"
step_semantics = "barrier"
"""
GOOD = ('neurons_per_core = { value = 1024, unit = "neurons", source = "a paper", '
        'evidence = "datasheet" }')


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_bundled_chip_loads(name):
    chip = load_chip(name)
    assert chip.name == name
    assert chip.description
    assert chip.energy_model is None or chip.energy_model in chip.energy


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_every_number_is_sourced(name):
    chip = load_chip(name)
    given = dict(chip.quantities())
    assert given, "a chip file with no numbers"
    assert set(given) == set(chip.sources)
    for key, src in chip.sources.items():
        assert src.evidence in EVIDENCE, key
        assert src.source.strip(), key
        assert src.value == given[key], key


def test_registry():
    assert list_chips() == sorted(CHIPS)
    assert {"loihi1", "loihi2", "spinnaker1", "rram", "sfq"} <= set(CHIPS)


def test_unknown_name_lists_known_chips():
    with pytest.raises(ChipModelError, match="unknown chip 'loihi9'.*loihi1.*spinnaker1"):
        load_chip("loihi9")


def test_loaded_chip_is_frozen():
    chip = load_chip("loihi1")
    with pytest.raises(FrozenInstanceError):
        chip.core.neurons_per_core = 1
    with pytest.raises(TypeError):
        chip.sources["core.neurons_per_core"] = None


def test_loihi1_facts():
    chip = load_chip("loihi1")
    assert chip.kind == "loihi" and chip.step_semantics == "barrier"
    assert chip.topology.cores_per_chip == 128
    assert chip.core.neurons_per_core == 1024
    assert chip.core.synapse_memory == 128 * 1024 * 8  # 16,384 words of 64 bits
    assert chip.core.input_axons == chip.core.output_axons == 4096
    f = chip.formats
    assert (f.state_bits, f.decay_bits, f.threshold_bits, f.threshold_shift) == (24, 12, 17, 6)
    assert (f.bias_mant_bits, f.bias_exp_bits, f.weight_bits, f.weight_bits_mixed) == (13, 3, 8, 8)
    assert f.decay_scope == f.threshold_scope == "population"
    assert (f.current_overflow, f.voltage_overflow) == ("wrap", "saturate")
    d = chip.delays
    assert (d.min_steps, d.max_steps, d.added_latency_steps, d.delay_bits) == (0, 62, 1, 6)
    assert chip.energy["davies2018"].synaptic_op == pytest.approx(23.6e-12)
    assert chip.sources["energy.davies2018.synaptic_op"].evidence == "simulated"
    assert chip.sources["energy.sanafe.synaptic_op"].evidence == "calibrated"
    assert chip.timing.barrier_sync_min == pytest.approx(113e-9)


def test_loihi2_facts():
    chip = load_chip("loihi2")
    assert chip.core.neurons_per_core * chip.topology.cores_per_chip == 1_048_576
    assert chip.delays.max_steps == 63
    assert chip.energy_model == "calibrated"  # per-event figures estimated, overhead fitted
    assert chip.sources["energy.calibrated.synaptic_op"].evidence == "estimated"
    assert chip.measurements["pilotnet_lif"].total_power == pytest.approx(0.679)


def test_spinnaker1_facts():
    chip = load_chip("spinnaker1")
    assert chip.formats.state_bits == 32 and chip.formats.state_frac_bits == 15  # s16.15
    assert chip.formats.weight_bits == 16
    assert chip.core.neurons_per_core == 256
    assert chip.topology.router_entries == 1023
    assert chip.timing.timestep == pytest.approx(1e-3)
    d = chip.delays
    assert d.on_core_max_steps(atom_bits=8, synapse_type_bits=1) == 32
    assert d.max_steps_with_extension(atom_bits=8, synapse_type_bits=1) == d.max_steps == 288
    assert chip.default_energy.packet == pytest.approx(1e-9)


def test_rram_and_sfq_facts():
    rram = load_chip("rram")
    assert (rram.crossbar.rows, rram.crossbar.columns, rram.crossbar.adc_bits) == (128, 128, 5)
    assert rram.crossbar.g_on == pytest.approx(10e-6)
    sfq = load_chip("sfq")
    assert sfq.sfq.rate_coded is True
    assert sfq.default_energy.jj_switch == pytest.approx(0.21e-18)


def test_load_by_path_and_unit_conversion(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(HEADER + """
[core]
memory = { value = 2, unit = "KiB", source = "s", evidence = "estimated" }
[timing]
hop_ew = { value = 4.1, unit = "ns", source = "s", evidence = "simulated" }
""")
    chip = load_chip(path)
    assert chip.core.memory == 2 * 1024 * 8
    assert chip.timing.hop_ew == pytest.approx(4.1e-9)
    assert chip.sources["core.memory"].given == "2 KiB"
    assert chip.origin == str(path)


def core(line: str) -> str:
    return "[core]\n" + line


BAD = {  # case: (file body after [chip], expected message after "path: ")
    "missing source": (core(GOOD.replace(', source = "a paper"', "")),
                       "core.neurons_per_core: missing 'source'"),
    "bad evidence": (core(GOOD.replace("datasheet", "rumour")),
                     "core.neurons_per_core: evidence 'rumour' is not one of"),
    "bare number": (core("neurons_per_core = 1024"), "core.neurons_per_core: bare value 1024"),
    "unknown key": (core(GOOD.replace("neurons_per_core", "neurons_per_cor")),
                    "core.neurons_per_cor: unknown key (did you mean neurons_per_core?)"),
    "unknown section": ("[cores]\n" + GOOD, "cores: unknown key"),
    "unknown quantity key": (core(GOOD.replace("evidence", "note = 1, evidence")),
                             "core.neurons_per_core: note: unknown key in quantity"),
    "wrong type": (core(GOOD.replace("1024", "1024.5")),
                   "core.neurons_per_core: expected an integer, got 1024.5"),
    "bool is not a number": (core(GOOD.replace("1024", "true")),
                             "core.neurons_per_core: expected an integer, got True"),
    "wrong unit": (core(GOOD.replace('"neurons"', '"cores"')),
                   "core.neurons_per_core: wrong unit 'cores' (expected neurons)"),
    "missing unit": (core(GOOD.replace('unit = "neurons", ', "")),
                     "core.neurons_per_core: missing 'unit'"),
    "bad choice": ('[formats]\ndecay_scope = { value = "synapse", source = "s", '
                   'evidence = "datasheet" }',
                   "formats.decay_scope: 'synapse' is not one of population, neuron"),
    "unknown energy model": ('[energy.x]\ndescription = "d"',
                             "chip.energy_model: 'y' is not an [energy.*] table"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_fails_with_one_line_naming_file_and_key(tmp_path, case):
    body, expected = BAD[case]
    path = tmp_path / "bad.toml"
    header = HEADER if case != "unknown energy model" else HEADER + 'energy_model = "y"\n'
    path.write_text(header + body + "\n")
    with pytest.raises(ChipModelError) as info:
        load_chip(path)
    message = str(info.value)
    assert isinstance(info.value, SnncError)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_missing_identity_and_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(f"[core]\n{GOOD}\n")
    with pytest.raises(ChipModelError, match=r"bad\.toml: chip: missing \[chip\] table"):
        load_chip(path)
    path.write_text("[chip\nname = 1")
    with pytest.raises(ChipModelError, match=r"bad\.toml: not valid TOML"):
        load_chip(path)
    with pytest.raises(ChipModelError, match="cannot read chip file"):
        load_chip(tmp_path / "absent.toml")
