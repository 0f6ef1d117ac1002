"""The SFQ targets against the reference: exact with deterministic weights and no collisions,
converging in the mean with stochastic gates; collisions and settings end to end."""
import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target
from snnc.backends.sfq.cells import cells
from snnc.errors import InputError, OptionError, SnncError
from snnc.frontends import load_model
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from tests.conftest import spikes
from tests.targets.test_conformance import graph_for

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
OPTIONS = SimOptions(dt=1e-3)
EXACT = dataclasses.replace(OPTIONS, device=(("gates", "deterministic"), ("serialize", "true")))


def digits(rows=16):
    with np.load(DIGITS / "test_spikes.npz") as data:
        return load_model(DIGITS / "digits.nir"), data["spikes"][:, :rows]


def same_as_reference(target, graph, inputs, options):
    compiled, _ = target.compile(graph, options)
    got = target.simulate(compiled, inputs, options)
    want = get_target("reference").simulate(compiled, inputs, options)
    return all(np.array_equal(got.outputs[k], want.outputs[k]) for k in want.outputs), got


@pytest.mark.parametrize("name", ["sfq", "sfq_rsfq"])
def test_deterministic_serialised_is_exactly_the_reference_on_random_graphs(name):
    target, ran = get_target(name), 0
    for seed in range(8):
        graph = graph_for(target, seed)
        inputs = spikes(np.random.default_rng(seed), (30, 4, *graph.nodes["input"].shape), 0.3)
        try:
            equal, _ = same_as_reference(target, graph, inputs, EXACT)
        except SnncError:  # a Delay map-delays cannot fold: refused, as in conformance
            continue
        assert equal, seed
        ran += 1
    assert ran >= 4


def test_deterministic_serialised_is_exactly_the_reference_on_digits():
    graph, inputs = digits()
    equal, got = same_as_reference(get_target("sfq_ersfq"), graph, inputs, EXACT)
    assert equal
    totals = got.counters.totals()
    assert totals["collisions"] == 0 and totals["pulse_level"] == 0
    assert totals["pulses"] == totals["pulses_in"]


def test_unserialised_pulses_collide_and_are_counted():
    graph, inputs = digits(8)
    options = dataclasses.replace(OPTIONS, device=(("serialize", "false"),))
    target = get_target("sfq_rsfq")
    compiled, _ = target.compile(graph, options)
    totals = target.simulate(compiled, inputs, options).counters.totals()
    assert totals["collisions"] > 0 and totals["pulse_level"] > 0


def _benchmark():
    """benchmarks/engine_throughput.py, whose PyLSE-style heapq simulator is the oracle."""
    path = Path(__file__).parents[3] / "benchmarks" / "engine_throughput.py"
    spec = importlib.util.spec_from_file_location("sfq_engine_throughput", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collisions_match_a_per_pulse_heapq_oracle():
    """A random 24 x 24 multi-fluxon layer, unserialised, 12 steps of seeded spikes: the
    vectorized collisions deliver exactly the pulses per (step, neuron) of the per-pulse
    discrete-event simulator (deterministic gates; the oracle has no stochastic gates)."""
    bench = _benchmark()
    rng = np.random.default_rng(5)
    pulses, sent = bench.layer(24, rng), rng.random((12, 24)) < 0.3
    lib = cells(load_chip("sfq_rsfq"))
    (got, counts), (want, lost) = bench.emulate(pulses, sent, lib), \
        bench.heapq_simulate(pulses, sent, lib)
    assert lost > 0 and np.array_equal(got, want)
    assert int(counts["collisions"].sum()) == lost


def linear_readout(seed=3, n_in=12, n_out=5):
    rng = np.random.default_rng(seed)
    nodes = {"input": n.Input(shape=(n_in,)),
             "fc": n.Linear(weight=rng.normal(0, 1, (n_out, n_in))),
             "acc": n.I(r=np.ones(n_out)), "output": n.Output(shape=(n_out,))}
    return Graph(nodes=nodes, edges=[("input", "fc"), ("fc", "acc"), ("acc", "output")])


def test_stochastic_gates_converge_in_the_mean():
    """An integrator readout is linear in its input, so its mean state over trials converges
    to the reference's: 400 trials (seeds), tolerance 4 standard errors per element plus 1e-6
    (pulses_per_spike 1, the seed paper's one pulse per spike). The 200 compared elements
    (20 steps x 2 rows x 5 outputs) are correlated (an integrator's later steps sum its
    earlier ones), so they are not 200 independent 4-sigma chances: the test's false-alarm
    rate is far below 200 x 6e-5."""
    target = get_target("sfq")
    inputs = spikes(np.random.default_rng(0), (20, 2, 12), 0.3)
    compiled, _ = target.compile(linear_readout(), OPTIONS)
    want = get_target("reference").simulate(compiled, inputs, OPTIONS).outputs["output"]
    trials = np.stack([target.simulate(compiled, inputs, dataclasses.replace(
        OPTIONS, seed=seed)).outputs["output"] for seed in range(400)])
    mean, error = trials.mean(axis=0), trials.std(axis=0) / np.sqrt(len(trials))
    assert np.all(np.abs(mean - want) <= 4 * error + 1e-6)
    assert not np.array_equal(trials[0], trials[1])  # the seeds draw differently
    again = target.simulate(compiled, inputs, OPTIONS).outputs["output"]
    assert np.array_equal(again, trials[0])  # the same seed draws the same


def test_more_pulses_per_spike_narrow_the_spread():
    target = get_target("sfq")
    inputs = spikes(np.random.default_rng(0), (20, 2, 12), 0.3)
    compiled, _ = target.compile(linear_readout(), OPTIONS)

    def spread(k):
        runs = [target.simulate(compiled, inputs, dataclasses.replace(
            OPTIONS, seed=s, device=(("pulses_per_spike", str(k)),))).outputs["output"]
            for s in range(30)]
        return float(np.std(runs, axis=0).mean())
    # a spike through a gate of n pulses adds worth x Binomial(k, p), p = n / (k worth),
    # worth = ceil(max / k): variance n worth (1 - p), so with max <= 15 the std ratio is
    # ideally sqrt(1 / 15) = 0.26; 0.6 leaves room for the 30-seed std estimates
    assert spread(15) < 0.6 * spread(1)


@pytest.mark.parametrize("device, message", [(("gates", "maybe"), "gates is one of"),
                                             (("pulses_per_spike", "0"), "at least 1"),
                                             (("serialize", "perhaps"), "true or false")])
def test_bad_device_settings_are_one_clear_error(device, message):
    graph, inputs = digits(2)
    target = get_target("sfq")
    options = dataclasses.replace(OPTIONS, device=(device,))
    compiled, _ = target.compile(graph, options)
    with pytest.raises(OptionError, match=message):
        target.simulate(compiled, inputs, options)


def test_graded_input_and_unquantized_graph_are_refused():
    graph, inputs = digits(2)
    target = get_target("sfq")
    compiled, _ = target.compile(graph, OPTIONS)
    with pytest.raises(InputError, match="pulses"):
        target.simulate(compiled, inputs * 0.5, OPTIONS)
    with pytest.raises(OptionError, match="quantized for SFQ"):
        target.simulate(graph, inputs, OPTIONS)


def test_stochastic_unserialised_gates_block_and_collide():
    graph, inputs = digits(8)
    options = dataclasses.replace(OPTIONS, device=(("serialize", "false"),
                                                   ("pulses_per_spike", "3")))
    target = get_target("sfq")
    compiled, _ = target.compile(graph, options)
    counts = target.simulate(compiled, inputs, options).counters.counts
    total = {k: sum(int(v.sum()) for v in counts[k].values()) for k in
             ("pulses_in", "pulses", "collisions", "serialized")}
    assert total["collisions"] > 0 and total["serialized"] == 0
    assert total["pulses"] + total["collisions"] < total["pulses_in"]  # some gates blocked
    for name, events in counts["synaptic_events"].items():
        assert int(counts["pulses_in"][name].sum()) == 3 * int(events.sum())
        rows = counts["fast_path"][name] + counts["pulse_level"][name]
        assert np.all(rows == inputs.shape[1])


def test_bias_spread_draws_one_circuit_instance_per_seed():
    from snnc.backends.sfq.target import sfq_network
    graph, _ = digits(2)
    target = get_target("sfq")
    compiled, _ = target.compile(graph, OPTIONS)

    def probabilities(seed, spread):
        options = dataclasses.replace(OPTIONS, seed=seed, device=(("bias_spread_ua", spread),))
        net = sfq_network(compiled, options, "sfq")
        return np.concatenate([c.model.probability for c in net.connections])
    nominal = probabilities(0, "0")
    one, again, other = probabilities(1, "0.2"), probabilities(1, "0.2"), probabilities(2, "0.2")
    assert np.array_equal(one, again) and not np.array_equal(one, other)
    inner = (nominal > 0) & (nominal < 1)
    assert np.all(one[~inner] == nominal[~inner]) and np.all((one > 0) & (one < 1) | ~inner)
    assert 0.01 < np.abs(one - nominal)[inner].mean() < 0.3


def test_synaptic_delays_are_exact_and_cost_dro_stages():
    from snnc.backends.sfq.circuit import map_circuit
    graph = load_model(DIGITS.parent / "delays" / "delays.nir")
    target = get_target("sfq_rsfq")
    inputs = spikes(np.random.default_rng(0), (50, 3, *graph.nodes[graph.inputs[0]].shape), 0.3)
    equal, _ = same_as_reference(target, graph, {graph.inputs[0]: inputs}, EXACT)
    assert equal
    circuit = map_circuit(target.compile(graph, EXACT)[0], target.chip_model())
    assert sum(layer.delay_dros for layer in circuit.layers) > 0
