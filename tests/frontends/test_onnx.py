"""The ONNX frontend: ANN -> rate-coded SNN (fixed seeds throughout).

- Every conversion is exact for the ANN: the converted graph's rate-limit forward
  (``ann_forward``: IF -> ReLU / threshold, readout -> its input) equals onnxruntime on the
  original model to 1e-5 (float32 ONNX weights, float64 conversion), which checks each op's
  mapping, BatchNorm folding and that balancing cancels out.
- The SNN approaches that ANN: after 300 steps the readout's rates (membrane / t, or output
  spike rates against max(logits, 0) / lambda) correlate with the ANN at > 0.99 and predict the
  same class for >= 97 % of 100 random inputs (measured: correlation >= 0.99996, 100 %). The
  bounds leave room because rates are quantized to 1/t, the 0.1 % of activations above the
  99.9th percentile saturate at one spike per step, and random untrained networks have
  near-tied logits (at 200 inputs and 50-1000 steps, 98.5-100 % agreed).
"""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from snnc.backends.reference import simulate  # noqa: E402
from snnc.errors import InputError, ModelFileError, UnsupportedLayerError  # noqa: E402
from snnc.frontends import load_model  # noqa: E402
from snnc.frontends.onnx import ann_forward, read_onnx  # noqa: E402
from snnc.frontends.onnx.ops import OPS  # noqa: E402
from snnc.ir import nodes as n  # noqa: E402

COVERED: set[str] = set()  # op types of the models compared with onnxruntime below


def export_torch(model: torch.nn.Module, shape: tuple, path) -> str:
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(model, (torch.rand(2, *shape),), str(path), dynamo=False,
                          opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE)  # keeps BatchNorm nodes
    return str(path)


def onnx_model(path, nodes, in_shape, weights, out_rank=2) -> str:
    """A model from onnx.helper nodes; ``weights`` become float32 initializers."""
    out_shape = ["N", *(f"d{i}" for i in range(1, out_rank))]
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *in_shape])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in weights.items()])
    # IR version 8: the newest that the installed onnxruntime reads
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, str(path))
    return str(path)


def run_onnx(path: str, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def assert_ann_exact(path: str, shape: tuple, seed: int = 0) -> None:
    """The converted graph's ANN forward equals onnxruntime on the original model."""
    rng = np.random.default_rng(seed)
    calibration, x = (rng.random((n_, *shape)).astype(np.float32) for n_ in (50, 40))
    graph = read_onnx(path, calibration)
    np.testing.assert_allclose(ann_forward(graph, x)["output"], run_onnx(path, x),
                               rtol=1e-5, atol=1e-5)
    COVERED.update(node.op_type for node in onnx.load(path).graph.node)


def w(rng, *shape):
    return rng.normal(0, 0.5, shape)


# ---------------------------------------------------------------------------------------------
# SNN vs ANN


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32),
                               torch.nn.ReLU(), torch.nn.Linear(32, 5))


def cnn(softmax=True):
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2), torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 5),
        torch.nn.Softmax(1) if softmax else torch.nn.Identity())
    with torch.no_grad():  # running statistics that make the folding non-trivial
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.2, 0.2)
    return model


@pytest.mark.parametrize("factory, shape", [(mlp, (16,)), (cnn, (1, 8, 8))])
@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_snn_rates_approach_the_ann(tmp_path, factory, shape, readout):
    path = export_torch(factory(), shape, tmp_path / "m.onnx")
    rng = np.random.default_rng(0)
    calibration, x = rng.random((100, *shape)), rng.random((100, *shape)).astype(np.float32)
    graph = read_onnx(path, calibration, readout=readout)
    steps = 300
    out = simulate(graph, np.broadcast_to(x, (steps, *x.shape))).outputs["output"]
    # membrane: v / t tends to the logits; spikes: the rate tends to max(logits, 0) / lambda
    rates = out[-1] / steps if readout == "membrane" else out.mean(axis=0)
    expected = ann_forward(graph, x)["output"]
    assert np.corrcoef(rates.ravel(), expected.ravel())[0, 1] > 0.99
    logits = ann_forward(read_onnx(path, calibration), x)["output"]
    assert np.mean(rates.argmax(1) == logits.argmax(1)) >= 0.97


def test_without_calibration_no_rate_saturates(tmp_path):
    """The weight bound keeps every ANN activation at most one spike per step for inputs in
    [0, 1], and says that it was used."""
    path = export_torch(cnn(), (1, 8, 8), tmp_path / "m.onnx")
    graph = read_onnx(path)
    values = ann_forward(graph, np.random.default_rng(0).random((200, 1, 8, 8)))
    assert max(values[k].max() for k, node in graph.nodes.items() if isinstance(node, n.IF)) <= 1
    assert any("no calibration data" in note for note in graph.metadata["repairs"])
    assert "weight bound" in graph.metadata["conversion"]


# ---------------------------------------------------------------------------------------------
# Each op's mapping is exact for the ANN


def test_batchnorm_folding_is_exact(tmp_path):
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(16, 12), torch.nn.BatchNorm1d(12),
                                torch.nn.ReLU(), torch.nn.Linear(12, 3))
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.2, 3.0)
    for path, shape in ((export_torch(cnn(softmax=False), (1, 8, 8), tmp_path / "c.onnx"),
                         (1, 8, 8)),
                        (export_torch(model, (16,), tmp_path / "m.onnx"), (16,))):
        assert "BatchNormalization" in {node.op_type for node in onnx.load(path).graph.node}
        assert_ann_exact(path, shape)


def test_matmul_add_gemm_options_dropout_identity_softmax(tmp_path):
    rng = np.random.default_rng(3)
    weights = {"w1": w(rng, 12, 16), "b1": w(rng, 16), "w2": w(rng, 16, 8), "c2": w(rng, 8),
               "gamma": rng.uniform(0.5, 1.5, 8), "beta": w(rng, 8), "mean": w(rng, 8),
               "var": rng.uniform(0.5, 2, 8), "w3": w(rng, 5, 8), "c3": w(rng, 1, 5)}
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="mm"),
        helper.make_node("Add", ["b1", "h1"], ["a1"], name="bias"),  # constant first: commuted
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("Dropout", ["r1"], ["d1"], name="drop"),
        helper.make_node("Gemm", ["d1", "w2", "c2"], ["g2"], name="gemm2", alpha=0.5, beta=2.0),
        helper.make_node("BatchNormalization", ["g2", "gamma", "beta", "mean", "var"], ["n2"],
                         name="bn", epsilon=1e-3),
        helper.make_node("Relu", ["n2"], ["r2"], name="relu2"),
        helper.make_node("Identity", ["r2"], ["i2"], name="id"),
        helper.make_node("Gemm", ["i2", "w3", "c3"], ["g3"], name="gemm3", transB=1),
        helper.make_node("Softmax", ["g3"], ["y"], name="softmax", axis=1),
    ]
    path = onnx_model(tmp_path / "m.onnx", nodes, (12,), weights)
    graph = read_onnx(path, np.random.default_rng(0).random((50, 12)))
    # Dropout, Identity, Add and BatchNormalization leave no node of their own
    assert [type(node).__name__ for node in graph.nodes.values()] == [
        "Input", "Affine", "IF", "Affine", "IF", "Affine", "I", "Output"]
    assert any("softmax: Softmax dropped" in note for note in graph.metadata["repairs"])
    # onnxruntime applies the Softmax; compare the logits before it
    logits_path = onnx_model(tmp_path / "logits.onnx", nodes[:-1], (12,), weights)
    x = np.random.default_rng(1).random((40, 12)).astype(np.float32)
    np.testing.assert_allclose(ann_forward(graph, x)["output"], run_onnx(logits_path, x),
                               rtol=1e-5, atol=1e-5)
    COVERED.update(node.op_type for node in nodes)


def test_convolutions_pooling_flatten(tmp_path):
    rng = np.random.default_rng(4)
    weights = {"k1": w(rng, 4, 1, 3, 3), "c1": w(rng, 4), "k2": w(rng, 6, 4, 3, 3),
               "b2": w(rng, 1, 6, 1, 1), "gamma": rng.uniform(0.5, 1.5, 6), "beta": w(rng, 6),
               "mean": w(rng, 6), "var": rng.uniform(0.5, 2, 6), "w3": w(rng, 6, 3)}
    nodes = [
        helper.make_node("Conv", ["x", "k1", "c1"], ["h1"], name="conv_grouped", group=2,
                         strides=[2, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("AveragePool", ["r1"], ["p1"], name="avg", kernel_shape=[3, 3],
                         strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("Conv", ["p1", "k2"], ["h2"], name="conv_dilated", dilations=[2, 2]),
        helper.make_node("Add", ["h2", "b2"], ["a2"], name="bias"),
        helper.make_node("BatchNormalization", ["a2", "gamma", "beta", "mean", "var"], ["n2"],
                         name="bn"),
        helper.make_node("Relu", ["n2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat", axis=1),
        helper.make_node("MatMul", ["f", "w3"], ["y"], name="fc"),
    ]
    assert_ann_exact(onnx_model(tmp_path / "m.onnx", nodes, (2, 9, 10), weights), (2, 9, 10))


def test_reshape_constants_and_conv1d(tmp_path):
    """A Reshape whose shape is a Constant node, a weight computed by Transpose (both folded),
    a 1-d convolution, and LogSoftmax at the end."""
    rng = np.random.default_rng(5)
    weights = {"k": w(rng, 3, 2, 3), "k_bias": w(rng, 3), "w_t": w(rng, 4, 24)}
    shape = numpy_helper.from_array(np.array([0, -1], np.int64))
    nodes = [
        helper.make_node("Conv", ["x", "k", "k_bias"], ["h"], name="conv1d", pads=[1, 1]),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Constant", [], ["shape"], name="shape", value=shape),
        helper.make_node("Reshape", ["r", "shape"], ["f"], name="reshape"),
        helper.make_node("Transpose", ["w_t"], ["w"], name="transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["f", "w"], ["y"], name="fc"),
    ]
    assert_ann_exact(onnx_model(tmp_path / "m.onnx", nodes, (2, 8), weights), (2, 8))
    COVERED.add("LogSoftmax")  # same converter as Softmax, covered above


def test_maxpool_becomes_avgpool_with_a_note(tmp_path):
    torch.manual_seed(6)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(36, 3))
    path = export_torch(model, (1, 8, 8), tmp_path / "max.onnx")
    graph = read_onnx(path, np.random.default_rng(0).random((20, 1, 8, 8)))
    pools = [name for name, node in graph.nodes.items() if isinstance(node, n.AvgPool2d)]
    assert len(pools) == 1 and graph.nodes[pools[0]].kernel_size == (2, 2)
    assert any(note.startswith(f"{pools[0]}: MaxPool approximated by AvgPool2d")
               for note in graph.metadata["repairs"])
    # exactly the ANN with the MaxPool replaced by AvgPool
    model[2] = torch.nn.AvgPool2d(2)
    x = np.random.default_rng(1).random((30, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ann_forward(graph, x)["output"], model(torch.from_numpy(x)),
                                   rtol=1e-5, atol=1e-5)
    COVERED.add("MaxPool")


def test_every_supported_op_is_covered():
    """Runs after the tests above (pytest keeps file order)."""
    assert set(OPS) <= COVERED, f"not covered: {sorted(set(OPS) - COVERED)}"


# ---------------------------------------------------------------------------------------------
# Refusals


def test_unsupported_op_names_op_and_node(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc1", transB=1),
             helper.make_node("Sigmoid", ["h"], ["y"], name="act1")]
    path = onnx_model(tmp_path / "m.onnx", nodes, (4,), {"w": np.ones((3, 4))})
    with pytest.raises(UnsupportedLayerError) as error:
        read_onnx(path)
    message = str(error.value)
    assert "Sigmoid" in message and "'act1'" in message and "supported: " in message
    assert "\n" not in message and "Relu" in message


@pytest.mark.parametrize("case, expected", [
    ("skip", "skip connection"),
    ("branch", "not the output of the previous layer"),
    ("asymmetric", "asymmetric pads"),
    ("softmax_inside", "supported only as the last op"),
    ("bn_after_relu", "directly after Conv, Gemm or MatMul"),
    ("softmax_over_batch", "over the batch dimension"),
])
def test_refused_structures(tmp_path, case, expected):
    one = np.ones((2, 2, 1, 1))
    nodes = {
        "skip": [helper.make_node("Conv", ["x", "k"], ["h"], name="conv"),
                 helper.make_node("Relu", ["h"], ["r"], name="relu"),
                 helper.make_node("Add", ["r", "x"], ["y"], name="residual")],
        "branch": [helper.make_node("Relu", ["x"], ["r"], name="relu"),
                   helper.make_node("Conv", ["x", "k"], ["y"], name="conv")],
        "asymmetric": [helper.make_node("Conv", ["x", "k"], ["y"], name="conv",
                                        pads=[0, 0, 1, 1])],
        "softmax_inside": [helper.make_node("Softmax", ["x"], ["s"], name="sm"),
                           helper.make_node("Conv", ["s", "k"], ["y"], name="conv")],
        "bn_after_relu": [helper.make_node("Relu", ["x"], ["r"], name="relu"),
                          helper.make_node("BatchNormalization", ["r", "g", "g", "z", "g"],
                                           ["y"], name="bn")],
        "softmax_over_batch": [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=0)],
    }[case]
    weights = {"k": one, "g": np.ones(2), "z": np.zeros(2)}
    path = onnx_model(tmp_path / "m.onnx", nodes, (2, 4, 4), weights, out_rank=4)
    with pytest.raises(UnsupportedLayerError, match=expected):
        read_onnx(path)


def test_invalid_files_raise_model_file_error(tmp_path):
    random_bytes = tmp_path / "random.onnx"
    random_bytes.write_bytes(np.random.default_rng(0).bytes(2000))
    valid = export_torch(mlp(), (16,), tmp_path / "valid.onnx")
    truncated = tmp_path / "truncated.onnx"
    data = open(valid, "rb").read()
    truncated.write_bytes(data[:len(data) // 2])
    for path in (random_bytes, truncated, tmp_path / "missing.onnx"):
        with pytest.raises(ModelFileError) as error:
            load_model(path)
        assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_calibration_must_fit_the_input(tmp_path):
    path = export_torch(mlp(), (16,), tmp_path / "m.onnx")
    with pytest.raises(InputError, match=r"expected \(N, 16\)"):
        read_onnx(path, np.zeros((10, 15)))


def test_cli_inspect_and_simulate(tmp_path, capsys):
    from snnc.cli import main

    path = export_torch(cnn(), (1, 8, 8), tmp_path / "m.onnx")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "cal.npz", inputs=rng.random((20, 1, 8, 8)))
    np.savez(tmp_path / "in.npz", spikes=np.repeat(rng.random((1, 3, 1, 8, 8)), 20, axis=0))
    main(["inspect", path, "--calibration", str(tmp_path / "cal.npz")])
    text = capsys.readouterr().out
    assert "readout" in text and "Softmax dropped" in text
    main(["simulate", path, "--calibration", str(tmp_path / "cal.npz"), "-i",
          str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")])
    with np.load(tmp_path / "out.npz") as out:
        assert out["output"].shape == (20, 3, 5)
