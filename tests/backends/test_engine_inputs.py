"""The one input check (``snnc.backends.engine.inputs``) that the reference, the Loihi targets
and the engine share."""
import numpy as np
import pytest

from snnc.backends.engine import Network, Population
from snnc.backends.engine.inputs import graph_inputs, network_inputs
from snnc.errors import InputError
from snnc.ir import Graph
from snnc.ir import nodes as n


def two_inputs() -> Graph:
    return Graph(nodes={"a": n.Input(shape=(2, 3)), "b": n.Input(shape=(4,)),
                        "o": n.Output(shape=(4,))}, edges=[("b", "o")])


def test_graph_inputs_keep_arrays_and_give_steps_and_batch():
    a, b = np.zeros((5, 2, 2, 3)), np.ones((5, 2, 4))
    arrays, steps, batch = graph_inputs(two_inputs(), {"a": a, "b": b})
    assert (steps, batch) == (5, 2) and arrays["a"] is a and arrays["b"] is b


@pytest.mark.parametrize("inputs, message", [
    ({"a": np.zeros((5, 1, 2, 3))}, r"missing \['b'\]"),
    ({"a": np.zeros((5, 1, 2, 3)), "b": np.zeros((5, 1, 4)), "c": 0}, r"unknown \['c'\]"),
    ({"a": np.zeros((5, 2, 3)), "b": np.zeros((5, 1, 4))},
     r"input 'a' has shape \(5, 2, 3\); expected \(steps, batch, 2, 3\)"),
    ({"a": np.zeros((5, 1, 2, 3)), "b": np.zeros((6, 1, 4))},
     r"disagree on \(steps, batch\): \[\(5, 1\), \(6, 1\)\]"),
    ({"a": np.full((5, 1, 2, 3), np.nan), "b": np.zeros((5, 1, 4))}, "NaN or infinite"),
    (np.zeros((5, 1, 4)), "pass one array per input name"),
])
def test_graph_inputs_say_what_is_wrong(inputs, message):
    with pytest.raises(InputError, match=message):
        graph_inputs(two_inputs(), inputs)


def test_network_inputs_take_batch_one_without_its_axis():
    net = Network((Population("x", 3),))
    spikes, steps, batch = network_inputs(net, {"x": np.array([[0, 2, 0]] * 4)})
    assert (steps, batch) == (4, 1) and spikes["x"].dtype == bool
    assert spikes["x"][:, 0].tolist() == [[False, True, False]] * 4
    with pytest.raises(InputError, match=r"inputs have 4 steps, steps=5 was asked"):
        network_inputs(net, {"x": np.zeros((4, 3))}, steps=5)
    with pytest.raises(InputError, match=r"expected \(steps, \[batch,\] 3\)"):
        network_inputs(net, {"x": np.zeros((4, 2))})
    with pytest.raises(InputError, match="needs steps="):
        network_inputs(Network(()), {})
