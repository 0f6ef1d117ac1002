"""Properties of the reference simulator on random graphs (fixed seeds).

- exporting to NIR and importing again changes nothing: identical outputs, bit for bit;
- running a graph step by step (forced by a zero-weight loop around it) equals running it
  layer by layer over the whole sequence.
"""
import numpy as np
import pytest

from snnc.backends.reference import blocks, simulate
from snnc.frontends import load_model, write_nir
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from tests.conftest import spikes
from tests.random_graphs import random_graph

SEEDS = range(12)
OPTIONS = SimOptions(dt=1e-3)


def run(graph, seed):
    x = spikes(np.random.default_rng(100 + seed), (60, 3, graph.nodes["input"].shape[0]), 0.3)
    return simulate(graph, x, OPTIONS).outputs["output"]


@pytest.mark.parametrize("seed", SEEDS)
def test_nir_round_trip_preserves_behaviour(seed, tmp_path):
    graph = random_graph(seed)
    write_nir(graph, tmp_path / "g.nir")
    expected = run(graph, seed)
    assert np.isfinite(expected).all() and np.abs(expected).sum() > 0
    np.testing.assert_array_equal(run(load_model(tmp_path / "g.nir"), seed), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_schedule_equals_sequence_schedule(seed):
    graph = random_graph(seed, recurrent=False)
    last = [src for src, dst in graph.edges if dst == "output"][0]
    size_in, size_out = graph.nodes["input"].shape[0], graph.nodes[last].shape[0]
    first = [dst for src, dst in graph.edges if src == "input"][0]
    looped = Graph(nodes={**graph.nodes, "zero": n.Linear(weight=np.zeros((size_in, size_out)))},
                   edges=(*graph.edges, (last, "zero"), ("zero", first)))
    assert max(len(b) for b in blocks(graph)) == 1 and max(len(b) for b in blocks(looped)) > 2
    expected = run(graph, seed)
    assert np.abs(expected).sum() > 0
    np.testing.assert_array_equal(run(looped, seed), expected)
