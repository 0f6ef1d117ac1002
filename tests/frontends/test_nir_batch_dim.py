"""NIR files written with a batch dimension, as the exporters' docs show (a (1, N) sample): the
import drops it, lists the repair, and the model still matches the framework's own forward pass
(spikes exact) on random inputs.

snnTorch 1.0.0's ``export_to_nir`` with a (1, N) sample fails inside snnTorch itself (nir's
``infer_types``: "type mismatch: input.output: [[1 20]] -> 0.input: [[20]]"), so no snnTorch
file with a batch dimension exists to test; its (1, N)-typed parameters are covered by the
hand-built file below.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
norse = pytest.importorskip("norse.torch")
nir = pytest.importorskip("nir")

from snnc.backends.reference import simulate  # noqa: E402
from snnc.frontends import load_model  # noqa: E402
from snnc.frontends.nir_import import from_nir  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from tests.norse_models import inputs, lif_box, linear, run_norse  # noqa: E402

DT = 1e-3


def _norse_model(rng):
    torch.manual_seed(0)
    return norse.SequentialState(linear(rng, 20, 12, gain=3.0), lif_box(rng, 12, DT))


def _export(module):
    """norse.torch.to_nir with a batched sample, dt=1 (tau = 1/tau_inv) and v_reset restored
    (Norse 1.1.0 drops it), as tests/backends/test_reference_vs_norse.py does."""
    graph = norse.to_nir(module, torch.zeros(1, 20), dt=1)
    graph.nodes["1"].v_reset = module[1].p.v_reset
    return graph


def test_norse_export_with_batch_dim_matches_norse(tmp_path):
    rng = np.random.default_rng(0)
    module = _norse_model(rng)
    exported = _export(module)
    assert tuple(exported.nodes["input"].input_type["input"]) == (1, 20)
    path = tmp_path / "norse_batched.nir"
    nir.write(path, exported)
    x = inputs(rng, (20,))
    expected = run_norse(module, x)
    for graph in (from_nir(exported), load_model(path)):
        assert "input: batch dimension dropped from its type (1, 20) -> (20,)" in \
            graph.metadata["repairs"]
        got = simulate(graph, x, SimOptions(dt=DT, reset="to_v_reset")).outputs["output"]
        assert 0 < expected.sum() < expected.size
        np.testing.assert_array_equal(got, expected)


def test_parameters_with_a_batch_dim_are_squeezed(tmp_path):
    rng = np.random.default_rng(1)
    weight = rng.normal(0, 1, (6, 4))
    lif = dict(tau=rng.uniform(0.01, 0.05, (1, 6)), r=np.ones((1, 6)), v_leak=np.zeros((1, 6)),
               v_threshold=rng.uniform(0.5, 1.0, (1, 6)), v_reset=np.zeros((1, 6)))
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([1, 4])),
               "fc": nir.Affine(weight=weight, bias=np.zeros(6)), "lif": nir.LIF(**lif),
               "output": nir.Output(output_type=np.array([1, 6]))},
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)
    path = tmp_path / "batched_params.nir"
    nir.write(path, graph)
    loaded = load_model(path)
    assert loaded.nodes["input"].shape == (4,) and loaded.nodes["lif"].shape == (6,)
    np.testing.assert_array_equal(loaded.nodes["lif"].tau, lif["tau"][0])
