"""Pruning passes and the pass manager, on the digits example and on random graphs."""
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.errors import OptionError
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.ir import Graph, synapse_count
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes
from tests.random_graphs import random_graph

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"


@pytest.fixture(scope="module")
def digits():
    with np.load(DIGITS / "test_spikes.npz") as data:
        ctx = PassContext(SimOptions(dt=1e-3), data["spikes"], data["labels"])
    return load_model(DIGITS / "digits.nir"), ctx


def test_pipeline_spec_errors_list_what_is_valid():
    with pytest.raises(OptionError, match=r"unknown pass 'quantise' \(available: .*prune"):
        parse("quantise{bits=8}")
    with pytest.raises(OptionError, match=r"unknown option 'ratio' \(valid: sparsity, scope\)"):
        parse("prune{ratio=0.5}")
    assert parse(" prune{sparsity=0.25, scope=layer} ")[0].sparsity == 0.25


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_magnitude_pruning_reaches_the_target_sparsity(digits, scope):
    graph, ctx = digits
    pruned, [record] = run_pipeline(graph, parse(f"prune{{sparsity=0.5,scope={scope}}}"), ctx)
    weights = [pruned.nodes[k].weight for k in ("fc1", "fc2")]
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert zeros == int(np.ceil(0.5 * sum(w.size for w in weights))) or scope == "layer"
    if scope == "layer":
        assert all(np.mean(w == 0) >= 0.5 for w in weights)
    kept = np.abs(pruned.nodes["fc1"].weight[pruned.nodes["fc1"].weight != 0])
    original = np.abs(graph.nodes["fc1"].weight)
    assert kept.min() >= np.sort(original.ravel())[int((original == 0).sum())]  # smallest went
    report = record.report
    assert report["synapses_after"] == synapse_count(pruned) < report["synapses_before"]
    assert 0 < report["output_agreement"] < 1
    assert report["accuracy_before"] > 0.9 and 0 < report["accuracy_after"] <= 1


def test_prune_inactive_keeps_the_output(digits):
    graph, ctx = digits
    # make a third of the hidden neurons unable to fire
    lif = graph.nodes["lif1"]
    silent = np.arange(lif.shape[0]) % 3 == 0
    threshold = np.where(silent, 1e9, lif.v_threshold)
    import dataclasses
    graph = Graph(nodes={**graph.nodes, "lif1": dataclasses.replace(lif, v_threshold=threshold)},
                  edges=graph.edges)
    pruned, [record] = run_pipeline(graph, parse("prune-inactive"), ctx)
    assert record.report["neurons_removed"]["lif1"] >= silent.sum()
    assert pruned.nodes["lif1"].shape[0] == lif.shape[0] - record.report["neurons_removed"]["lif1"]
    assert record.report["output_agreement"] == 1.0
    assert record.report["accuracy_after"] == record.report["accuracy_before"]


@pytest.mark.parametrize("seed", range(6))
def test_passes_return_verified_graphs_that_still_run(seed):
    graph = random_graph(seed)
    x = spikes(np.random.default_rng(seed), (40, 2, graph.nodes["input"].shape[0]), 0.3)
    ctx = PassContext(SimOptions(dt=1e-3), x)
    pruned, records = run_pipeline(graph, parse("prune{sparsity=0.3},prune-inactive"), ctx)
    assert isinstance(pruned, Graph) and len(records) == 2
    assert records[1].report["output_agreement"] == 1.0  # removing silent neurons is exact
    assert simulate(pruned, x, ctx.options).outputs["output"].shape == (40, 2, pruned.nodes[
        "output"].shape[0])


def test_prune_inactive_needs_calibration():
    with pytest.raises(OptionError, match="needs calibration input"):
        run_pipeline(random_graph(0), parse("prune-inactive"), PassContext())


def test_matrix_read_by_two_populations_is_not_shrunk():
    rng = np.random.default_rng(0)
    lif = n.LIF(tau=np.full(4, 1e-2), r=np.ones(4), v_leak=np.zeros(4),
                v_threshold=np.array([0.1, 1e9, 0.1, 1e9]))
    nodes = {"in": n.Input(shape=(3,)), "w": n.Linear(weight=rng.normal(size=(4, 3)) * 5),
             "a": lif, "b": lif, "out": n.Output(shape=(4,))}
    graph = Graph(nodes=nodes, edges=(("in", "w"), ("w", "a"), ("w", "b"), ("a", "out"),
                                      ("b", "out")))
    ctx = PassContext(SimOptions(dt=1e-3), spikes(rng, (20, 2, 3), 0.5))
    pruned, [record] = run_pipeline(graph, parse("prune-inactive"), ctx)
    assert record.report["neurons_removed"] == {} and pruned.nodes["a"].shape == (4,)
