"""lower: the NIR paper CNN as synapse matrices over 1-d populations, with identical spikes."""
import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from snnc.passes.lower import _as_matrix
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


# -- the matrix construction against the old one: the layer run on an identity matrix ---------


def identity_oracle(node, in_shape):
    """The previous construction (slow, obviously right): column j = the bias-free layer's
    response to unit input j, through the reference kernels in float64."""
    import dataclasses
    import math

    from snnc.backends.reference.kernels import STATELESS

    size = math.prod(in_shape)
    plain = dataclasses.replace(node, bias=np.zeros_like(node.bias)) if hasattr(node, "bias") \
        else node
    kernel = STATELESS[type(plain)](plain, F64, in_shape)
    matrix = kernel.apply(np.eye(size).reshape(size, *in_shape)).reshape(size, -1).T
    return matrix.astype(node.weight.dtype if hasattr(node, "weight") else np.float64)


def random_window(rng, kind):
    """A random conv or pool and an input shape it fits, with every option exercised."""
    dims = 1 if kind == "conv1d" else 2
    kernel = tuple(int(k) for k in rng.integers(1, 5, dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, dims))
    if kind.endswith("pool"):
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)  # torch's limit
        size = tuple(int(k + rng.integers(0, 6)) for k in kernel)
        pool = n.AvgPool2d if kind == "avgpool" else n.SumPool2d
        return pool(kernel_size=kernel, stride=stride, padding=padding), \
            (int(rng.integers(1, 4)), *size)
    dilation = tuple(int(d) for d in rng.integers(1, 4, dims))
    groups = int(rng.choice([1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    padding = [0, "same", "valid", tuple(int(p) for p in rng.integers(0, 3, dims))][
        rng.integers(0, 4)]
    dtype = rng.choice([np.float32, np.float64])
    weight = rng.normal(size=(c_out, c_in // groups, *kernel)).astype(dtype)
    weight[rng.random(weight.shape) < 0.2] = 0  # zero weights stay (non-)synapses alike
    bias = (rng.normal(size=c_out) * (rng.random() < 0.5)).astype(dtype)
    conv = n.Conv1d if dims == 1 else n.Conv2d
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(int(s + rng.integers(0, 5)) for s in span)
    return conv(weight=weight, bias=bias, stride=stride, padding=padding, dilation=dilation,
                groups=groups), (c_in, *size)


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "sumpool", "avgpool"])
def test_index_built_matrices_are_bit_identical_to_the_identity_construction(kind):
    rng = np.random.default_rng(["conv1d", "conv2d", "sumpool", "avgpool"].index(kind))
    for _ in range(25):
        node, in_shape = random_window(rng, kind)
        lowered = _as_matrix(node, in_shape)
        expected = identity_oracle(node, in_shape)
        assert lowered.weight.dtype == expected.dtype and lowered.weight.shape == expected.shape
        assert lowered.weight.tobytes() == expected.tobytes(), (node, in_shape)
        if hasattr(node, "bias") and node.bias.any():
            assert isinstance(lowered, n.Affine)
            per_output = np.repeat(node.bias, expected.shape[0] // node.bias.size)
            np.testing.assert_array_equal(lowered.bias, per_output)
        else:
            assert isinstance(lowered, n.Linear)


def test_index_built_conv_matches_torch_on_one_hot_inputs():
    """An oracle outside snnc: torch's conv2d applied to every unit input."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    node = n.Conv2d(weight=rng.normal(size=(6, 2, 3, 2)), bias=np.zeros(6), stride=(2, 1),
                    padding=(1, 2), dilation=(2, 3), groups=2)
    in_shape = (4, 7, 6)
    eye = torch.eye(168, dtype=torch.float64).reshape(168, *in_shape)
    out = torch.nn.functional.conv2d(eye, torch.tensor(node.weight), stride=(2, 1),
                                     padding=(1, 2), dilation=(2, 3), groups=2)
    np.testing.assert_array_equal(_as_matrix(node, in_shape).weight,
                                  out.reshape(168, -1).T.numpy())
