"""Property tests (hypothesis, derandomized so CI is repeatable) on random graphs: every pass
returns a verified graph that still simulates, and normalize and lower never change the
reference output (float64, so folded parameters' last-bit rounding cannot flip a spike)."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnc.backends.reference import simulate
from snnc.ir import Graph
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes
from tests.random_graphs import random_graph

F64 = SimOptions(dt=1e-3, dtype="float64")
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
graphs = st.builds(random_graph, seed=st.integers(0, 10_000), layers=st.integers(1, 4),
                   recurrent=st.booleans())
pipelines = st.sampled_from(["normalize", "lower", "prune{sparsity=0.3}", "prune-inactive",
                             "map-delays{max_delay=2}", "normalize,lower,prune{scope=layer}"])


def inputs(graph: Graph, seed: int) -> np.ndarray:
    return spikes(np.random.default_rng(seed), (30, 2, graph.nodes["input"].shape[0]), 0.3)


@SETTINGS
@given(graph=graphs, spec=pipelines, seed=st.integers(0, 100))
def test_every_pass_returns_a_verified_graph_that_runs(graph, spec, seed):
    x = inputs(graph, seed)
    result, records = run_pipeline(graph, parse(spec), PassContext(F64, x))
    assert isinstance(result, Graph) and [r.applied for r in records] == parse(spec)
    result.verify()
    out = simulate(result, x, F64).outputs["output"]
    assert out.shape[:2] == (30, 2) and np.isfinite(out).all()


@SETTINGS
@given(graph=graphs, spec=st.sampled_from(["normalize", "lower", "normalize,lower"]),
       seed=st.integers(0, 100))
def test_lossless_passes_keep_the_reference_output(graph, spec, seed):
    x = inputs(graph, seed)
    result, _ = run_pipeline(graph, parse(spec), PassContext(F64))
    expected = simulate(graph, x, F64).outputs["output"]
    np.testing.assert_allclose(simulate(result, x, F64).outputs["output"], expected,
                               rtol=1e-9, atol=1e-9)
