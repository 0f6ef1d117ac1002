"""normalize: every rewrite keeps the reference spikes identical (float64 simulation, so the
about-one-ulp rounding differences of folded parameters cannot flip a spike), on the NIR paper
CNN (with its pools made average pools) and on random graphs with Scale nodes."""
import dataclasses

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes
from tests.random_graphs import random_graph

F64 = SimOptions(dt=1e-3, dtype="float64")


def outputs(graph, x):
    return simulate(graph, x, F64).outputs


def test_cnn_with_average_pools(data_dir):
    cnn = load_model(data_dir / "cnn_sinabs.nir")
    nodes = {k: (n.AvgPool2d(kernel_size=v.kernel_size, stride=v.stride, padding=v.padding)
                 if isinstance(v, n.SumPool2d) else v) for k, v in cnn.nodes.items()}
    graph = Graph(nodes=nodes, edges=cnn.edges)
    x = spikes(np.random.default_rng(0), (20, 2, 2, 34, 34), 0.2)
    ctx = PassContext(F64, x)
    normal, [record] = run_pipeline(graph, parse("normalize"), ctx)
    assert record.report["avgpool_split"] == 2 and record.report["scale_folded"] == 2
    assert not any(isinstance(v, (n.AvgPool2d, n.Scale)) for v in normal.nodes.values())
    assert record.report["output_agreement"] == 1.0
    assert outputs(graph, x)["output"].sum() > 0


def with_scales_and_chains(seed):
    """A random graph plus a Scale after its first population and a Linear->Affine chain."""
    graph = random_graph(seed)
    rng = np.random.default_rng(seed)
    first = next(k for k in graph.order if k.startswith("pop"))
    size = graph.nodes[first].shape[0]
    readers = graph.successors(first)
    nodes = {**graph.nodes, "s": n.Scale(scale=rng.uniform(0.5, 2, size)),
             "pre": n.Linear(weight=rng.normal(size=(size, size))),
             "post": n.Affine(weight=np.eye(size) * 0.5, bias=rng.normal(0, 0.1, size))}
    edges = [e for e in graph.edges if e[0] != first]
    edges += [(first, "s"), ("s", "pre"), ("pre", "post")] + [("post", r) for r in readers]
    return Graph(nodes=nodes, edges=tuple(edges))


@pytest.mark.parametrize("seed", range(10))
def test_random_graphs_keep_their_spikes(seed):
    graph = with_scales_and_chains(seed)
    x = spikes(np.random.default_rng(seed), (50, 3, graph.nodes["input"].shape[0]), 0.3)
    normal, [record] = run_pipeline(graph, parse("normalize"), PassContext(F64, x))
    assert record.report["scale_folded"] >= 1 and record.report["linear_merged"] >= 1
    assert "s" not in normal.nodes and len(normal.nodes) < len(graph.nodes)
    expected = outputs(graph, x)["output"]
    np.testing.assert_allclose(outputs(normal, x)["output"], expected, rtol=1e-9, atol=1e-9)
    assert np.abs(expected).sum() > 0


def test_identities_are_removed():
    lif = n.LIF(tau=np.full(3, 1e-2), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3))
    nodes = {"in": n.Input(shape=(3,)), "one": n.Scale(scale=np.ones(3)),
             "nodelay": n.Delay(delay=np.zeros(3)), "flat": n.Flatten(start_dim=0),
             "lif": lif, "out": n.Output(shape=(3,))}
    graph = Graph(nodes=nodes, edges=(("in", "one"), ("one", "nodelay"), ("nodelay", "flat"),
                                      ("flat", "lif"), ("lif", "out")))
    normal, [record] = run_pipeline(graph, parse("normalize"), PassContext())
    assert set(normal.nodes) == {"in", "lif", "out"} and record.report["identity_removed"] == 3


def test_options_disable_rewrites():
    graph = with_scales_and_chains(0)
    normal, [record] = run_pipeline(graph, parse("normalize{fold_scale=false,merge_linear=false}"),
                                    PassContext())
    assert "s" in normal.nodes and record.report["linear_merged"] == 0
    assert dataclasses.is_dataclass(parse("normalize")[0])
