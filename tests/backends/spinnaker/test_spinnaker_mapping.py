"""The SpiNNaker mapping's stages (``snnc.backends.spinnaker.mapping``): the machine against
SpiNNMachine's virtual machine, the pair compressor against PACMAN's, routing verified by
sending every key through the tables hop by hop, DelayExtensions, memory, the fit errors,
and the ARM load worked out by hand."""
import dataclasses
import json

import numpy as np
import pytest

from snnc.errors import MappingError, ResourceExceededError
from snnc.hw_models import load_chip
from snnc.backends.engine.recording import Counters
from snnc.backends.spinnaker.mapping import map_netlist
from snnc.backends.spinnaker.mapping.compress import pair_compress
from snnc.backends.spinnaker.mapping.machine import machine
from snnc.backends.spinnaker.mapping.netlist import Netlist, Pop, Proj
from snnc.backends.spinnaker.mapping.routing import Entry, deliver
from snnc.backends.spinnaker.mapping.traffic import cycles, load

CHIP = load_chip("spinnaker1")


def chip_with(neurons_per_core=256, cores_per_chip=16, **topology):
    return dataclasses.replace(
        CHIP, core=dataclasses.replace(CHIP.core, neurons_per_core=neurons_per_core),
        topology=dataclasses.replace(CHIP.topology, app_cores_per_chip=cores_per_chip,
                                     **topology))


def random_netlist(seed: int, longest_delay: int, sizes=(260, 900)) -> Netlist:
    """A spike source and five populations, ten random sparse projections (any source into
    any population: loops, skips, several projections per pair), delays 1..longest_delay."""
    rng = np.random.default_rng(seed)
    pops = [Pop("in", 300, True)] + [Pop(f"p{i}", int(rng.integers(*sizes)), False)
                                     for i in range(5)]
    projs = []
    for k in range(10):
        s, t = pops[int(rng.integers(0, 6))], pops[int(rng.integers(1, 6))]
        count = int(rng.integers(100, 3000))
        projs.append(Proj(s.name, t.name, rng.integers(0, s.size, count),
                          rng.integers(0, t.size, count), rng.integers(1, longest_delay, count),
                          f"c{k}"))
    return Netlist(tuple(pops), tuple(projs))


# -- the machine and the compressor against SpiNNMachine's and PACMAN's -------------------------

@pytest.fixture(scope="module")
def pacman():
    """PACMAN's data view with a virtual SpiNN-5 machine (what its compressor reads)."""
    pytest.importorskip("pacman")
    from pacman.config_setup import unittest_setup
    from pacman.data.pacman_data_writer import PacmanDataWriter
    from spinn_utilities.config_holder import set_config

    unittest_setup()
    set_config("Machine", "version", 5)
    return PacmanDataWriter.mock()


@pytest.mark.parametrize("boards", [1, 3, 4, 7])
def test_the_machine_is_spinnmachines(boards, pacman):
    """Chips and links of 1, 3 (a triad), 4 and 7 boards equal SpiNNMachine's virtual
    machine of that many boards (spalloc's 16 x 16, 28 x 16 and 28 x 28 rectangles)."""
    from spinn_machine.virtual_machine import virtual_machine_by_boards

    theirs = virtual_machine_by_boards(boards)
    ours = machine(boards)
    assert (ours.width, ours.height) == (theirs.width, theirs.height)
    assert set(ours.chips) == {(c.x, c.y) for c in theirs.chips}
    assert len(ours.chips) == 48 * ours.boards
    assert {(x, y, link) for x, y in ours.chips for link in range(6) if ours.over((x, y), link)} \
        == {(c.x, c.y, k.source_link_id) for c in theirs.chips for k in c.router.links}


def test_the_pair_compressor_is_pacmans(pacman):
    """Random tables (keys in two mask widths, five routes, 300 entries): PACMAN 1!7.4.1's
    ``pair_compressor`` (told to compress as far as possible: by default it leaves a table that
    fits as it is, and so does snnc) and ours give the same entries in the same order."""
    from pacman.model.routing_tables import (MulticastRoutingTables,
                                             UnCompressedMulticastRoutingTable)
    from pacman.operations.router_compressors.pair_compressor import pair_compressor
    from spinn_machine import MulticastRoutingEntry, RoutingEntry
    from spinn_machine.virtual_machine import virtual_machine
    from spinn_utilities.config_holder import set_config

    pacman.set_machine(virtual_machine(8, 8))
    rng = np.random.default_rng(3)
    ours, tables = {}, MulticastRoutingTables()
    for x in range(3):
        keys = rng.choice(1 << 14, 300, replace=False) << 4
        masks = np.where(rng.random(300) < 0.3, 0xFFFFFFC0, 0xFFFFFFF0)
        keys &= masks
        routes = 1 << rng.integers(0, 5, 300)
        table = UnCompressedMulticastRoutingTable(x, 0)
        entries = []
        for k, m, r in zip(keys.tolist(), masks.tolist(), routes.tolist()):
            if any(k & e.mask == e.key & m for e in entries):  # overlapping keys: skip
                continue
            entries.append(Entry(k, m, r))
            table.add_multicast_routing_entry(
                MulticastRoutingEntry(k, m, RoutingEntry(spinnaker_route=r)))
        tables.add_routing_table(table)
        ours[x] = [(e.key, e.mask, e.route) for e in pair_compress(entries)]
        assert len(ours[x]) < len(entries) / 2  # it did compress
    pacman.set_precompressed(tables)
    set_config("Mapping", "router_table_compress_as_far_as_possible", True)
    for table in pair_compressor(accept_overflow=True).routing_tables:
        theirs = [(e.key, e.mask, e.spinnaker_route) for e in table.multicast_routing_entries]
        assert ours[table.x] == theirs


# -- routing verified by simulation --------------------------------------------------------------

def check_every_packet(m) -> int:
    """Send the first and last key of every sending core through each stage's tables (as
    built, without default routes, compressed): each reaches exactly its destination cores
    (no drop, no loop, no extra core). Returns the packets checked."""
    where = {p.core: p for p in m.layout.places}
    sent = 0
    for core, dests in m.dests.items():
        want = {(where[d].x, where[d].y, where[d].p) for d in dests}
        key = m.keys.keys[core]
        for k in (key.key, key.key + key.n_keys - 1):
            for tables in (m.tables, m.routed, m.compressed):
                assert deliver(tables, m.layout.machine, where[core].xy, k) == want, core
                sent += 1
    return sent


@pytest.mark.parametrize("neurons, per_chip, delay, boards", [
    (256, 16, 200, 1),  # DelayExtensions (spans of 32 steps, 6 stages)
    (32, 2, 200, 3),  # 54 chips: a triad of boards, delays on-core (span 256)
    (8, 1, 20, 12)])  # 421 chips on 12 boards
def test_every_packet_reaches_exactly_its_cores(neurons, per_chip, delay, boards):
    m = map_netlist(random_netlist(1, delay), chip_with(neurons, per_chip), compress_all=True)
    assert m.layout.machine.boards == boards
    assert check_every_packet(m) == 6 * len(m.dests)
    if boards > 1:  # trees cross chips: straight-through entries were removed, tables shrank
        assert len(m.layout.chips_used) > 48
        assert sum(len(m.tables[c]) - len(m.routed[c]) for c in m.tables) > 0
        assert sum(len(m.compressed[c]) for c in m.tables) < sum(map(len, m.routed.values()))
    else:
        assert {p.stages for p in m.part.delays.values()} == {6}


def test_compression_makes_an_overfull_table_fit():
    """1,100 one-neuron spike sources (one application vertex each: nothing merges before
    compression) into one population: its chip's table has 1,100 entries, above the 1,023 a
    router holds; all route to one core, and pair compression folds them into a few."""
    pops = [Pop(f"s{i}", 1, True) for i in range(1100)] + [Pop("target", 10, False)]
    projs = [Proj(f"s{i}", "target", np.zeros(1, np.int64), np.array([i % 10]),
                  np.ones(1, np.int64)) for i in range(1100)]
    m = map_netlist(Netlist(tuple(pops), tuple(projs)), CHIP)
    target = m.layout.places[-1].xy
    assert all(m.compressed[c] is m.routed[c] for c in m.tables if c != target)  # as needed
    assert len(m.routed[target]) == 1100 and len(m.compressed[target]) < 20
    assert m.fit["router_entries"]["need"] <= 1023 < m.fit["router_entries"]["uncompressed"]
    assert check_every_packet(m) == 6 * 1100
    with pytest.raises(ResourceExceededError, match="routing entries after pair compression"):
        map_netlist(Netlist(tuple(pops), tuple(projs)), chip_with(router_entries=3))


# -- DelayExtensions, memory and the fit errors --------------------------------------------------

def one_projection(delay, size=256, sources=16) -> Netlist:
    rng = np.random.default_rng(0)
    pre, post = rng.integers(0, sources, 500), rng.integers(0, size, 500)
    return Netlist((Pop("in", sources, True), Pop("lif", size, False)),
                   (Proj("in", "lif", pre, post, np.minimum(rng.integers(1, 400, 500), delay)),))


def test_delay_extensions_cover_up_to_nine_spans():
    """256 neurons per core: a span of 2**(14 - 8 - 1) = 32 on-core steps and 8 stages more;
    288 steps map (one DelayExtension core, 8 stages), 289 do not."""
    m = map_netlist(one_projection(288), CHIP)
    assert [(p.source, p.span, p.stages) for p in m.part.delays.values()] == [("in", 32, 8)]
    assert [v.kind for v in m.part.vertices] == ["source", "population", "delay"]
    assert m.keys.keys[2].n_keys == 16 * 16 * 8  # atoms x colours x stages
    with pytest.raises(ResourceExceededError, match="needs 9 DelayExtension stages") as error:
        map_netlist(one_projection(289), CHIP)
    assert (error.value.resource, error.value.need, error.value.limit) == ("delay steps", 289, 288)
    # 100 neurons: 7 atom bits leave 64 slots, so 60 steps stay on-core
    assert map_netlist(one_projection(60, size=100), CHIP).part.delays == {}


def test_one_delay_extension_serves_one_span():
    """Delayed targets of one source with spans of 32 (256 atoms) and 64 (100 atoms):
    sPyNNaker refuses it (DelayExtensionException), and so does snnc, in one line."""
    rng = np.random.default_rng(0)
    pops = (Pop("in", 16, True), Pop("a", 256, False), Pop("b", 100, False))
    projs = tuple(Proj("in", t, rng.integers(0, 16, 50), rng.integers(0, n, 50),
                       np.full(50, 100)) for t, n in (("a", 256), ("b", 100)))
    with pytest.raises(MappingError, match=r"on-core delay spans \[32, 64\]"):
        map_netlist(Netlist(pops, projs), CHIP)


def test_memory_of_one_core_worked_by_hand():
    """SDRAM: 3 source atoms, rows of 2, 1 and 2 synapses into one core: 3 rows x (3 header
    words + the longest row, 2 words) x 4 bytes = 60. DTCM for 4 neurons with delays <= 2:
    2**(2 atom + 1 type + 1 delay bits) slots x 2 bytes + 4 x 64 + 3,096 = 3,384 bytes."""
    net = Netlist((Pop("in", 3, True), Pop("lif", 4, False)),
                  (Proj("in", "lif", np.array([0, 0, 1, 2, 2]), np.array([0, 1, 2, 3, 0]),
                        np.array([1, 2, 1, 2, 2])),))
    m = map_netlist(net, CHIP)
    core = m.part.vertices[1]
    assert (core.sdram, core.dtcm, core.synapses) == (60, 3384, 5)
    assert m.part.vertices[0].dtcm == 3096  # a spike source: its buffers only


def test_a_network_too_big_for_the_chips_given_is_refused():
    """Placement stops at the limit: 40 cores need 3 chips of 16; 2 given."""
    net = Netlist((Pop("in", 10, True), Pop("big", 39 * 256, False)),
                  (Proj("in", "big", np.zeros(1, np.int64), np.zeros(1, np.int64),
                        np.ones(1, np.int64)),))
    with pytest.raises(ResourceExceededError, match=r"40 cores = 3 SpiNNaker chips, more than "
                                                    r"the 2 chips given") as error:
        map_netlist(net, CHIP, chips=2)
    assert (error.value.resource, error.value.need, error.value.limit) == ("chips", 3, 2)
    with pytest.raises(ResourceExceededError, match="largest machine"):
        map_netlist(net, chip_with(max_chips=1))
    assert map_netlist(net, CHIP, chips=3).fit["chips"]["need"] == 3


# -- the ARM load --------------------------------------------------------------------------------

def test_arm_cycles_worked_by_hand():
    """One source core (4 atoms) into one 2-neuron core: 5 synapses (atom 0: 2, atom 1: 1,
    atom 3: 2). Steps with 0, 2 (atoms 0 and 1 by the run's totals) and 40 spikes of the
    source, batch 1: packets in = spikes, synaptic events = spikes x the mean fan-out of the
    spiking atoms (atoms 0 and 1: 1.5), the core's cycles = 2,000 + 210 x 2 + 150 x packets
    + 15.4 x events (+ 20 per spike sent, none here)."""
    net = Netlist((Pop("in", 4, True), Pop("lif", 2, False)),
                  (Proj("in", "lif", np.array([0, 0, 1, 3, 3]), np.array([0, 1, 0, 0, 1]),
                        np.ones(5, np.int64), "c"),))
    activity = {"in": np.array([1, 1, 0, 0]), "lif": np.zeros(2)}
    m = map_netlist(net, CHIP, activity=activity)
    counters = Counters(spikes={"in": np.array([0, 2, 40]), "lif": np.zeros(3, np.int64)})
    work = cycles(m, CHIP, counters, activity, batch=1)
    want = [2000 + 420 + 150 * s + 15.4 * 1.5 * s for s in (0, 2, 40)]
    np.testing.assert_allclose(work[1], want)
    np.testing.assert_allclose(work[0], [2000 + 20 * s for s in (0, 2, 40)])
    assert load(m, CHIP, counters, activity, 1)["overruns"] == []
    slow = dataclasses.replace(CHIP, arm=dataclasses.replace(CHIP.arm, packet_received=5000.0))
    found = load(m, slow, counters, activity, 1)
    most = 2000 + 420 + 5000 * 40 + 15.4 * 60
    assert found["overruns"] == [{"core": 1, "population": "lif", "atoms": [0, 2], "steps": 1,
                                  "first_step": 2, "most_cycles": pytest.approx(most),
                                  "over_by": pytest.approx(most / 200000 - 1)}]
    assert found["time_scale_factor"] == 2


def test_report_prices_the_mapping_with_traffic_and_load(tmp_path):
    """``snnc report -t spinnaker1`` (digits, 64 rows): the cost JSON carries the router
    traffic and the ARM load; 52,525 packets (one per spike of the input and lif1 cores, as
    the run's spike counts give) on one chip: no chip-to-chip hops."""
    from pathlib import Path

    from snnc.cli import main

    digits = Path(__file__).resolve().parents[3] / "examples" / "digits"
    out = tmp_path / "report.json"
    assert main(["report", str(digits / "digits.nir"), "-t", "spinnaker1", "-i",
                 str(digits / "test_spikes.npz"), "--format", "json", "-o", str(out)]) == 0
    entry = json.loads(out.read_text())["targets"]["spinnaker1"]
    cost = entry["cost"]
    with np.load(digits / "test_spikes.npz") as data:
        sent = int(data["spikes"].sum()) + entry["spikes"]["lif1"]  # lif2 sends nowhere
    assert cost["traffic"]["packets"] == sent == 52525
    assert cost["traffic"]["router_hops"] == 0
    assert cost["load"]["budget_cycles"] == 200000 and cost["load"]["time_scale_factor"] == 1
    assert entry["mapping"]["router_entries"] == {"need": 2, "limit": 1023, "unit": "entries",
                                                  "uncompressed": 2}


def test_compile_refuses_in_one_line_what_does_not_fit(tmp_path, capsys):
    """``snnc compile --chips 1`` of 4,000 neurons (16 cores, a source and its
    DelayExtension: 18 cores, 3 chips as sPyNNaker places them): exit status 2, one line naming the need and limit."""
    from snnc.cli import main
    from snnc.frontends import write_nir
    from tests.backends.spinnaker.test_spinnaker_mapping_vs_spynnaker import two_chips

    write_nir(two_chips(), tmp_path / "two.nir")
    code = main(["compile", str(tmp_path / "two.nir"), "-t", "spinnaker1", "--dt", "1e-3",
                 "--chips", "1", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not (tmp_path / "out").exists()
    assert err == ["snnc: error: network needs 18 cores = 3 SpiNNaker chips, more than the 1 "
                   "chips given (--chips); largest: node 'lif' on 16 cores (fit report: "
                   f"{tmp_path / 'out.fit_report.json'})"]
    fit = json.loads((tmp_path / "out.fit_report.json").read_text())
    assert (fit["fits"], fit["need"], fit["limit"]) == (False, 3, 1)
