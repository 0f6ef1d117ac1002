"""The snnTorch frontend: snnc's reference simulation of ``from_snntorch(module)`` gives the
spikes of snnTorch's own forward pass, step for step, on random models (fixed seeds).

Tolerance: none, spikes are compared exactly. The arithmetic is not bit-identical (snnTorch
computes beta * mem + x, the IR's LIF v + g * (r x - v) with g = 1 - beta, r = 1 / g, and the
CubaLIF's current decays as i - g_syn i instead of alpha syn), so a membrane within float32
rounding of its threshold could flip a spike; over 580 random models (30 for each supported
neuron type and reset, 40 two-layer 64-128-10 networks at batch 32) none did, and these fixed
seeds are checked. Leaky with beta = 1 becomes IF, whose
v + x is snnTorch's arithmetic bit for bit.
"""
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
from snntorch import utils  # noqa: E402

from snnc.backends.reference import simulate  # noqa: E402
from snnc.errors import ModelFileError, UnsupportedLayerError  # noqa: E402
from snnc.frontends import load_model, write_nir  # noqa: E402
from snnc.frontends.snntorch import from_snntorch  # noqa: E402
from snnc.ir import IF, LIF, Affine, CubaLIF, Linear, SumPool2d, Threshold  # noqa: E402
from snnc.options import SimOptions  # noqa: E402

STEPS, BATCH = 50, 6


def per_neuron(rng, shape, low, high):
    return torch.tensor(rng.uniform(low, high, shape), dtype=torch.float32)


def linear(rng, n_in, n_out, gain=2.0, bias=True):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in))))
        if bias:
            layer.bias.copy_(torch.tensor(rng.normal(0, 0.1, n_out)))
    return layer


def conv(rng, c_in, c_out, gain=4.0, **kw):
    layer = torch.nn.Conv2d(c_in, c_out, **kw)
    with torch.no_grad():
        layer.weight.mul_(gain)
    return layer


def leaky(rng, n, **kw):
    return snn.Leaky(beta=per_neuron(rng, n, 0.5, 0.98), threshold=per_neuron(rng, n, 0.5, 1.5),
                     init_hidden=True, **kw)


def synaptic(rng, n, **kw):
    return snn.Synaptic(alpha=per_neuron(rng, n, 0.3, 0.95), beta=per_neuron(rng, n, 0.5, 0.98),
                        threshold=per_neuron(rng, n, 0.5, 1.5), init_hidden=True, **kw)


def rleaky(rng, n, all_to_all, **kw):
    recurrence = dict(linear_features=n) if all_to_all else dict(V=per_neuron(rng, n, -0.6, 0.6))
    return snn.RLeaky(beta=per_neuron(rng, n, 0.5, 0.98), threshold=per_neuron(rng, n, 0.5, 1.5),
                      all_to_all=all_to_all, init_hidden=True, **recurrence, **kw)


def rsynaptic(rng, n, **kw):
    return snn.RSynaptic(alpha=per_neuron(rng, n, 0.3, 0.95), beta=per_neuron(rng, n, 0.5, 0.98),
                         threshold=per_neuron(rng, n, 0.5, 1.5), linear_features=n,
                         init_hidden=True, **kw)


Seq = torch.nn.Sequential
# name -> builder(rng) -> (module, unbatched input shape)
MODELS = {
    "leaky-scalar-defaults": lambda r: (Seq(linear(r, 10, 8), snn.Leaky(
        beta=0.9, init_hidden=True)), (10,)),
    "leaky-per-neuron-zero": lambda r: (Seq(linear(r, 12, 9), leaky(
        r, 9, reset_mechanism="zero")), (12,)),
    "leaky-zero-immediate": lambda r: (Seq(linear(r, 12, 9), leaky(
        r, 9, reset_mechanism="zero", reset_delay=False)), (12,)),
    "leaky-none": lambda r: (Seq(linear(r, 8, 7, gain=0.5), leaky(
        r, 7, reset_mechanism="none")), (8,)),
    "mlp-learnable-clamped": lambda r: (Seq(linear(r, 12, 16), snn.Leaky(
        beta=per_neuron(r, 16, -0.3, 0.95), threshold=per_neuron(r, 16, 0.5, 1.5),
        learn_beta=True, learn_threshold=True, init_hidden=True),
        linear(r, 16, 6, gain=3.0, bias=False), snn.Leaky(
        beta=torch.tensor(0.8), threshold=0.7, learn_beta=True, init_hidden=True)), (12,)),
    "synaptic-learnable": lambda r: (Seq(linear(r, 10, 8, gain=1.0), synaptic(
        r, 8, learn_alpha=True, learn_beta=True, learn_threshold=True)), (10,)),
    "synaptic-zero": lambda r: (Seq(linear(r, 10, 8, gain=1.0), synaptic(
        r, 8, reset_mechanism="zero")), (10,)),
    "synaptic-zero-immediate": lambda r: (Seq(linear(r, 10, 8, gain=1.0), synaptic(
        r, 8, reset_mechanism="zero", reset_delay=False)), (10,)),
    "rleaky-all-to-all": lambda r: (Seq(linear(r, 10, 12), rleaky(r, 12, True)), (10,)),
    "rleaky-one-to-one-zero": lambda r: (Seq(linear(r, 10, 12), rleaky(
        r, 12, False, reset_mechanism="zero")), (10,)),
    "rleaky-first-scalar-v": lambda r: (Seq(snn.RLeaky(
        beta=0.7, V=0.3, all_to_all=False, threshold=0.5, init_hidden=True),
        linear(r, 9, 5, gain=3.0), leaky(r, 5)), (9,)),
    "rsynaptic-zero": lambda r: (Seq(linear(r, 10, 12, gain=1.0), rsynaptic(
        r, 12, reset_mechanism="zero")), (10,)),
    "rsynaptic-subtract": lambda r: (Seq(linear(r, 10, 12, gain=1.0), rsynaptic(r, 12)), (10,)),
    "conv-avgpool-flatten-linear": lambda r: (Seq(
        conv(r, 2, 4, kernel_size=3, padding=1), snn.Leaky(
            beta=per_neuron(r, (4, 1, 1), 0.6, 0.95), threshold=0.8, init_hidden=True),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(), linear(r, 36, 7, gain=4.0), leaky(r, 7)),
        (2, 6, 6)),
    "conv-maxpool-on-spikes": lambda r: (Seq(
        conv(r, 1, 3, kernel_size=3), leaky(r, (3, 6, 6), reset_mechanism="zero"),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), linear(r, 27, 6, gain=3.0), leaky(r, 6)),
        (1, 8, 8)),
    "deep-nested-mixed": lambda r: (Seq(OrderedDict(
        fc1=linear(r, 10, 14), syn1=synaptic(r, 14), drop=torch.nn.Dropout(0.2),
        block=Seq(OrderedDict(fc2=linear(r, 14, 12, gain=3.0), rec=rleaky(r, 12, True))),
        fc3=linear(r, 12, 6, gain=3.0), out=leaky(r, 6))), (10,)),
    "leaky-beta-one-is-if": lambda r: (Seq(linear(r, 10, 8, gain=1.0), snn.Leaky(
        beta=per_neuron(r, 8, 1.0, 1.5), threshold=per_neuron(r, 8, 1.0, 3.0),
        init_hidden=True)), (10,)),
}


def run_snntorch(module, x):
    """snnTorch's own forward, one step at a time from a reset state: (steps, batch, *out)."""
    module.eval()
    utils.reset(module)
    with torch.no_grad():
        return np.stack([module(torch.from_numpy(step)).numpy() for step in x])


def model(name):
    rng = np.random.default_rng(sorted(MODELS).index(name))
    torch.manual_seed(0)
    module, shape = MODELS[name](rng)
    x = (rng.random((STEPS, BATCH, *shape)) < 0.3).astype(np.float32)
    return module, x


@pytest.mark.parametrize("name", sorted(MODELS))
def test_from_snntorch_equals_snntorch(name):
    module, x = model(name)
    expected = run_snntorch(module, x)
    graph = from_snntorch(module, torch.from_numpy(x[0]), dt=1e-3)
    assert graph.metadata["dt"] == 1e-3
    got = simulate(graph, x, SimOptions(dt=1e-3)).outputs["output"]  # resets come from the nodes
    assert 0 < expected.sum() < expected.size, "the model must spike, but not everywhere"
    np.testing.assert_array_equal(got, expected)


def test_nodes_and_resets():
    graph = from_snntorch(model("deep-nested-mixed")[0], torch.zeros(2, 10))
    assert list(graph.nodes) == ["input", "fc1", "syn1", "block.fc2", "block.rec",
                                 "block.rec.rec", "fc3", "out", "output"]
    assert isinstance(graph.nodes["syn1"], CubaLIF) and graph.nodes["syn1"].reset == "subtract_next"
    assert isinstance(graph.nodes["block.rec.rec"], Linear)  # its bias moved into block.fc2
    assert isinstance(graph.nodes["block.fc2"], Affine)
    assert ("block.rec.rec", "block.rec") in graph.recurrent_edges
    resets = {name: from_snntorch(model(name)[0], torch.zeros(1, *model(name)[1].shape[2:]))
              .nodes["1"].reset
              for name in ("leaky-per-neuron-zero", "synaptic-zero", "synaptic-zero-immediate",
                           "leaky-none")}
    assert resets == {"leaky-per-neuron-zero": "zero", "synaptic-zero": "zero_next",
                      "synaptic-zero-immediate": "zero", "leaky-none": "none"}


def test_leaky_parameters_and_max_pool():
    module = Seq(torch.nn.Linear(3, 2), snn.Leaky(beta=torch.tensor([0.5, 0.75]), threshold=0.25,
                                                  init_hidden=True))
    lif = from_snntorch(module, torch.zeros(3), dt=1e-3).nodes["1"]  # a 1-d sample: unbatched
    assert isinstance(lif, LIF) and lif.reset == "subtract_next"
    np.testing.assert_allclose(lif.tau, [2e-3, 4e-3])
    np.testing.assert_allclose(lif.r, [2.0, 4.0])
    np.testing.assert_array_equal(lif.v_threshold, [0.25, 0.25])
    pooled = from_snntorch(model("conv-maxpool-on-spikes")[0], torch.zeros(1, 1, 8, 8))
    assert isinstance(pooled.nodes["2.sum"], SumPool2d) and isinstance(pooled.nodes["2"], Threshold)


def test_beta_one_becomes_if_and_mixed_beta_one_is_refused():
    node = from_snntorch(model("leaky-beta-one-is-if")[0], torch.zeros(1, 10)).nodes["1"]
    assert isinstance(node, IF) and node.reset == "subtract_next"
    mixed = Seq(torch.nn.Linear(3, 2), snn.Leaky(beta=torch.tensor([0.5, 1.0]), init_hidden=True))
    with pytest.raises(UnsupportedLayerError,
                       match=r"layer '1' \(Leaky\): beta = 1 \(no decay\) in 1 of 2 neurons"):
        from_snntorch(mixed, torch.zeros(1, 3))


def test_sample_run_leaves_the_hidden_state_alone():
    module, x = model("leaky-per-neuron-zero")
    utils.reset(module)
    module(torch.from_numpy(x[0]))
    before = module[1].mem.clone()
    from_snntorch(module, torch.ones(2, 12))
    assert torch.equal(module[1].mem, before)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_graph_survives_nir_round_trip(tmp_path, name):
    module, x = model(name)
    graph = from_snntorch(module, torch.from_numpy(x[0]))
    write_nir(graph, tmp_path / "m.nir")
    back = load_model(tmp_path / "m.nir")
    assert back.metadata["dt"] == 1e-4
    assert {k: getattr(v, "reset", None) for k, v in back.nodes.items()} == \
        {k: getattr(v, "reset", None) for k, v in graph.nodes.items()}
    np.testing.assert_array_equal(simulate(back, x).outputs["output"],
                                  simulate(graph, x).outputs["output"])


REFUSED = {
    "Tanh": (lambda: Seq(torch.nn.Linear(3, 4), torch.nn.Tanh()),
             r"layer '1' \(Tanh\) is not supported by the snnTorch frontend \(supported: .*Leaky"),
    "Alpha": (lambda: Seq(torch.nn.Linear(3, 4), snn.Alpha(0.9, 0.8, init_hidden=True)),
              r"layer '1' \(Alpha\) is not supported"),
    "graded": (lambda: Seq(torch.nn.Linear(3, 4), snn.Leaky(
        0.9, init_hidden=True, graded_spikes_factor=2.0)), r"'1' \(Leaky\): graded_spikes_factor"),
    "subtract-immediate": (lambda: Seq(torch.nn.Linear(3, 4), snn.Synaptic(
        0.5, 0.9, init_hidden=True, reset_delay=False)), r"reset_delay=False with reset_mech"),
    "rsynaptic-immediate": (lambda: Seq(torch.nn.Linear(3, 4), snn.RSynaptic(
        0.5, 0.9, linear_features=4, init_hidden=True, reset_mechanism="zero",
        reset_delay=False)), r"RSynaptic\): reset_delay=False .* fails in forward"),
    "no-init-hidden-mid-sequence": (lambda: Seq(torch.nn.Linear(3, 4), snn.Leaky(0.9),
                                                torch.nn.Linear(4, 2)),
                                    r"'2' \(Linear\) gets the tuple returned by '1'"),
    "inhibition": (lambda: Seq(torch.nn.Linear(3, 4), snn.Leaky(
        0.9, init_hidden=True, inhibition=True)), r"inhibition=True"),
    "conv-recurrence": (lambda: Seq(torch.nn.Conv2d(1, 2, 3), snn.RLeaky(
        0.9, conv2d_channels=2, kernel_size=3, init_hidden=True)), r"convolutional recurrence"),
    "maxpool-on-reals": (lambda: Seq(torch.nn.Conv2d(1, 2, 3), torch.nn.MaxPool2d(2)),
                         r"layer '1' \(MaxPool2d\): MaxPool2d is supported only on spikes"),
    "alpha-one": (lambda: Seq(torch.nn.Linear(3, 4), snn.Synaptic(1.0, 0.9, init_hidden=True)),
                  r"alpha = 1 \(no decay\) in 4 of 4 neurons"),
    "negative-threshold": (lambda: Seq(torch.nn.Linear(3, 4), snn.Leaky(
        0.9, threshold=-0.1, init_hidden=True)), r"negative threshold"),
    "not-sequential": (lambda: torch.nn.ModuleList([snn.Leaky(0.9, init_hidden=True)]),
                       r"ModuleList.forward cannot be traced by torch.fx"),
}


@pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_layers_are_named_in_one_line(name):
    build, message = REFUSED[name]
    shape = (1, 1, 8, 8) if "conv" in name or "maxpool" in name else (1, 3)
    with pytest.raises(UnsupportedLayerError, match=message) as error:
        from_snntorch(build(), torch.zeros(shape))
    assert "\n" not in str(error.value)


def test_model_that_fails_on_its_sample():
    module = Seq(torch.nn.Linear(3, 4), snn.Leaky(0.9, init_hidden=True))
    with pytest.raises(ModelFileError, match=r"does not run on its sample input of shape \(1, 5\)"):
        from_snntorch(module, torch.zeros(1, 5))
