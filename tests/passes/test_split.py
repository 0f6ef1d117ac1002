"""split-populations: per-neuron thresholds folded into the neuron's constants and per-neuron
decays split into populations of equal decay; the reference output is unchanged (spikes equal
on random graphs, fixed seeds) and every population comes out uniform in what Lava shares."""
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import Graph, Input, Output
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse

OPTIONS = SimOptions(dt=1e-3)


def random_graph(seed, kind="LIF", groups=3):
    rng = np.random.default_rng(seed)
    sizes = (12, 10, 8, 4)

    def population(size):
        taus = rng.choice(rng.uniform(2e-3, 2e-2, groups), size)
        common = dict(v_threshold=rng.uniform(0.3, 1.2, size), v_reset=rng.uniform(-0.2, 0, size),
                      r=rng.uniform(0.8, 1.5, size), v_leak=rng.uniform(-0.05, 0.05, size))
        if kind == "LIF":
            return n.LIF(tau=taus, **common)
        return n.CubaLIF(tau_mem=taus, tau_syn=rng.choice([3e-3, 6e-3], size), **common)

    nodes = {"input": Input(shape=(sizes[0],))}
    edges, last = [], "input"
    for k in range(3):
        gain = 8.0 if kind == "LIF" else 20.0
        w = rng.normal(0, gain / np.sqrt(sizes[k]), (sizes[k + 1], sizes[k]))
        nodes[f"fc{k}"] = n.Affine(weight=w, bias=rng.normal(0, 0.1, sizes[k + 1]))
        nodes[f"pop{k}"] = population(sizes[k + 1])
        edges += [(last, f"fc{k}"), (f"fc{k}", f"pop{k}")]
        last = f"pop{k}"
    nodes["output"] = Output(shape=(sizes[-1],))
    edges.append((last, "output"))
    return Graph(nodes=nodes, edges=tuple(edges))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["LIF", "CubaLIF"])
def test_split_keeps_the_spikes(seed, kind):
    graph = random_graph(seed, kind)
    x = (np.random.default_rng(seed).random((80, 4, 12)) < 0.3).astype(float)
    ctx = PassContext(OPTIONS, calibration=x)
    (split,) = parse("split-populations")
    result = split.run(graph, ctx)
    after = result.graph
    assert set(result.report["split"]) == {"pop0", "pop1"}  # pop2 feeds the Output
    assert set(result.report["folded"]) == {"pop0", "pop1", "pop2"}
    assert result.report["kept"] == {"pop2": "'output' (Output) is not an Affine/Linear"}
    for name, node in after.nodes.items():
        if isinstance(node, n.Neuron) and name != "pop2":
            assert np.ptp(node.v_threshold - node.v_reset) == 0
            for decay in ("tau", "tau_mem", "tau_syn"):
                assert np.ptp(getattr(node, decay, 0)) == 0, (name, decay)
    want = simulate(graph, x, OPTIONS).outputs["output"]
    got = simulate(after, x, OPTIONS).outputs["output"]
    assert 0 < want.sum() < want.size
    np.testing.assert_array_equal(got, want)
    assert result.report["output_agreement"] == 1.0


def test_uniform_graphs_are_left_alone():
    graph = random_graph(0, groups=1)
    nodes = {k: (n.LIF(tau=np.full(v.shape, 5e-3), r=np.ones(v.shape), v_leak=np.zeros(v.shape),
                       v_threshold=np.ones(v.shape)) if isinstance(v, n.LIF) else v)
             for k, v in graph.nodes.items()}
    uniform = Graph(nodes=nodes, edges=graph.edges)
    (split,) = parse("split-populations")
    result = split.run(uniform, PassContext(OPTIONS))
    assert result.graph.nodes.keys() == uniform.nodes.keys()
    assert result.report == {"folded": "-", "clustered": "-", "split": "-", "kept": "-"}


def test_groups_clusters_the_decays_and_reports_the_cost():
    graph = random_graph(2, groups=12)  # up to 12 distinct taus per layer
    x = (np.random.default_rng(2).random((80, 4, 12)) < 0.3).astype(float)
    (lossless,) = parse("split-populations")
    (clustered,) = parse("split-populations{groups=2}")
    many = lossless.run(graph, PassContext(OPTIONS, calibration=x)).report
    few = clustered.run(graph, PassContext(OPTIONS, calibration=x))
    assert all(few.report["split"][k] <= 2 for k in few.report["split"])
    assert sum(few.report["split"].values()) < sum(many["split"].values())
    assert set(few.report["clustered"]) == {"pop0", "pop1", "pop2"}
    assert 0 < max(few.report["clustered"].values()) < 1
    assert 0 < few.report["output_agreement"] <= 1
