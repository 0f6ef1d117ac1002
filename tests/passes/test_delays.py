"""map-delays: Delay nodes fold into synapses, delays become whole steps, and delays beyond the
target's limit go through relay neurons, with reference spikes unchanged."""
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.errors import GraphError
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes

DT = 1e-3
OPTIONS = SimOptions(dt=DT)


def delay_network(rng, n_in=6, n_out=5, longest=200, delay_node=False):
    """Input spikes -> (Delay) -> delayed Linear -> LIF; delays up to `longest` steps."""
    lif = n.LIF(tau=np.full(n_out, 2e-3), r=np.ones(n_out), v_leak=np.zeros(n_out),
                v_threshold=np.full(n_out, 0.4))
    delay = rng.integers(0, longest + 1, (n_out, n_in)) * DT
    nodes = {"in": n.Input(shape=(n_in,)),
             "w": n.Linear(weight=rng.uniform(0.2, 1.0, (n_out, n_in)), delay=delay),
             "lif": lif, "out": n.Output(shape=(n_out,))}
    edges = [("in", "w"), ("w", "lif"), ("lif", "out")]
    if delay_node:
        nodes["d"] = n.Delay(delay=rng.integers(0, 30, n_in) * DT)
        edges[0:1] = [("in", "d"), ("d", "w")]
    return Graph(nodes=nodes, edges=tuple(edges))


@pytest.mark.parametrize("limit", [0, 62, 15])
def test_long_delays_through_relays_keep_the_spikes(limit):
    rng = np.random.default_rng(limit)
    graph = delay_network(rng, delay_node=True)
    x = spikes(rng, (400, 2, 6), 0.05)
    ctx = PassContext(OPTIONS, x)
    mapped, [record] = run_pipeline(graph, parse(f"map-delays{{max_delay={limit}}}"), ctx)
    report = record.report
    assert report["delay_nodes_folded"] == 1 and "d" not in mapped.nodes
    assert report["delays_rounded"] == 0 and report["output_agreement"] == 1.0
    if limit:
        assert report["max_delay_steps"] <= limit and report["relay_neurons"]["w"] > 0
        assert any(isinstance(v, n.IF) for v in mapped.nodes.values())
    expected = simulate(graph, x, OPTIONS).outputs["out"]
    assert expected.sum() > 0
    np.testing.assert_array_equal(simulate(mapped, x, OPTIONS).outputs["out"], expected)


def test_delays_that_are_not_whole_steps_are_rounded_and_reported():
    rng = np.random.default_rng(1)
    graph = delay_network(rng, longest=20)
    w = graph.nodes["w"]
    import dataclasses
    graph = Graph(nodes={**graph.nodes, "w": dataclasses.replace(w, delay=w.delay + 0.3 * DT)},
                  edges=graph.edges)
    mapped, [record] = run_pipeline(graph, parse("map-delays"), PassContext(OPTIONS))
    assert record.report["delays_rounded"] == w.delay.size
    assert abs(record.report["max_rounding_steps"] - 0.3) < 1e-6
    np.testing.assert_allclose(mapped.nodes["w"].delay, w.delay)


def test_relays_need_spiking_input():
    rng = np.random.default_rng(2)
    graph = delay_network(rng)
    nodes = {**graph.nodes, "pre": n.LI(tau=np.full(6, 1e-2), r=np.ones(6), v_leak=np.zeros(6))}
    edges = (("in", "pre"), ("pre", "w"), ("w", "lif"), ("lif", "out"))
    with pytest.raises(GraphError, match="node 'w': delays over 62 steps need relays"):
        run_pipeline(Graph(nodes=nodes, edges=edges), parse("map-delays{max_delay=62}"),
                     PassContext(OPTIONS))


@pytest.mark.parametrize("target", ["loihi2", "spinnaker1"])
def test_a_delay_after_a_biased_affine_is_refused_saying_why(target, tmp_path, capsys):
    """The bias would be delayed with the synapses, so map-delays leaves the Delay; compile
    says so in its one error line, with the way out."""
    from snnc.cli import main
    from snnc.frontends import write_nir

    size = (4,)
    graph = Graph(nodes={
        "input": n.Input(shape=(3,)), "fc": n.Affine(weight=np.ones((4, 3)), bias=np.ones(4)),
        "d": n.Delay(delay=np.full(size, 2 * DT)),
        "lif": n.LIF(tau=np.full(size, 0.01), r=np.ones(size), v_leak=np.zeros(size),
                     v_threshold=np.ones(size), v_reset=np.zeros(size)),
        "output": n.Output(shape=size)},
        edges=(("input", "fc"), ("fc", "d"), ("d", "lif"), ("lif", "output")))
    write_nir(graph, tmp_path / "biased.nir")
    assert main(["compile", str(tmp_path / "biased.nir"), "-t", target, "--dt", str(DT),
                 "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "node 'd'" in err[0] and "bias would be delayed" in err[0]
