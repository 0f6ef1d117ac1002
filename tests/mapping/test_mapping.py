"""partition -> place -> route: limits respected on random graphs, traffic counted exactly,
artefacts round-trip through JSON, and graphs too large for a chip fail naming the limit."""
import dataclasses
import json

import numpy as np
import pytest

from snnc.errors import GraphError, ResourceExceededError
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.mapping import HOST, Partition, Placement, Routes, fit_report, map_graph, partition

from tests.random_graphs import random_graph


def small_core(chip_name="loihi1", **core):
    """The chip with smaller cores (and topology), so that random graphs span many cores."""
    chip = load_chip(chip_name)
    topology = core.pop("topology", {})
    return dataclasses.replace(chip, core=dataclasses.replace(chip.core, **core),
                               topology=dataclasses.replace(chip.topology, **topology))


def mlp(rng, sizes, density=1.0):
    nodes = {"input": n.Input(shape=(sizes[0],))}
    edges, previous = [], "input"
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        weight = rng.normal(size=(b, a)) * (rng.random((b, a)) < density)
        nodes[f"w{k}"] = n.Linear(weight=weight)
        nodes[f"lif{k}"] = n.LIF(tau=np.full(b, 0.01), r=np.ones(b), v_leak=np.zeros(b),
                                 v_threshold=np.ones(b), v_reset=np.zeros(b))
        edges += [(previous, f"w{k}"), (f"w{k}", f"lif{k}")]
        previous = f"lif{k}"
    nodes["output"] = n.Output(shape=(sizes[-1],))
    return Graph(nodes=nodes, edges=tuple(edges + [(previous, "output")]))


@pytest.mark.parametrize("seed", range(8))
def test_slices_cover_each_population_within_every_limit(seed):
    rng = np.random.default_rng(seed)
    graph = mlp(rng, [int(s) for s in rng.integers(5, 60, 4)], density=rng.uniform(0.1, 1))
    chip = small_core(neurons_per_core=int(rng.integers(3, 20)),
                      synapse_memory=int(rng.integers(8 * 60, 8 * 300)),
                      input_axons=int(rng.integers(60, 80)))
    part = partition(graph, chip)
    for name in ("lif0", "lif1", "lif2"):
        slices = part.of(name)
        assert slices[0].start == 0 and slices[-1].stop == graph.nodes[name].shape[0]
        assert all(a.stop == b.start for a, b in zip(slices, slices[1:]))
        weight = graph.nodes[f"w{name[-1]}"].weight
        for s in slices:
            assert s.neurons <= chip.core.neurons_per_core
            assert s.synapse_bits <= chip.core.synapse_memory
            assert s.input_axons <= chip.core.input_axons
            assert s.synapses == np.count_nonzero(weight[s.start:s.stop])
            assert s.synapse_bits == 8 * s.synapses  # 8-bit weights, no delays
    assert [c.core for c in part.cores] == list(range(len(part.cores)))


def brute_force_packets(graph, part, spikes):
    """Per (source core, target core): spikes of source neurons that reach the target core."""
    owner = {}
    for c in part.cores:
        for i in range(c.start, c.stop):
            owner[(c.population, i)] = c.core
    packets = {}
    for k in range(3):
        source = "input" if k == 0 else f"lif{k - 1}"
        weight = graph.nodes[f"w{k}"].weight
        for j in range(weight.shape[1]):
            dests = {owner[(f"lif{k}", i)] for i in np.flatnonzero(weight[:, j])}
            src = HOST if k == 0 else owner[(source, j)]
            for d in dests:
                packets[(src, d)] = packets.get((src, d), 0) + int(spikes[source][j])
    return packets


@pytest.mark.parametrize("seed", range(4))
def test_routes_count_one_packet_per_spike_and_target_core(seed):
    rng = np.random.default_rng(100 + seed)
    graph = mlp(rng, [20, 30, 25, 10], density=0.3)
    chip = small_core(neurons_per_core=7, topology={"cores_per_tile": 2, "cores_per_chip": 8})
    spikes = {name: rng.integers(0, 5, graph.nodes[name].shape[0])
              for name in ("input", "lif0", "lif1", "lif2")}
    mapping = map_graph(graph, chip, activity=spikes)
    found = {(k.source_core, k.target_core): k.packets for k in mapping.routes.links}
    assert found == brute_force_packets(graph, mapping.partition, spikes)
    assert mapping.placement.chips == -(-len(mapping.partition.cores) // 8)
    for k in mapping.routes.links:
        if k.source_core != HOST:
            a, b = (mapping.placement.cores[c] for c in (k.source_core, k.target_core))
            assert k.hops == abs(a.x - b.x) + abs(a.y - b.y)
            assert (k.hops == 0) == ((a.chip, a.tile) == (b.chip, b.tile))
            assert k.inter_chip == (a.chip != b.chip)
    totals = mapping.routes.totals()
    assert totals["inter_chip_packets"] == sum(
        p for (s, d), p in found.items()
        if s != HOST and mapping.placement.cores[s].chip != mapping.placement.cores[d].chip) > 0


def test_artefacts_round_trip_through_json(tmp_path):
    graph = mlp(np.random.default_rng(0), [30, 40, 10], density=0.5)
    mapping = map_graph(graph, small_core(neurons_per_core=16),
                        activity={"lif0": np.ones(40, int)})
    assert Partition.from_json(mapping.partition.to_json()) == mapping.partition
    assert Placement.from_json(mapping.placement.to_json()) == mapping.placement
    assert Routes.from_json(mapping.routes.to_json()) == mapping.routes
    written = mapping.write(tmp_path)
    assert sorted(written) == sorted(p.name for p in tmp_path.iterdir())
    fit = json.loads((tmp_path / "fit_report.json").read_text())
    assert fit["fits"] and fit["cores"]["need"] == len(mapping.partition.cores)
    assert [p["cores"] for p in fit["populations"]] == [3, 1]


@pytest.mark.parametrize("seed", range(6))
def test_random_ir_graphs_map(seed):
    """The random conformance graphs (with delays, skips, recurrence) partition and route."""
    from snnc.options import SimOptions
    from snnc.passes import PassContext, parse, run_pipeline

    graph, _ = run_pipeline(random_graph(seed), parse("normalize,map-delays,lower"),
                            PassContext(SimOptions(dt=1e-3)))
    left = [k for k, v in graph.nodes.items() if isinstance(v, n.Delay)]
    if left:  # a Delay behind a biased Affine does not fold: partitioning must say so
        with pytest.raises(GraphError, match=f"node '{left[0]}' \\(Delay\\).*bias would be"):
            map_graph(graph, small_core(neurons_per_core=4))
        return
    mapping = map_graph(graph, small_core(neurons_per_core=4))
    pops = [k for k, v in graph.nodes.items() if isinstance(v, n.Neuron)]
    assert {c.population for c in mapping.partition.cores} == set(pops)


def test_too_many_chips_names_need_and_limit():
    graph = mlp(np.random.default_rng(1), [10, 300, 10])
    chip = small_core(neurons_per_core=10, topology={"cores_per_chip": 8, "max_chips": 3})
    with pytest.raises(ResourceExceededError, match=r"31 cores = 4 chips .* more than the 3 "
                                                    r"loihi1's largest system"):
        map_graph(graph, chip)
    with pytest.raises(ResourceExceededError, match=r"more than the 2 chips given"):
        map_graph(mlp(np.random.default_rng(1), [10, 200, 10]), chip, chips=2)


def test_one_neuron_beyond_a_core_is_refused_and_reported():
    graph = mlp(np.random.default_rng(2), [5000, 2])
    with pytest.raises(ResourceExceededError,
                       match=r"node 'lif0': one neuron receives from 5000 presynaptic neurons, "
                             r"more than loihi1's 4096 input axons per core"):
        partition(graph, load_chip("loihi1"))
    report = fit_report(graph, load_chip("loihi1"), error="too big")
    assert report["populations"][0]["max_fan_in"] == 5000
    assert report["limits_per_core"]["input_axons"] == 4096 and not report["fits"]


def test_paper_cnn_maps_through_flatten_nodes():
    """The lowered paper CNN keeps Flatten nodes (index maps) between matrices; every
    non-zero weight lands on exactly one core, and no core exceeds Loihi 2's memory."""
    from snnc.backends import get_target
    from snnc.frontends import load_model
    from snnc.options import SimOptions
    from tests.conftest import DATA

    graph, _ = get_target("loihi2").compile(load_model(DATA / "cnn_sinabs.nir"), SimOptions())
    assert any(isinstance(node, n.Flatten) for node in graph.nodes.values())
    chip = load_chip("loihi2")
    mapping = map_graph(graph, chip)
    weights = sum(np.count_nonzero(node.weight) for node in graph.nodes.values()
                  if isinstance(node, (n.Affine, n.Linear)))
    assert sum(c.synapses for c in mapping.partition.cores) == weights
    assert max(c.synapse_bits for c in mapping.partition.cores) <= chip.core.memory
    assert len(mapping.partition.cores) > len({c.population for c in mapping.partition.cores})
