"""Building and verifying a graph stays linear in its size: long chains and wide fan-ins build in
well under a second (issue 15 measured 63 s for a chain of 4,000 nodes through the commands)."""
import time

import numpy as np
import pytest

from snnc.frontends.nir_import import graph_from_dict
from snnc.ir import Graph, Input, Output, Scale

SIZE = 4000
BOUND_S = 1.0  # about 0.03 s on a 2-core machine; a quadratic pass takes minutes


def chain(size: int) -> tuple[dict, list]:
    nodes = {"input": Input(shape=(2,)), "output": Output(shape=(2,))}
    names = ["input", *(f"s{i}" for i in range(size)), "output"]
    nodes.update({name: Scale(scale=np.ones(2)) for name in names[1:-1]})
    return nodes, list(zip(names, names[1:]))


def fan_in(size: int) -> tuple[dict, list]:
    nodes = {"input": Input(shape=(2,)), "sum": Scale(scale=np.ones(2)),
             "output": Output(shape=(2,))}
    edges = [("sum", "output")]
    for i in range(size):
        nodes[f"s{i}"] = Scale(scale=np.ones(2))
        edges += [("input", f"s{i}"), (f"s{i}", "sum")]
    return nodes, edges


@pytest.mark.parametrize("shape", [chain, fan_in])
def test_graph_construction_is_linear(shape):
    nodes, edges = shape(SIZE)
    start = time.perf_counter()
    graph = Graph(nodes=nodes, edges=edges)
    _ = graph.shapes, graph.order, graph.recurrent_edges
    assert time.perf_counter() - start < BOUND_S


def test_nir_dict_import_is_linear():
    """The importer's own passes (dangling-edge repair, fitting parameters to their inputs)."""
    names = ["input", *(f"s{i}" for i in range(SIZE)), "output"]
    nodes = {name: {"type": "Scale", "scale": np.ones(2)} for name in names[1:-1]}
    nodes["input"] = {"type": "Input", "shape": np.array([2])}
    nodes["output"] = {"type": "Output", "shape": np.array([2])}
    raw = {"type": "NIRGraph", "nodes": nodes, "edges": list(zip(names, names[1:]))}
    start = time.perf_counter()
    graph = graph_from_dict(raw)
    assert len(graph.nodes) == SIZE + 2 and time.perf_counter() - start < BOUND_S


def test_a_long_matrix_chain_normalizes_and_schedules_in_linear_time():
    """normalize merges a chain of 4,000 Affine nodes in one rewrite (it rebuilt the graph per
    pair: 70 s), and the reference schedules what is left with one Tarjan pass."""
    from snnc.backends import get_target
    from snnc.ir import LIF, Affine
    from snnc.passes import PassContext, parse, run_pipeline

    nodes = {"input": Input(shape=(2,)), "output": Output(shape=(2,)),
             "lif": LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2),
                        v_threshold=np.ones(2), v_reset=np.zeros(2))}
    names = ["input", *(f"a{i}" for i in range(SIZE)), "lif", "output"]
    nodes.update({name: Affine(weight=np.eye(2), bias=np.full(2, 1e-4)) for name in names[1:-2]})
    graph = Graph(nodes=nodes, edges=list(zip(names, names[1:])))
    start = time.perf_counter()
    merged, (record,) = run_pipeline(graph, parse("normalize"), PassContext())
    get_target("reference").simulate(graph, np.ones((3, 1, 2), np.float32))
    assert time.perf_counter() - start < 5 * BOUND_S
    assert len(merged.nodes) == 4 and record.report["linear_merged"] == SIZE - 1
    np.testing.assert_allclose(merged.nodes["a3999"].bias, 0.4, rtol=1e-3)


def test_a_long_run_of_identities_normalizes_in_linear_time():
    """Identity Scales go in one rewrite per run (a graph rebuild per node: 4,000 took ~60 s)."""
    from snnc.passes import PassContext, parse, run_pipeline

    nodes, edges = chain(SIZE)
    start = time.perf_counter()
    normal, (record,) = run_pipeline(Graph(nodes=nodes, edges=edges), parse("normalize"),
                                     PassContext())
    assert time.perf_counter() - start < BOUND_S
    assert sorted(normal.nodes) == ["input", "output"]
    assert record.report["identity_removed"] == SIZE
