"""snnTorch's default subtract reset (IR ``subtract_next``) on loihi2 with the default pipeline:
a reset-free Lava ATRLIF with an inhibitory self-connection (``snnc.backends.loihi.subtract``).

Real snnTorch 1.0.0 ``snn.Leaky`` / ``snn.RLeaky`` nets, real Lava 0.10.0 (fixed_pt). Checked:
(a) the engine's ATRLIF replay equals Lava bit for bit (spikes, i, v, theta, r), on a general
    ATRLIF and on the compiled nets; (b) the emitted script, run in a subprocess, writes
    exactly what ``simulate -t loihi2`` returns (outputs and a probed v); (c) agreement with
    the quantized reference (the lowering's own error), the float reference of the compiled
    graph and snnTorch's own forward (quantization); (d) random IR graphs with per-neuron
    tau and threshold; (e) Synaptic (CubaLIF) stays refused, naming why.
Fixed seeds throughout. Agreement = the fraction of (step, batch, neuron) output values equal.
"""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
from snntorch import utils  # noqa: E402

from snnc.backends.engine import run  # noqa: E402
from snnc.backends.loihi import AtrLif, LoihiNetwork, Synapse, target, to_engine  # noqa: E402
from snnc.backends.loihi.emit import emit  # noqa: E402
from snnc.backends.loihi.targets import LOIHI2  # noqa: E402
from snnc.backends.reference import simulate as reference  # noqa: E402
from snnc.errors import OptionError  # noqa: E402
from snnc.frontends.snntorch import from_snntorch  # noqa: E402
from snnc.options import SimOptions  # noqa: E402
from tests.backends.test_loihi_emit import run_script  # noqa: E402
from tests.backends.test_loihi_framework_idioms import Tutorial  # noqa: E402
from tests.backends.test_loihi_framework_idioms import STEPS as TUTORIAL_STEPS  # noqa: E402

STEPS, BATCH = 30, 3
nn = torch.nn


@pytest.fixture(scope="module")
def lava():
    pytest.importorskip("lava")
    from snnc.backends.loihi.lava import import_lava, run_lava

    import_lava()
    return run_lava


def _weights(net, gain, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * gain
                                   / np.sqrt(layer.weight.shape[1]))
    return net


def _sequential(beta1, beta2, output=False, learn_beta=False):
    last = dict(init_hidden=True, output=output)
    return _weights(nn.Sequential(
        nn.Linear(10, 16), snn.Leaky(beta=beta1, init_hidden=True, learn_beta=learn_beta),
        nn.Linear(16, 4), snn.Leaky(beta=beta2, learn_beta=learn_beta, **last)), 4.0, 1)


def _learned_betas():
    """learn_beta=True with random per-neuron betas in the hidden layer (4 values, shuffled:
    a heterogeneous-timescale init; the layer the Output reads cannot be split, so it
    learns one beta)."""
    rng = np.random.default_rng(2)
    betas = torch.tensor(rng.uniform(0.5, 0.95, 4), dtype=torch.float32).repeat(4)
    return _sequential(betas[torch.from_numpy(rng.permutation(16))], torch.tensor(0.8),
                       learn_beta=True)


def _rleaky():
    """RLeaky: its recurrent Linear is a second synapse into the same ATRLIF."""
    return _weights(nn.Sequential(
        nn.Linear(10, 16), snn.RLeaky(beta=0.85, linear_features=16, init_hidden=True),
        nn.Linear(16, 4), snn.Leaky(beta=0.8, init_hidden=True)), 4.0, 3)


MODELS = {
    "lif": lambda: _sequential(0.9, 0.8),
    "if": lambda: _sequential(1.0, 1.0),
    "lif-output-true": lambda: _sequential(0.9, 0.8, output=True),
    "learned-beta": _learned_betas,
    "rleaky": _rleaky,
    "traced": lambda: Tutorial("subtract"),
}


def _spikes(seed, steps=STEPS):
    rng = np.random.default_rng(seed)
    return (rng.random((steps, BATCH, 10)) < 0.4).astype(np.float32)


def _snntorch(name, net, x):
    """snnTorch's own spikes: the traced net's forward over its steps; else step by step."""
    with torch.no_grad():
        if name == "traced":
            return net(torch.from_numpy(x)).numpy()
        utils.reset(net)
        steps = [net(torch.from_numpy(step)) for step in x]
        return np.stack([(s[0] if isinstance(s, tuple) else s).numpy() for s in steps])


def _compiled(name):
    torch.manual_seed(sorted(MODELS).index(name))  # the biases (and RLeaky's V) torch draws
    net = MODELS[name]()
    x = _spikes(sorted(MODELS).index(name), TUTORIAL_STEPS if name == "traced" else STEPS)
    graph = from_snntorch(net, torch.from_numpy(x if name == "traced" else x[0]))
    options = SimOptions(dt=graph.metadata["dt"])
    quantized, records = LOIHI2.compile(graph, options)  # the default pipeline
    return net, x, graph, quantized, options, records


def _agreement(a, b):
    return float(np.mean(a == b))


def test_engine_replays_lavas_fixed_point_atrlif_bit_for_bit(lava):
    """A general ATRLIF (partial current, voltage, threshold and refractory decays, a
    threshold step, biases) and the reset-free form with its self-connection: every spike and
    every i, v, theta, r after every step equal Lava's."""
    rng = np.random.default_rng(0)
    steps = 30
    net = LoihiNetwork({"in": 6}, {
        "a": AtrLif(4, delta_i=0.25, delta_v=300 / 4096, delta_theta=0.125, delta_r=0.5,
                    theta_0=40, theta_step=7, bias_mant=np.array([3, -2, 0, 5]), bias_exp=2,
                    v=np.array([10, -5, 0, 100])),
        "b": AtrLif(3, delta_i=4095 / 4096, delta_v=1.0, delta_theta=0.0, delta_r=1.0,
                    theta_0=24, theta_step=0)}, (
        ("in", "a", Synapse(rng.integers(-60, 120, (4, 6)), weight_exp=1)),
        ("a", "b", Synapse(rng.integers(-20, 120, (3, 4)))),
        ("b", "b", Synapse(-24 * np.eye(3, dtype=int), sign_mode="inhibitory"))))
    x = rng.random((steps, 6)) < 0.5
    probe = [f"{pop}.{var}" for pop in net.neurons for var in ("i", "v", "theta", "r")]
    want = lava(net, {"in": x}, steps, probe)
    got = run(to_engine(net), {"in": x[:, None]}, probe=probe)
    assert all(want.spikes[pop].sum() > 5 for pop in net.neurons)
    for pop in net.neurons:
        np.testing.assert_array_equal(got.spikes[pop][:, 0], want.spikes[pop], err_msg=pop)
    for item in probe:
        np.testing.assert_array_equal(got.states[item][:, 0], want.states[item], err_msg=item)


@pytest.mark.parametrize("name", ["lif", "rleaky"])
def test_compiled_network_runs_in_lava_as_on_the_engine(name, lava):
    """The lowered network of a default snnTorch net: Lava's spikes and v equal the engine's
    (one batch row: Lava has none)."""
    _, x, _, quantized, options, _ = _compiled(name)
    net = target.lava_network(quantized, options)
    assert any(isinstance(p, AtrLif) for p in net.neurons.values())
    feeds = {"input": x[:, 0].reshape(len(x), -1) != 0}
    probe = [f"{pop}.v" for pop in net.neurons]
    want = lava(net, feeds, len(x), probe)
    got = run(to_engine(net), {k: v[:, None] for k, v in feeds.items()}, probe=probe)
    assert sum(s.sum() for s in want.spikes.values()) > 0
    for pop in net.neurons:
        np.testing.assert_array_equal(got.spikes[pop][:, 0], want.spikes[pop], err_msg=pop)
    for item in probe:
        np.testing.assert_array_equal(got.states[item][:, 0], want.states[item], err_msg=item)


def test_emitted_script_in_a_subprocess_writes_what_simulate_returns(lava, tmp_path):
    """learn_beta nets split into populations of equal beta (split-populations), all
    ATRLIF; the script's outputs and probed v (dequantized) equal simulate's exactly."""
    _, x, _, quantized, options, records = _compiled("learned-beta")
    quantize = next(r for r in records if r.applied.name == "quantize").report
    assert len(quantize["atrlif"]) > 2  # the hidden layer split into several groups
    probe = quantize["atrlif"][0]
    want = target.simulate(quantized, {"input": x}, options, record=[probe])
    emit(quantized, options, tmp_path)
    np.savez(tmp_path / "in.npz", spikes=x)
    done = subprocess.run([sys.executable, str(tmp_path / "lava_network.py"), "--input",
                           str(tmp_path / "in.npz"), "--output", str(tmp_path / "out.npz"),
                           "--probe", f"{probe}.v"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(tmp_path / "out.npz") as got:
        assert want.outputs["output"].sum() > 0
        np.testing.assert_array_equal(got["output"], want.outputs["output"])
        np.testing.assert_array_equal(got[f"{probe}.v"], want.states[f"{probe}.v"])


# measured on these seeds (numpy and torch), fraction of output values equal, loihi2 vs the
# quantized reference / the float reference of the compiled graph / snnTorch's forward (the
# last two are equal: the frontend is exact): if 1.0 / 0.9861 / 0.9861, learned-beta 1.0 /
# 0.9972 / 0.9972, lif 1.0 / 0.9778 / 0.9778, lif-output-true 1.0 / 0.9917 / 0.9917, rleaky
# 1.0 / 0.9556 / 0.9556 (its recurrence carries a flipped spike on), traced 1.0 / 0.9917 /
# 0.9917. Before torch was seeded here, the biases depended on the tests run before (rleaky
# measured 0.9444 to 0.9722).
AGREEMENT = 0.95


@pytest.mark.parametrize("name", sorted(MODELS))
def test_default_snntorch_nets_agree_with_the_references(name, lava, tmp_path):
    """Compiled with the default pipeline, every population runs as ATRLIF; loihi2 equals
    the quantized reference (IF exactly by construction; LIF could differ where an integer v
    lands exactly on the threshold, ATRLIF's >= against the IR's >: not seen on these seeds);
    against the float graph and snnTorch the quantization (thresholds rounded to 8 bits,
    decays to 12) costs what ``AGREEMENT`` allows (measured values above it). The emitted
    script (run in this process) gives simulate's outputs exactly."""
    net, x, graph, quantized, options, records = _compiled(name)
    quantize = next(r for r in records if r.applied.name == "quantize").report
    spiking = [k for k, node in quantized.nodes.items()
               if getattr(node, "spiking", False) and node.type_name in ("LIF", "IF")]
    assert sorted(quantize["atrlif"]) == sorted(spiking)
    got = target.simulate(quantized, {"input": x}, options).outputs
    assert 0 < got["output"].sum() < got["output"].size
    exact = _agreement(got["output"], reference(quantized, x, options).outputs["output"])
    floats = _agreement(got["output"], reference(graph, x, options).outputs["output"])
    framework = _agreement(got["output"], _snntorch(name, net, x))
    print(f"{name}: quantized {exact:.4f} float {floats:.4f} snntorch {framework:.4f}")
    assert exact == 1.0
    assert floats >= AGREEMENT and framework >= AGREEMENT
    emit(quantized, options, tmp_path)
    script = run_script(tmp_path, {"spikes": x})
    for key, values in got.items():
        np.testing.assert_array_equal(script[key], values, err_msg=key)


def _random_subtract_graph(seed, kind):
    """tests/passes/test_split's random graph (per-neuron tau, threshold, v_reset, r, v_leak)
    with every spiking population on subtract_next; the decays of the population that feeds
    the Output shared (it cannot be split)."""
    import dataclasses

    from snnc.ir import Graph
    from tests.passes.test_split import random_graph

    graph = random_graph(seed, kind)
    nodes = {name: dataclasses.replace(node, reset="subtract_next")
             if getattr(node, "spiking", False) else node for name, node in graph.nodes.items()}
    last = nodes["pop2"]
    nodes["pop2"] = dataclasses.replace(last, tau=np.full(last.shape, 5e-3))
    return Graph(nodes=nodes, edges=graph.edges)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_graphs_with_per_neuron_tau_and_threshold(seed):
    """Per-neuron tau and threshold split losslessly; every population an ATRLIF. Measured:
    loihi2 equals the quantized reference on seeds 0-2 (1.0); against the float reference
    0.95-1.0 (the split and the quantization)."""
    graph, options = _random_subtract_graph(seed, "LIF"), SimOptions(dt=1e-3)
    x = (np.random.default_rng(seed).random((60, BATCH, 12)) < 0.3).astype(np.float32)
    quantized, records = LOIHI2.compile(graph, options)
    split = next(r for r in records if r.applied.name == "split-populations").report
    quantize = next(r for r in records if r.applied.name == "quantize").report
    assert set(split["split"]) == {"pop0", "pop1"}
    assert len(quantize["atrlif"]) > 3
    got = target.simulate(quantized, {"input": x}, options).outputs["output"]
    assert got.sum() > 0
    np.testing.assert_array_equal(got, reference(quantized, x, options).outputs["output"])
    assert _agreement(got, reference(graph, x, options).outputs["output"]) >= 0.9


@pytest.mark.parametrize("seed", [0, 4, 8])
def test_random_chains_of_lif_and_if_with_skips_and_recurrence(seed):
    """tests/random_graphs: LIF/IF chains with Scale maps, skip connections and (seed 4) a
    recurrent Linear, every spiking population on subtract_next. Measured: equal to the
    quantized reference; 0.981 / 0.963 / 0.986 against the float reference (seeds 0, 4, 8).
    Known inexact (seed 9: 0.9989): a deep IF whose negative bias would carry its rewound
    initial v across the threshold keeps v0, so its bias acts lag steps early, as on LIF."""
    import dataclasses

    from snnc.ir import Graph
    from tests.random_graphs import random_graph

    graph = random_graph(seed, neurons=("LIF", "IF"))
    graph = Graph(nodes={name: dataclasses.replace(node, reset="subtract_next")
                         if getattr(node, "spiking", False) else node
                         for name, node in graph.nodes.items()}, edges=graph.edges)
    options = SimOptions(dt=1e-3)
    x = (np.random.default_rng(seed).random((60, BATCH, graph.nodes["input"].shape[0]))
         < 0.3).astype(np.float32)
    quantized, _ = LOIHI2.compile(graph, options)
    got = target.simulate(quantized, {"input": x}, options).outputs["output"]
    assert got.sum() > 0
    np.testing.assert_array_equal(got, reference(quantized, x, options).outputs["output"])
    assert _agreement(got, reference(graph, x, options).outputs["output"]) >= 0.95


def test_synaptic_default_subtract_reset_is_refused_with_the_reason():
    """CubaLIF with subtract_next: ATRLIF adds its input to the current and its reset state
    decays apart, so no exact lowering; the line names the population and the opt-in."""
    x = _spikes(4, TUTORIAL_STEPS)
    graph = from_snntorch(Tutorial("subtract", synaptic=True), torch.from_numpy(x))
    options = SimOptions(dt=graph.metadata["dt"])
    quantized = LOIHI2.compile(graph, options)[0]
    with pytest.raises(OptionError, match=r"^population 'lif1': a subtract reset on CubaLIF "
                                          r".*ATRLIF.*reset-approx") as caught:
        target.simulate(quantized, {"input": x}, options)
    assert "\n" not in str(caught.value)
