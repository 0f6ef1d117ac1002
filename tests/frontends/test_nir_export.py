"""NIR export: nir.read with type checking accepts what snnc writes, and every node type
round-trips unchanged (values, dtypes, shapes, edges)."""
import nir
import numpy as np
import pytest

from snnc.frontends import load_model, write_nir
from snnc.ir import nodes as n
from snnc.ir import Graph

rng = np.random.default_rng(0)
V = lambda *shape: rng.normal(size=shape)  # noqa: E731
P = lambda *shape: rng.uniform(1e-3, 2e-2, size=shape)  # noqa: E731  positive, e.g. time constants

# (input shape, node) for every node type except Input/Output, which every case has
CASES = {
    "Affine": ((3,), n.Affine(weight=V(4, 3), bias=V(4))),
    "Linear": ((3,), n.Linear(weight=V(4, 3).astype(np.float32))),
    "Scale": ((3,), n.Scale(scale=V(3))),
    "Conv1d": ((2, 9), n.Conv1d(weight=V(4, 2, 3), bias=V(4), stride=2, padding=1, dilation=1)),
    "Conv1d-same": ((2, 9), n.Conv1d(weight=V(4, 2, 4), bias=V(4), padding="same")),
    "Conv2d": ((2, 8, 8), n.Conv2d(weight=V(4, 2, 3, 3), bias=V(4), stride=(2, 1),
                                   padding=(1, 0), dilation=(1, 2))),
    "SumPool2d": ((2, 8, 8), n.SumPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(1, 1))),
    "AvgPool2d": ((2, 8, 8), n.AvgPool2d(kernel_size=(3, 2), stride=(1, 2))),
    "Flatten": ((2, 3, 4), n.Flatten(start_dim=1, end_dim=2)),
    "Delay": ((3,), n.Delay(delay=np.array([0.0, 1e-4, 3e-4]))),
    "Threshold": ((3,), n.Threshold(threshold=V(3))),
    "I": ((3,), n.I(r=P(3))),
    "IF": ((3,), n.IF(r=P(3), v_threshold=V(3), v_reset=V(3))),
    "LI": ((3,), n.LI(tau=P(3), r=P(3), v_leak=V(3))),
    "LIF": ((2, 3), n.LIF(tau=P(2, 3), r=P(2, 3), v_leak=V(2, 3), v_threshold=V(2, 3),
                          v_reset=V(2, 3))),
    "LIF-own-reset": ((3,), n.LIF(tau=P(3), r=P(3), v_leak=V(3), v_threshold=V(3),
                                  reset="subtract_next")),
    "CubaLI": ((3,), n.CubaLI(tau_syn=P(3), tau_mem=P(3), r=P(3), v_leak=V(3), w_in=P(3))),
    "CubaLIF": ((3,), n.CubaLIF(tau_syn=P(3), tau_mem=P(3), r=P(3), v_leak=V(3),
                                v_threshold=V(3), v_reset=V(3), w_in=P(3))),
}


def single(in_shape, node):
    probe = Graph(nodes={"in": n.Input(shape=in_shape), "x": node}, edges=(("in", "x"),))
    out_shape = probe.shapes["x"]
    return Graph(nodes={"in": n.Input(shape=in_shape), "x": node, "out": n.Output(shape=out_shape)},
                 edges=(("in", "x"), ("x", "out")), metadata={"note": "round trip"})


def assert_same_graph(a: Graph, b: Graph):
    assert a.nodes.keys() == b.nodes.keys()
    assert set(a.edges) == set(b.edges)
    for name in a.nodes:
        assert a.nodes[name].same_as(b.nodes[name]), name
        for field, value in a.nodes[name].params().items():
            if isinstance(value, np.ndarray):
                assert getattr(b.nodes[name], field).dtype == value.dtype, (name, field)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_node_type_round_trips(case, tmp_path):
    graph = single(*CASES[case])
    path = tmp_path / f"{case}.nir"
    write_nir(graph, path)
    nir.read(path)  # nir's own type checking accepts it
    back = load_model(path)
    assert_same_graph(graph, back)
    assert back.metadata["note"] == "round trip"


def test_grouped_convolution_round_trips(tmp_path):
    # nir 1.0.8's type check ignores `groups`, so only snnc reads this file back checked
    graph = single((4, 9), n.Conv1d(weight=V(6, 2, 3), bias=V(6), groups=2))
    write_nir(graph, tmp_path / "grouped.nir")
    assert_same_graph(graph, load_model(tmp_path / "grouped.nir"))


def test_nested_recurrent_graph_round_trips(tmp_path, data_dir):
    graph = load_model(data_dir / "braille_noDelay_noBias_subtract_subgraph.nir")
    write_nir(graph, tmp_path / "nested.nir")
    back = load_model(tmp_path / "nested.nir")
    assert_same_graph(graph.nodes["lif1"], back.nodes["lif1"])
    assert_same_graph(graph, back)


@pytest.mark.parametrize("name", ["cnn_sinabs", "braille_noDelay_bias_zero", "lif_rockpool"])
def test_paper_models_round_trip(name, tmp_path, data_dir):
    graph = load_model(data_dir / f"{name}.nir")
    write_nir(graph, tmp_path / "copy.nir")
    nir.read(tmp_path / "copy.nir")
    assert_same_graph(graph, load_model(tmp_path / "copy.nir"))


def test_failed_write_leaves_no_file(tmp_path):
    graph = single(*CASES["LIF"])
    target = tmp_path / "missing_dir" / "x.nir"
    with pytest.raises(OSError):
        write_nir(graph, target)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_hardware_annotations_round_trip(tmp_path):
    node = n.Linear(weight=np.array([[0.5, -0.25]]),
                    hw={"format": "loihi", "weight_exp": -2, "weight_bits": 8})
    graph = single((2,), node)
    write_nir(graph, tmp_path / "hw.nir")
    back = load_model(tmp_path / "hw.nir")
    assert back.nodes["x"].hw == {"format": "loihi", "weight_exp": -2, "weight_bits": 8}
    assert_same_graph(graph, back)
