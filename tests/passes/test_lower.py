"""lower: the NIR paper CNN as synapse matrices over 1-d populations, with identical spikes."""
import numpy as np

from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes

F64 = SimOptions(dtype="float64")


def test_paper_cnn_lowers_to_matrices_with_identical_spikes(data_dir):
    cnn = load_model(data_dir / "cnn_sinabs.nir")
    x = spikes(np.random.default_rng(0), (15, 2, 2, 34, 34), 0.2)
    lowered, [record] = run_pipeline(cnn, parse("lower"), PassContext(F64, x))
    kinds = {type(v) for v in lowered.nodes.values()}
    assert not kinds & {n.Conv2d, n.SumPool2d}
    assert all(len(s) == 1 for k, s in lowered.shapes.items() if k != "input")
    assert record.report["lowered"] == ["0", "2", "4", "5", "7"]
    assert record.report["synapses_after"] > 0 and record.report["output_agreement"] == 1.0
    expected = simulate(cnn, x, F64).outputs["output"]
    assert expected.sum() > 0 and lowered.nodes["input"].shape == (2, 34, 34)
    np.testing.assert_array_equal(simulate(lowered, x, F64).outputs["output"], expected)


def test_conv_output_populations_and_avg_pool_flatten_in_c_order():
    rng = np.random.default_rng(1)
    shape = (2, 5, 5)
    lif = n.LIF(tau=rng.uniform(2e-3, 1e-2, (3, 4, 4)), r=np.ones((3, 4, 4)),
                v_leak=np.zeros((3, 4, 4)), v_threshold=rng.uniform(0.2, 0.6, (3, 4, 4)))
    nodes = {"in": n.Input(shape=shape),
             "conv": n.Conv2d(weight=rng.normal(size=(3, 2, 2, 2)), bias=rng.normal(size=3)),
             "lif": lif, "pool": n.AvgPool2d(kernel_size=2, stride=2),
             "out": n.Output(shape=(3, 2, 2))}
    graph = Graph(nodes=nodes, edges=(("in", "conv"), ("conv", "lif"), ("lif", "pool"),
                                      ("pool", "out")))
    lowered, _ = run_pipeline(graph, parse("lower"), PassContext(F64))
    x = spikes(rng, (30, 2, *shape), 0.4)
    expected = simulate(graph, x, F64).outputs["out"]
    got = simulate(lowered, x, F64).outputs["out"]
    assert got.shape == (30, 2, 12) and expected.any()
    np.testing.assert_allclose(got, expected.reshape(30, 2, 12), rtol=1e-12, atol=1e-12)
