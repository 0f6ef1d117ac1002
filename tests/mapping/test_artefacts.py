"""Mapping artefacts: versioned, read back and schema-checked; a compiled program is mapped
once, and `report` on it routes the run's traffic over the stored cores."""
import json
from pathlib import Path

import pytest

from snnc.cli import main
from snnc.errors import MappingError
from snnc.hw_models import load_chip
from snnc.mapping import Mapping, map_graph
from snnc.program import read_program
from tests.cli.test_cli import run

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    out = tmp_path_factory.mktemp("mapping") / "prog"
    assert main(["compile", str(DIGITS / "digits.nir"), "-t", "loihi1", "--dt", "1e-3",
                 "-o", str(out)]) == 0
    return out


def test_artefacts_read_back_equal_a_fresh_mapping(program):
    stored = Mapping.read(program)
    fresh = map_graph(read_program(program).graph, load_chip("loihi1"))
    assert stored.partition == fresh.partition and stored.placement == fresh.placement
    assert stored.routes == fresh.routes and stored.fit == fresh.fit
    for name in ("partition", "placement", "routes"):
        data = json.loads((program / f"{name}.json").read_text())
        assert data["format"] == f"snnc-{name}" and data["version"] == 1


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(version=2), "partition format version 2; this snnc reads version 1"),
    (lambda d: d.update(format="other"), "not an snnc partition file"),
    (lambda d: d["cores"][0].pop("stop"), "cores[0]: expected keys"),
    (lambda d: d["cores"][0].update(stop="10"), "cores[0]: stop: expected int"),
    (lambda d: d["cores"][0].update(stop=3), "the slices of node 'lif1' do not cover"),
])
def test_a_stored_mapping_that_is_not_what_it_says_is_refused(program, tmp_path, edit,
                                                              message):
    copy = tmp_path / "prog"
    copy.mkdir()
    for path in program.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    data = json.loads((copy / "partition.json").read_text())
    edit(data)
    (copy / "partition.json").write_text(json.dumps(data))
    result = run("report", copy, "-t", "loihi1", "-i", DIGITS / "test_spikes.npz",
                 "--steps", "5")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(MappingError):
        Mapping.read(copy).routed(read_program(copy).graph, load_chip("loihi1"), {})


def test_report_on_a_program_uses_its_stored_cores(program, tmp_path):
    out = tmp_path / "report.json"
    assert main(["report", str(program), "-t", "loihi1", "-i", str(DIGITS / "test_spikes.npz"),
                 "--format", "json", "-o", str(out)]) == 0
    entry = json.loads(out.read_text())["targets"]["loihi1"]
    assert entry["mapping"] == json.loads((program / "fit_report.json").read_text())
    assert entry["traffic"]["packets"] > 0  # this run's spikes, routed over the stored cores


def test_spike_sources_take_cores_where_the_family_says_so(tmp_path):
    """sPyNNaker places each SpikeSourceArray on a core of its own: the spinnaker1 family
    says so (``sources_on_cores``), and its mapping gives the Input a core and routes from it;
    Loihi's input comes from the host."""
    cores = {}
    for target in ("spinnaker1", "loihi2"):
        out = tmp_path / target
        assert main(["compile", str(DIGITS / "digits.nir"), "-t", target, "--dt", "1e-3",
                     "-o", str(out)]) == 0
        mapping = Mapping.read(out)
        cores[target] = [c.population for c in mapping.partition.cores]
        hosts = [k for k in mapping.routes.links if k.source == "input"]
        assert all((k.source_core == -1) == (target == "loihi2") for k in hosts) and hosts
    assert cores == {"spinnaker1": ["input", "lif1", "lif2"], "loihi2": ["lif1", "lif2"]}
