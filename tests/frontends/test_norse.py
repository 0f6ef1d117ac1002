"""The Norse frontend: snnc's reference simulation of ``from_norse(module)`` equals Norse's
own forward pass, step for step, on random models (fixed seeds).

Tolerance: spikes identical; leaky-integrator voltages (LIBoxCell/LICell outputs) to 1e-6
relative, because the reference computes dt/tau from tau = 1/tau_inv in float64 while Norse
computes dt * tau_inv in float32, which can differ in the last bit.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
norse = pytest.importorskip("norse.torch")

from snnc.backends.reference import simulate  # noqa: E402
from snnc.errors import ModelFileError, UnsupportedLayerError  # noqa: E402
from snnc.frontends import load_model, write_nir  # noqa: E402
from snnc.frontends.norse import from_norse  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from tests.norse_models import (MODELS, conv, inputs, lif_box, lif_cuba,  # noqa: E402
                                linear, per_neuron, recurrent_cell, run_norse)


def li_cuba(rng, size, dt):
    p = per_neuron(rng, size, tau_syn_inv=(100, 400), tau_mem_inv=(50, 200), v_leak=(-0.1, 0.1))
    return norse.LICell(norse.LIParameters(**p), dt=dt)


def recurrent(rng, n_in, n_hidden, dt, autapses=False):
    return recurrent_cell(rng, n_in, n_hidden, dt, autapses, input_gain=3.0)


# models that Norse's own to_nir cannot export (Flatten, pooling, LICell, recurrent cells)
EXTRA = {
    "conv-pool-flatten-linear": (lambda r, dt: (norse.SequentialState(
        conv(r, 2, 4, kernel_size=3, padding=1), lif_box(r, (4, 6, 6), dt),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(), linear(r, 36, 7, 6), lif_cuba(r, 7, dt)),
        (2, 6, 6)), 1e-3),
    "lppool-licell": (lambda r, dt: (norse.SequentialState(
        conv(r, 1, 3, kernel_size=2), norse.IAFCell(dt=dt), torch.nn.LPPool2d(1, 2),
        torch.nn.Flatten(), linear(r, 12, 5, 3), li_cuba(r, 5, dt)), (1, 5, 5)), 1e-3),
    "recurrent": (lambda r, dt: (norse.SequentialState(
        recurrent(r, 6, 10, dt), linear(r, 10, 4, 4), lif_box(r, 4, dt)), (6,)), 1e-3),
    "recurrent-autapses-deep": (lambda r, dt: (norse.SequentialState(
        linear(r, 8, 8, 3), lif_cuba(r, 8, dt), recurrent(r, 8, 12, dt, autapses=True),
        recurrent(r, 12, 6, dt)), (8,)), 5e-4),
}
ALL = {**{name: (build, dt) for name, (build, dt, _) in MODELS.items()}, **EXTRA}


@pytest.mark.parametrize("name", sorted(ALL))
def test_from_norse_equals_norse(name):
    build, dt = ALL[name]
    rng = np.random.default_rng(sorted(ALL).index(name))
    torch.manual_seed(0)
    module, shape = build(rng, dt)
    x = inputs(rng, shape)
    expected = run_norse(module, x)
    graph = from_norse(module, torch.zeros(1, *shape))
    assert graph.metadata["dt"] == dt
    got = simulate(graph, x, SimOptions(dt=dt)).outputs["output"]  # reset comes from the nodes
    if type(module[-1]).__name__ in ("LIBoxCell", "LICell"):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    else:
        assert 0 < expected.sum() < expected.size, "model must spike, but not everywhere"
        np.testing.assert_array_equal(got, expected)


def test_graph_survives_nir_round_trip(tmp_path):
    module, shape = MODELS["lifbox-subtract-reset"][0](np.random.default_rng(0), 1e-3)
    graph = from_norse(module, torch.zeros(1, *shape))
    assert graph.nodes["1"].reset == "subtract"
    write_nir(graph, tmp_path / "m.nir")
    back = load_model(tmp_path / "m.nir")
    assert back.nodes["1"].reset == "subtract" and back.metadata["dt"] == 1e-3


def test_unsupported_layer_is_named():
    module = norse.SequentialState(torch.nn.Linear(3, 4), torch.nn.Tanh(), norse.LIFBoxCell())
    with pytest.raises(UnsupportedLayerError, match=r"layer '1' \(Tanh\) is not supported"):
        from_norse(module, torch.zeros(1, 3))


def test_model_that_fails_on_its_sample():
    module = norse.SequentialState(torch.nn.Linear(3, 4), norse.LIFBoxCell())
    with pytest.raises(ModelFileError, match=r"does not run on its sample input of shape \(1, 5\)"):
        from_norse(module, torch.zeros(1, 5))
