"""snnc's SpiNNaker mapping (``snnc compile -t spinnaker1``: routing_tables.json, keys.json,
delay_extensions.json) against sPyNNaker 1!7.4.1's virtual-board mapping of the PyNN script
the same compile wrote (a spynnaker.cfg with ``virtual_board = True`` in a temporary HOME).

Measured (asserted below):

| network | cores (neuron, source, DelayExtension) | entries per chip, uncompressed -> compressed |
|-|-|-|
| digits (128 + 10 LIF) | 2, 1, 0 both | (0, 0): 2 -> 2 both |
| long delays (16 -> 256 LIF, to 100 steps) | 1, 1, 1 both | (0, 0): 2 -> 2 both |
| two chips (100 -> 4,000 LIF, to 40 steps) | 16, 1, 1 both | 3 chips both, 2 -> 2 on each |

Keys: every sending core's key and mask equal sPyNNaker's (flexible ZonedRoutingInfoAllocator,
4 colour bits). Both compress a table only when it does not fit, so these small tables stay as
they are (the compressor itself is checked against PACMAN's in test_spinnaker_mapping.py).
Placement: every core on the chip and processor sPyNNaker gives it (system cores first: a
packet gatherer and an ExtraMonitorSupport on (0, 0), a monitor on every other chip; then
PACMAN's ApplicationPlacer). Routing tables: every chip's uncompressed entry count equal
(snnc ports PACMAN's application router: per application vertex one tree into its targets'
chips and on within them, entries per machine or per application vertex).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.ir import Graph
from snnc.ir import nodes as n

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"

MAPPING = """
import json, runpy, sys
import pyNN.spiNNaker as sim
from pacman.operations.router_compressors.pair_compressor import pair_compressor
from spynnaker.pyNN.data import SpynnakerDataView
found, real_end = {"cores": [], "tables": {}, "keys": []}, sim.end

def end():  # read sPyNNaker's mapping before end() clears it
    for placement in SpynnakerDataView.iterate_placemements():
        app = placement.vertex.app_vertex
        if app is not None:
            found["cores"].append([app.label, type(app).__name__, placement.x, placement.y,
                                   placement.p, placement.vertex.vertex_slice.lo_atom])
    for info in SpynnakerDataView.get_routing_infos():
        vertex = info.vertex
        if getattr(vertex, "app_vertex", None) is not None:
            found["keys"].append([vertex.app_vertex.label, vertex.vertex_slice.lo_atom,
                                  info.key, info.mask])
    for table in SpynnakerDataView.get_uncompressed().routing_tables:
        found["tables"][f"{table.x},{table.y}"] = [table.number_of_entries]
    for table in pair_compressor(accept_overflow=True).routing_tables:
        found["tables"][f"{table.x},{table.y}"].append(table.number_of_entries)
    real_end()

sim.end = end
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print("MAPPING " + json.dumps(found))
"""


def virtual_board(folder: Path, steps: int, size: int) -> dict:
    pytest.importorskip("spynnaker")
    home = folder / "home"
    home.mkdir()
    (home / ".spynnaker.cfg").write_text("[Machine]\nversion = 5\nvirtual_board = True\n")
    (folder / "mapping.py").write_text(MAPPING)
    np.savez(folder / "in.npz", spikes=np.random.default_rng(0).random((steps, size)) < 0.2)
    done = subprocess.run([sys.executable, "-W", "ignore", folder / "mapping.py",
                           folder / "pynn_network.py", "--input", folder / "in.npz", "--output",
                           folder / "out.npz"], capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "HOME": str(home)})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("MAPPING "))
    return json.loads(line[len("MAPPING "):])


def compile_to(model: Path, out: Path) -> dict:
    from snnc.cli import main

    assert main(["compile", str(model), "-t", "spinnaker1", "--dt", "1e-3", "-o", str(out)]) \
        in (0, None)
    read = lambda name: json.loads((out / name).read_text())  # noqa: E731
    return {name: read(f"{name}.json") for name in
            ("partition", "keys", "routing_tables", "delay_extensions", "fit_report",
             "spinnaker_placement")}


def kinds(ours: dict, theirs: dict) -> tuple[list, list]:
    """Cores per (population, vertex kind), snnc's and sPyNNaker's, sorted."""
    mine = [(c["population"], "source" if c["synapses"] == 0 and c["population"] == "input"
             else "population") for c in ours["partition"]["cores"]]
    mine += [(f"{d['source']}_delayed", "delay") for d in
             ours["delay_extensions"]["delay_extensions"] for _ in d["cores"]]
    names = {"SpikeSourceArrayVertex": "source", "PopulationVertex": "population",
             "DelayExtensionVertex": "delay"}
    return sorted(mine), sorted((label, names[kind]) for label, kind, *_ in theirs["cores"])


def tables(ours: dict) -> dict:
    return {f"{c['x']},{c['y']}": [c["uncompressed"], c["compressed"]]
            for c in ours["routing_tables"]["chips"]}


def keys(ours: dict) -> dict:
    """(population, first atom) -> [key, mask] of every sending core."""
    where = atoms(ours)
    return {where[k["core"]]: [k["key"], k["mask"]] for k in ours["keys"]["cores"]}


def atoms(ours: dict) -> dict:
    """snnc's core number -> (population, first atom)."""
    found = {c["core"]: (c["population"], c["start"]) for c in ours["partition"]["cores"]}
    for d in ours["delay_extensions"]["delay_extensions"]:
        found.update({c["core"]: (f"{d['source']}_delayed", c["atoms"][0]) for c in d["cores"]})
    return found


def places(ours: dict) -> dict:
    """(population, first atom) -> (x, y, p) of every core snnc places."""
    where = atoms(ours)
    return {where[c["core"]]: (c["x"], c["y"], c["p"])
            for c in ours["spinnaker_placement"]["places"]}


def places_of(theirs: dict) -> dict:
    return {(label, lo): (x, y, p) for label, _, x, y, p, lo in theirs["cores"]}


def long_delays() -> Graph:
    rng = np.random.default_rng(5)
    weight = rng.normal(0, 0.5, (256, 16)) * (rng.random((256, 16)) < 0.3)
    size = (256,)
    return Graph(nodes={
        "input": n.Input(shape=(16,)),
        "fc": n.Linear(weight=weight, delay=rng.integers(0, 101, weight.shape) * 1e-3),
        "lif": n.LIF(tau=np.full(size, 0.01), r=np.ones(size), v_leak=np.zeros(size),
                     v_threshold=np.full(size, 0.5), v_reset=np.zeros(size)),
        "output": n.Output(shape=size)},
        edges=(("input", "fc"), ("fc", "lif"), ("lif", "output")))


def two_chips() -> Graph:
    """4,000 neurons: 16 cores, more than one chip holds with sPyNNaker's system cores."""
    rng = np.random.default_rng(7)
    weight = rng.normal(0, 0.5, (4000, 100)) * (rng.random((4000, 100)) < 0.02)
    size = (4000,)
    return Graph(nodes={
        "input": n.Input(shape=(100,)),
        "fc": n.Linear(weight=weight, delay=rng.integers(0, 41, weight.shape) * 1e-3),
        "lif": n.LIF(tau=np.full(size, 0.01), r=np.ones(size), v_leak=np.zeros(size),
                     v_threshold=np.full(size, 0.5), v_reset=np.zeros(size)),
        "output": n.Output(shape=size)},
        edges=(("input", "fc"), ("fc", "lif"), ("lif", "output")))


@pytest.mark.parametrize("example", ["digits", "long_delays"])
def test_one_chip_networks_map_as_spynnaker_maps_them(example, tmp_path):
    from snnc.frontends import write_nir

    if example == "digits":
        model, size = DIGITS / "digits.nir", 64
    else:
        model, size = tmp_path / "long_delays.nir", 16
        write_nir(long_delays(), model)
    ours = compile_to(model, tmp_path / "out")
    theirs = virtual_board(tmp_path / "out", 10, size)
    mine, spynnaker = kinds(ours, theirs)
    assert mine == spynnaker
    assert places(ours) == places_of(theirs)  # chip and processor of every core
    assert tables(ours) == theirs["tables"] == {"0,0": [2, 2]}
    assert keys(ours) == {(label, lo): [k, m] for label, lo, k, m in theirs["keys"]}
    extensions = ours["delay_extensions"]["delay_extensions"]
    if example == "long_delays":  # 100 steps over a span of 32: 3 stages
        assert [(d["source"], d["span_steps"], d["stages"], len(d["cores"]))
                for d in extensions] == [("input", 32, 3, 1)]
    else:
        assert extensions == []


def test_a_two_chip_network_against_spynnaker(tmp_path):
    from snnc.frontends import write_nir

    model = tmp_path / "two_chips.nir"
    write_nir(two_chips(), model)
    ours = compile_to(model, tmp_path / "out")
    theirs = virtual_board(tmp_path / "out", 5, 100)
    mine, spynnaker = kinds(ours, theirs)
    assert mine == spynnaker  # 16 LIF slices, the source, its DelayExtension
    assert keys(ours) == {(label, lo): [k, m] for label, lo, k, m in theirs["keys"]}
    # Every chip with a network core holds the two senders' entries (input, input_delayed),
    # which pair compression cannot merge (different routes).
    assert theirs["tables"] == {"0,0": [2, 2], "0,1": [2, 2], "1,0": [2, 2]}
    # The application router takes the DelayExtension's packets from (0, 1) into its
    # targets' chips first, (0, 1) -> (0, 0), then on within them, (0, 0) -> (1, 0): no
    # entry on (1, 1), where a per-core longest-dimension-first path would turn.
    assert tables(ours) == theirs["tables"]
    # Placed as sPyNNaker places them: (0, 0) keeps 15 application cores (its packet gatherer
    # and ExtraMonitorSupport take two), so the last two LIF slices grow into its east
    # neighbour (1, 0), and the DelayExtension, a new application vertex, starts on the next
    # chip in x-major order, (0, 1).
    assert places(ours) == places_of(theirs)
    assert ours["fit_report"]["chips"]["need"] == 3
