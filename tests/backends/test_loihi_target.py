"""The loihi2 target (snnc.backends.loihi.target): a Loihi-quantized graph lowered to Lava
processes and run bit-accurately on the engine, compared with the reference simulation of the
same quantized graph.

Loihi spikes lag the reference by one step per matrix (Lava's Dense latency), so the outputs
are compared shifted by ``hops``. They still differ slightly: Lava truncates the decays of
integer u and v where the reference multiplies floats, and Lava's biases already act during the
latency steps. Tolerances (measured agreement in brackets): digits calibration set >= 0.99
(0.9938, the 450-image test split: 0.9931), the CubaLIF/LIF/IF chain with delays >= 0.97
(0.986); digits accuracy equals the reference's (0.984 on the 64 calibration images, 0.953 on
the test split).
"""
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.loihi import target
from snnc.backends.reference import simulate as reference
from snnc.errors import OptionError, UnsupportedNodeError
from snnc.frontends import load_model
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
OPTIONS = SimOptions(dt=1e-3)


@pytest.fixture(scope="module")
def digits():
    with np.load(DIGITS / "test_spikes.npz") as data:
        x, labels = data["spikes"], data["labels"]
    ctx = PassContext(OPTIONS, x, labels)
    graph = load_model(DIGITS / "digits.nir")
    quantized, _ = run_pipeline(graph, parse("normalize,quantize{chip=loihi2}"), ctx)
    return graph, quantized, x, labels


def shifted_agreement(graph, x, chip="loihi2"):
    """Fraction of (step, sample, neuron) where Loihi's output spikes, ``hops`` steps later,
    equal the reference's; and both outputs over the full run."""
    lag = target.hops(graph)["output"]
    ref = reference(graph, x, OPTIONS).outputs["output"]
    loihi = target.simulate(graph, x, OPTIONS, chip=chip, extra_steps=lag).outputs["output"]
    assert loihi.shape == (x.shape[0] + lag, *ref.shape[1:])
    return float(np.mean(loihi[lag:] == ref)), ref, loihi


@pytest.mark.parametrize("chip", ["loihi2", "loihi1"])
def test_digits_match_the_reference_one_step_later_per_layer(digits, chip):
    _, quantized, x, labels = digits
    assert target.hops(quantized) == {"output": 2}  # fc1, fc2
    agreement, ref, loihi = shifted_agreement(quantized, x, chip)
    assert agreement >= 0.99
    accuracy = lambda out: float(np.mean(out.sum(axis=0).argmax(axis=1) == labels))
    assert accuracy(loihi) >= accuracy(ref) - 0.02 and accuracy(loihi) >= 0.95


def test_lowering_recovers_lavas_integer_weights(digits):
    _, quantized, _, _ = digits
    net = target.lower(quantized, OPTIONS)
    assert dict(net.inputs) == {"input": 64} and set(net.neurons) == {"lif1", "lif2"}
    for (source, pop, syn), name in zip(net.synapses, ("fc1", "fc2")):
        hw = quantized.nodes[name].hw
        assert syn.weights.dtype == np.int64 and syn.weight_exp == hw["weight_exp"]
        low, high = {"mixed": (-256, 254), "excitatory": (0, 255),
                     "inhibitory": (-255, 0)}[hw["sign_mode"]]
        assert low <= syn.weights.min() and syn.weights.max() <= high
        assert hw["sign_mode"] != "mixed" or np.all(syn.weights % 2 == 0)  # Lava's even weights
        lif = net.neurons[pop]
        assert (lif.dv, lif.vth) == (quantized.nodes[pop].hw["dv"], quantized.nodes[pop].hw["vth"])


def test_cuba_lif_if_chain_with_delays_and_recorded_v():
    rng, ones = np.random.default_rng(3), np.ones(12)
    pops = [n.CubaLIF(tau_syn=5e-3 * ones, tau_mem=1e-2 * ones, r=ones, v_leak=0.1 * ones,
                      v_threshold=0.6 * ones, v_reset=-0.2 * ones, w_in=2 * ones),
            n.LIF(tau=2e-2 * ones, r=1.5 * ones, v_leak=0.2 * ones, v_threshold=0.8 * ones,
                  v_reset=0.1 * ones),
            n.IF(r=0.5 * ones, v_threshold=ones, v_reset=0 * ones)]
    nodes, edges, previous = {"input": n.Input(shape=(12,))}, [], "input"
    for i, pop in enumerate(pops):
        delay = {"delay": rng.integers(0, 4, (12, 12)) * 1e-3} if i == 1 else {}
        nodes[f"fc{i}"] = n.Affine(weight=rng.normal(0, 1.5, (12, 12)),
                                   bias=rng.normal(0, 0.1, 12), **delay)
        nodes[f"pop{i}"] = pop
        edges += [(previous, f"fc{i}"), (f"fc{i}", f"pop{i}")]
        previous = f"pop{i}"
    nodes["output"] = n.Output(shape=(12,))
    graph = Graph(nodes=nodes, edges=(*edges, (previous, "output")))
    x = spikes(rng, (60, 8, 12), 0.3)
    quantized, _ = run_pipeline(graph, parse("quantize{chip=loihi2}"), PassContext(OPTIONS, x))
    net = target.lower(quantized, OPTIONS)
    assert target.ALWAYS in net.inputs  # the CubaLIF's Affine bias column
    assert any(syn.kind == "DelayDense" for _, _, syn in net.synapses)
    agreement, ref, _ = shifted_agreement(quantized, x)
    assert ref.sum() > 0 and agreement >= 0.97
    recording = target.simulate(quantized, x, OPTIONS, record=["pop1"])
    assert recording.states["pop1.v"].shape == (60, 8, 12)
    assert set(recording.spike_counts) == {"pop0", "pop1", "pop2"}


def test_refuses_unquantized_graphs_and_unsupported_nodes(digits):
    graph, quantized, x, _ = digits
    with pytest.raises(OptionError, match=r"needs a graph quantized for Loihi: compile with "
                                          r"-p 'normalize,quantize\{chip=loihi2\}'"):
        target.simulate(graph, x, OPTIONS)
    nodes = dict(quantized.nodes)
    nodes["lif1"] = n.LI(tau=np.ones(nodes["lif1"].shape) * 1e-2, r=np.ones(nodes["lif1"].shape),
                         v_leak=np.zeros(nodes["lif1"].shape))
    changed = Graph(nodes=nodes, edges=quantized.edges)
    with pytest.raises(UnsupportedNodeError, match="node 'lif1': LI is not supported by target "
                                                   "'loihi2'"):
        target.lower(changed, OPTIONS)
