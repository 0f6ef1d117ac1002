"""The IR graph: verification errors name the node or edge, shapes, order, recurrence, nesting."""
import dataclasses

import numpy as np
import pytest

from snnc.errors import GraphError
from snnc.ir import (LIF, Affine, Conv1d, Conv2d, CubaLIF, Flatten, Graph, Input, Linear,
                     Output, SumPool2d, flatten)


def lif(n, **overrides):
    params = dict(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    return LIF(**{**params, **overrides})


def chain(*nodes, **named):
    names = [f"n{i}" for i in range(len(nodes))]
    return Graph(nodes=dict(zip(names, nodes)), edges=tuple(zip(names, names[1:])), **named)


def test_parameters_are_arrays_broadcast_to_the_population():
    node = LIF(tau=0.01, r=1, v_leak=np.zeros(3), v_threshold=1.0)
    assert node.shape == (3,)
    assert all(getattr(node, k).shape == (3,) for k in node.arrays)
    assert node.v_reset.dtype == np.float64 and not node.tau.flags.writeable


def test_nodes_are_frozen():
    node = lif(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.tau = np.ones(2)
    assert dataclasses.replace(node, tau=np.ones(2)).tau[0] == 1


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_parameters_are_rejected(value):
    with pytest.raises(GraphError, match="tau.*NaN or infinite"):
        lif(2, tau=np.array([0.01, value]))


def test_shape_inference_through_conv_pool_flatten():
    graph = chain(Input(shape=(2, 9, 9)),
                  Conv2d(weight=np.ones((4, 2, 3, 3)), bias=np.zeros(4), stride=2, padding=1),
                  SumPool2d(kernel_size=2, stride=2),
                  Flatten(start_dim=0),
                  Linear(weight=np.ones((3, 16))),
                  lif(3), Output(shape=(3,)))
    assert [graph.shapes[f"n{i}"] for i in range(7)] == [
        (2, 9, 9), (4, 5, 5), (4, 2, 2), (16,), (3,), (3,), (3,)]


@pytest.mark.parametrize("padding, expected", [("same", (3, 10)), ("valid", (3, 6)), (2, (3, 10))])
def test_conv1d_padding_forms(padding, expected):
    graph = chain(Input(shape=(2, 10)), Conv1d(weight=np.ones((3, 2, 5)), bias=np.zeros(3),
                                               padding=padding))
    assert graph.shapes["n1"] == expected


def test_mismatched_shapes_name_the_node():
    with pytest.raises(GraphError, match=r"node 'n1' \(Affine\): expects input \(4,\), got \(3,\)"):
        chain(Input(shape=(3,)), Affine(weight=np.ones((2, 4)), bias=np.zeros(2)))


def test_population_mismatch_names_the_node():
    with pytest.raises(GraphError, match=r"node 'n2' \(LIF\): population shape \(3,\)"):
        chain(Input(shape=(2,)), Linear(weight=np.ones((2, 2))), lif(3))


def test_dangling_edge_is_named():
    with pytest.raises(GraphError, match=r"edge \('a', 'ghost'\): destination node 'ghost'"):
        Graph(nodes={"a": Input(shape=(1,))}, edges=(("a", "ghost"),))


def test_fan_in_shapes_must_agree():
    nodes = {"i": Input(shape=(2,)), "a": Linear(weight=np.ones((3, 2))),
             "b": Linear(weight=np.ones((4, 2))), "l": lif(3)}
    with pytest.raises(GraphError, match="node 'l': inputs summed here have different shapes"):
        Graph(nodes=nodes, edges=(("i", "a"), ("i", "b"), ("a", "l"), ("b", "l")))


def recurrent_graph():
    nodes = {"in": Input(shape=(2,)), "w": Linear(weight=np.ones((3, 2))),
             "lif": lif(3), "rec": Linear(weight=np.eye(3)), "out": Output(shape=(3,))}
    edges = (("rec", "lif"), ("in", "w"), ("w", "lif"), ("lif", "rec"), ("lif", "out"))
    return Graph(nodes=nodes, edges=edges)


def test_execution_order_and_recurrent_edges():
    graph = recurrent_graph()
    assert graph.order.index("w") < graph.order.index("lif") < graph.order.index("rec")
    assert graph.recurrent_edges == {("rec", "lif")}


def test_recurrent_edge_shape_is_checked():
    nodes = {"in": Input(shape=(3,)), "lif": lif(3), "rec": Linear(weight=np.ones((2, 3)))}
    with pytest.raises(GraphError, match=r"recurrent edge \('rec', 'lif'\)"):
        Graph(nodes=nodes, edges=(("in", "lif"), ("lif", "rec"), ("rec", "lif")))


def test_flatten_inlines_nested_graphs():
    inner = Graph(nodes={"input": Input(shape=(3,)), "lif": CubaLIF(
        tau_syn=np.full(3, 1e-3), tau_mem=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3),
        v_threshold=np.ones(3)), "rec": Linear(weight=np.eye(3)), "output": Output(shape=(3,))},
        edges=(("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")))
    outer = Graph(nodes={"in": Input(shape=(2,)), "fc": Linear(weight=np.ones((3, 2))),
                         "sub": inner, "out": Output(shape=(3,))},
                  edges=(("in", "fc"), ("fc", "sub"), ("sub", "out")))
    flat = flatten(outer)
    assert set(flat.nodes) == {"in", "fc", "sub.lif", "sub.rec", "out"}
    assert set(flat.edges) == {("in", "fc"), ("fc", "sub.lif"), ("sub.lif", "sub.rec"),
                               ("sub.rec", "sub.lif"), ("sub.lif", "out")}
    assert flat.recurrent_edges == {("sub.rec", "sub.lif")}
    assert outer.shapes["out"] == (3,)


def test_same_as_compares_values():
    assert lif(2).same_as(lif(2))
    assert not lif(2).same_as(lif(2, tau=np.full(2, 0.02)))
    assert not lif(2).same_as(Linear(weight=np.eye(2)))
