"""The reference simulator reproduces Norse 1.1.0 spike for spike.

Random Norse models are exported with Norse's own ``to_nir`` and imported. Norse 1.1.0 writes
``tau = dt / tau_inv`` and drops ``v_reset``; exporting with dt=1 and restoring what it drops
makes the file describe the model. Norse's LIFCell adds its input to the synaptic current as a
jump; in NIR's CubaLIF that is ``w_in = tau_syn / dt``. LIFRecurrentCell, which ``to_nir`` does
not export, is written by hand as CubaLIF with a recurrent Linear edge.

Tolerance: spikes must be identical. Voltages of leaky integrators (LIBoxCell outputs) agree
to 1e-6 relative: the reference computes dt/tau from tau = 1/tau_inv in float64, Norse computes
dt * tau_inv in float32, which can differ in the last bit.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
norse = pytest.importorskip("norse.torch")
nir = pytest.importorskip("nir")

from snnc.backends.reference import simulate  # noqa: E402
from snnc.frontends.nir_import import from_nir  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from tests.norse_models import MODELS, inputs, recurrent_cell, run_norse  # noqa: E402


def export(module, input_shape, dt):
    """Norse's to_nir with dt=1 (tau = 1/tau_inv), then restore what Norse 1.1.0 drops."""
    graph = norse.to_nir(module, torch.zeros(input_shape), dt=1)
    for name, node in graph.nodes.items():
        if not name.isdigit():
            continue
        params = getattr(module[int(name)], "p", None)
        if isinstance(node, (nir.LIF, nir.IF, nir.CubaLIF)):
            node.v_reset = params.v_reset
        if isinstance(node, nir.CubaLIF):
            node.w_in = node.tau_syn / dt  # Norse adds input to the current as a jump
    return from_nir(graph)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_norse(name):
    build, dt, reset = MODELS[name]
    rng = np.random.default_rng(sorted(MODELS).index(name))
    torch.manual_seed(0)
    module, shape = build(rng, dt)
    x = inputs(rng, shape)
    expected = run_norse(module, x)
    graph = export(module, shape, dt)
    got = simulate(graph, x, SimOptions(dt=dt, reset=reset)).outputs["output"]
    assert got.shape == expected.shape
    if isinstance(module[-1], norse.LIBoxCell):  # voltage output
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    else:
        assert 0 < expected.sum() < expected.size, "model must spike, but not everywhere"
        np.testing.assert_array_equal(got, expected)


def recurrent_pair(rng, n_in, n_hidden, dt, autapses):
    cell = recurrent_cell(rng, n_in, n_hidden, dt, autapses)
    p = cell.p
    hidden = dict(tau_syn=1 / p.tau_syn_inv, tau_mem=1 / p.tau_mem_inv,
                  r=torch.ones(n_hidden), v_leak=p.v_leak.expand(n_hidden), v_threshold=p.v_th,
                  v_reset=p.v_reset, w_in=(1 / p.tau_syn_inv) / dt)
    w_rec = cell.recurrent_weights.detach()
    if not autapses:
        w_rec = w_rec * (1 - torch.eye(n_hidden))
    graph = nir.NIRGraph(nodes={
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "w_in": nir.Linear(weight=cell.input_weights.detach()),
        "lif": nir.CubaLIF(**{k: v.detach().numpy() for k, v in hidden.items()}),
        "w_rec": nir.Linear(weight=w_rec),
        "output": nir.Output(output_type={"output": np.array([n_hidden])}),
    }, edges=[("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"),
              ("lif", "output")], type_check=False)
    return cell, from_nir(graph)


@pytest.mark.parametrize("autapses", [True, False])
def test_recurrent_layer_equals_norse(autapses):
    rng = np.random.default_rng(11 + autapses)
    torch.manual_seed(1)
    dt = 1e-3
    cell, graph = recurrent_pair(rng, 6, 10, dt, autapses)
    assert graph.recurrent_edges == {("w_rec", "lif")}
    x = inputs(rng, (6,), steps=150)
    expected = run_norse(cell, x)
    got = simulate(graph, x, SimOptions(dt=dt)).outputs["output"]
    assert 0 < expected.sum() < expected.size
    np.testing.assert_array_equal(got, expected)
