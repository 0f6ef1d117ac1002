"""The quantize pass: digits accuracy per format, the integer formats it writes into ``hw``,
a numpy replay of Lava's fixed-point LIF/Dense from those integers, NIR round trips, random
graphs and option errors."""
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.options import gain
from snnc.errors import OptionError
from snnc.frontends import load_model, write_nir
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from tests.conftest import spikes
from tests.random_graphs import random_graph

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
OPTIONS = SimOptions(dt=1e-3)


@pytest.fixture(scope="module")
def digits():
    with np.load(DIGITS / "test_spikes.npz") as data:
        ctx = PassContext(OPTIONS, data["spikes"], data["labels"])
    return load_model(DIGITS / "digits.nir"), ctx


@pytest.fixture(scope="module")
def test_split():
    sys.path.insert(0, str(DIGITS))
    try:
        from data import test_set
    finally:
        sys.path.remove(str(DIGITS))
    return test_set()


def accuracy(graph, x, labels):
    counts = simulate(graph, x, OPTIONS).outputs["output"].sum(axis=0)
    return float(np.mean(counts.argmax(axis=1) == labels))


def quantize(graph, ctx, spec):
    result, records = run_pipeline(graph, parse(spec), ctx)
    return result, records[-1].report


# -- digits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, loss", [
    ("quantize{format=loihi,bits=8}", 0.01),
    ("prune{sparsity=0.5},quantize{format=chip,chip=loihi1}", 0.02),
    ("quantize{format=int,bits=8}", 0.01),
    ("quantize{format=spinnaker}", 0.01),
    ("quantize{format=rram}", 0.02),
])
def test_digits_accuracy_survives_quantization(digits, test_split, spec, loss):
    graph, ctx = digits
    quantized, report = quantize(graph, ctx, spec)
    before = accuracy(graph, ctx.calibration, ctx.labels)
    assert report["accuracy_after"] == accuracy(quantized, ctx.calibration, ctx.labels)
    assert report["accuracy_after"] >= before - loss
    assert accuracy(quantized, *test_split) >= accuracy(graph, *test_split) - loss


def test_calibration_never_agrees_less_than_max_abs(digits):
    graph, ctx = digits
    plain = quantize(graph, ctx, "quantize{format=loihi,bits=4}")[1]
    tuned = quantize(graph, ctx, "quantize{format=loihi,bits=4,calibrate=true}")[1]
    assert tuned["output_agreement"] >= plain["output_agreement"]
    assert tuned["calibration"]["output_agreement"] == tuned["output_agreement"]
    assert set(tuned["calibration"]["choice"]) <= {"fc1", "fc2"}
    with pytest.raises(OptionError, match="needs calibration input"):
        quantize(graph, PassContext(OPTIONS), "quantize{format=int,bits=8,calibrate=true}")


# -- Loihi --------------------------------------------------------------------------------------


def input_factor(pop):
    """Lava integer units per unit of matrix output (see backends/loihi/formats.py): S g r [w_in g_syn]."""
    hw, factor = pop.hw, pop.hw["scale"] * pop.r
    if not isinstance(pop, (n.IF, n.I)):
        factor = factor * hw["dv"] / 4096
    if isinstance(pop, n.CubaLIF):
        factor = factor * pop.w_in * (hw["du"] + 1) / 4096
    return factor


def lava_weights(matrix, pop):
    """Lava's stored Dense weights and bias column (a CubaLIF's Affine bias; else zeros),
    recovered from the float graph: exact integers in the sign mode's range, even if MIXED."""
    hw, factor = matrix.hw, input_factor(pop)
    unit = 2.0 ** (hw["weight_exp"] + 6)
    cuba_bias = isinstance(pop, n.CubaLIF) and isinstance(matrix, n.Affine)
    columns = (matrix.weight * factor[:, None] / unit,
               matrix.bias * factor / unit if cuba_bias else np.zeros(len(factor)))
    low, high = {"mixed": (-256, 254), "excitatory": (0, 255), "inhibitory": (-255, 0)}[
        hw["sign_mode"]]
    for column in columns:
        np.testing.assert_allclose(column, np.rint(column), rtol=0, atol=1e-6)
        assert low <= np.rint(column).min() and np.rint(column).max() <= high
        assert hw["sign_mode"] != "mixed" or np.all(np.rint(column) % 2 == 0)
    return tuple(np.rint(column).astype(np.int64) for column in columns)


def decay(x, d):
    """Lava: sign(x) * (|x (4096 - d)| >> 12), in int64."""
    product = x * (4096 - d)
    return np.sign(product) * (np.abs(product) >> 12)


def lava_run(graph, chain, x):
    """Lava 0.10 fixed point (sheet A1) on a chain of (matrix, population), from the hw
    integers, without Dense's one-step latency (the IR has none)."""
    for matrix_name, pop_name in chain:
        matrix, pop = graph.nodes[matrix_name], graph.nodes[pop_name]
        weights, bias_column = lava_weights(matrix, pop)
        hw = pop.hw
        bias = hw["bias_mant"] << hw["bias_exp"]
        origin = pop.v_reset if pop.spiking else 0
        v = np.rint(hw["scale"] * (getattr(pop, "v_leak", origin) - origin)).astype(np.int64)
        v, u, out = np.broadcast_to(v, (x.shape[1], v.size)), 0, []
        for step in x.astype(np.int64):
            a_in = (step @ weights.T + bias_column) << matrix.hw["weight_exp"]
            u = decay(u, hw["du"] + 1) + (a_in << 6)
            v = np.clip(decay(v, hw["dv"]) + u + bias, -(2 ** 23 - 1), 2 ** 23 - 1)
            fired = v > hw["vth"] << 6
            v = np.where(fired, 0, v)
            out.append(fired.astype(np.float32))
        x = np.stack(out)
    return x


def test_lava_integers_reproduce_the_quantized_digits(digits):
    graph, ctx = digits
    for spec in ("quantize{format=loihi}", "prune{sparsity=0.5},quantize{format=loihi,bits=6}"):
        quantized, _ = quantize(graph, ctx, spec)
        float_out = simulate(quantized, ctx.calibration, OPTIONS).outputs["output"]
        lava_out = lava_run(quantized, [("fc1", "lif1"), ("fc2", "lif2")], ctx.calibration)
        assert np.mean(float_out == lava_out) >= 0.999


def chain_graph(rng, populations):
    """Input -> (Affine -> population)* -> Output, 12 neurons wide."""
    nodes, edges, previous = {"input": n.Input(shape=(12,))}, [], "input"
    for i, pop in enumerate(populations):
        nodes[f"fc{i}"] = n.Affine(weight=rng.normal(0, 1.5, (12, 12)),
                                   bias=rng.normal(0, 0.1, 12))
        nodes[f"pop{i}"] = pop
        edges += [(previous, f"fc{i}"), (f"fc{i}", f"pop{i}")]
        previous = f"pop{i}"
    nodes["output"] = n.Output(shape=(12,))
    return Graph(nodes=nodes, edges=(*edges, (previous, "output")))


def test_lava_integers_reproduce_cuba_lif_and_if_with_offsets():
    rng, ones = np.random.default_rng(3), np.ones(12)
    graph = chain_graph(rng, [
        n.CubaLIF(tau_syn=5e-3 * ones, tau_mem=1e-2 * ones, r=ones, v_leak=0.1 * ones,
                  v_threshold=0.6 * ones, v_reset=-0.2 * ones, w_in=2 * ones),
        n.LIF(tau=2e-2 * ones, r=1.5 * ones, v_leak=0.2 * ones, v_threshold=0.8 * ones,
              v_reset=0.1 * ones),
        n.IF(r=0.5 * ones, v_threshold=ones, v_reset=0 * ones)])
    x = spikes(rng, (60, 8, 12), 0.3)
    ctx = PassContext(OPTIONS, x)
    quantized, report = quantize(graph, ctx, "quantize{format=loihi}")
    assert report["per_neuron"] == {} and report["bias_residual"] == []
    cuba = quantized.nodes["pop0"].hw
    assert cuba["du"] + 1 == round(4096 * 1e-3 / 5e-3) and cuba["dv"] == round(4096 * 0.1)
    assert quantized.nodes["pop2"].hw["dv"] == 0  # IF: no leak
    chain = [(f"fc{i}", f"pop{i}") for i in range(3)]
    float_out = simulate(quantized, x, OPTIONS).outputs["output"]
    assert float_out.sum() > 0
    assert np.mean(float_out == lava_run(quantized, chain, x)) >= 0.99
    for name in ("pop0", "pop1", "pop2"):  # Lava's bias is the quantized constant drive
        pop, hw = quantized.nodes[name], quantized.nodes[name].hw
        assert np.all(np.abs(hw["bias_mant"]) < 2 ** 12) and np.all(hw["bias_exp"] <= 7)
        np.testing.assert_allclose(pop.v_threshold - pop.v_reset,
                                   hw["vth"] * 64 / hw["scale"], rtol=1e-12)


def test_loihi_decays_are_multiples_of_1_over_4096(digits):
    graph, ctx = digits
    for options in (OPTIONS, SimOptions(dt=1e-3, integrator="exp")):
        quantized, report = quantize(graph, PassContext(options), "quantize{format=loihi}")
        for name in ("lif1", "lif2"):
            steps = gain(quantized.nodes[name].tau, options) * 4096
            np.testing.assert_allclose(steps, quantized.nodes[name].hw["dv"], rtol=1e-12)
            assert report["populations"][name]["tau_error"] < 1e-3


def test_loihi_weights_are_exactly_mantissa_times_power_of_two(digits):
    graph, ctx = digits
    quantized, report = quantize(graph, ctx, "quantize{format=loihi}")
    for matrix, pop in (("fc1", "lif1"), ("fc2", "lif2")):
        node, factor = quantized.nodes[matrix], input_factor(quantized.nodes[pop])
        exponent = np.log2(factor[0])  # S g r is a power of two: weights sit on a float grid
        assert exponent == round(exponent) and np.all(factor == factor[0])
        mantissa = node.weight * 2.0 ** -(node.hw["weight_exp"] + 6 - round(exponent))
        assert np.array_equal(mantissa, np.rint(mantissa)) and np.all(mantissa % 2 == 0)
        assert node.hw["sign_mode"] == "mixed" and node.hw["num_weight_bits"] == 8
        assert report["layers"][matrix]["sqnr_db"] > 35


def test_per_neuron_parameters_are_reported_for_check():
    graph = random_graph(7)  # LIF, LI, IF, every parameter drawn per neuron
    quantized, report = quantize(graph, PassContext(OPTIONS), "quantize{format=loihi}")
    assert report["per_neuron"] == {"pop1": ["tau", "v_threshold - v_reset"], "pop2": ["tau"],
                                    "pop3": ["v_threshold - v_reset"]}
    for name in ("pop1", "pop2"):  # quantized per neuron anyway
        node = quantized.nodes[name]
        assert isinstance(node.hw["dv"], np.ndarray) and node.hw["dv"].shape == node.shape
        assert report["populations"][name]["dv"] == "per neuron"


# -- int, SpiNNaker, RRAM -----------------------------------------------------------------------


def single_matrix(weight):
    return Graph(nodes={"input": n.Input(shape=(weight.shape[1],)), "fc": n.Linear(weight=weight),
                        "output": n.Output(shape=(weight.shape[0],))},
                 edges=(("input", "fc"), ("fc", "output")))


def test_int_sqnr_grows_about_6_db_per_bit():
    weight = np.random.default_rng(0).normal(size=(256, 256))
    sqnr = {}
    for bits in (4, 8):
        quantized, report = quantize(single_matrix(weight), PassContext(),
                                     f"quantize{{format=int,bits={bits}}}")
        node = quantized.nodes["fc"]
        mantissa = node.weight * 2.0 ** -node.hw["weight_exp"]
        assert np.array_equal(mantissa, np.rint(mantissa))
        assert np.abs(mantissa).max() <= 2 ** (bits - 1) - 1
        assert (node.hw["format"], node.hw["weight_bits"]) == ("int", bits)
        sqnr[bits] = report["layers"]["fc"]["sqnr_db"]
    assert 30 < sqnr[8] < 6.02 * 8 + 1.76  # a 4.5-sigma peak and a power-of-two step cost ~2 bits
    assert 21 < sqnr[8] - sqnr[4] < 27


def test_spinnaker_weights_and_parameters_are_on_its_grids(digits):
    graph, ctx = digits
    quantized, report = quantize(graph, ctx, "quantize{format=spinnaker}")
    for name in ("fc1", "fc2"):
        node = quantized.nodes[name]
        for part, shift in ((np.maximum(node.weight, 0), node.hw["shift_exc"]),
                            (np.maximum(-node.weight, 0), node.hw["shift_inh"])):
            stored = part * 2.0 ** (15 - shift)
            assert np.array_equal(stored, np.rint(stored)) and stored.max() <= 0xFFFF
        assert 2.0 ** node.hw["shift_exc"] > np.maximum(graph.nodes[name].weight, 0).sum(1).max()
        assert report["layers"][name]["sqnr_db"] > 55
    lif = quantized.nodes["lif1"]
    for value in (lif.v_threshold, lif.v_leak, quantized.nodes["fc1"].bias):
        assert np.array_equal(value * 2 ** 15, np.rint(value * 2 ** 15))
    decay = 1 - gain(lif.tau, OPTIONS)
    np.testing.assert_allclose(decay * 2 ** 15, np.rint(decay * 2 ** 15), atol=1e-7)


def test_rram_weights_are_conductance_levels(digits):
    graph, ctx = digits
    quantized, report = quantize(graph, ctx, "quantize{format=rram}")
    for name in ("fc1", "fc2"):
        node = quantized.nodes[name]
        levels = node.weight / node.hw["weight_step"]
        np.testing.assert_allclose(levels, np.rint(levels), atol=1e-4)
        assert np.abs(np.rint(levels)).max() == node.hw["levels"] - 1 == 15
        assert np.array_equal(node.bias, graph.nodes[name].bias)  # periphery: stays float
        assert 15 < report["layers"][name]["sqnr_db"] < 30


# -- the graph around it ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["loihi", "spinnaker", "int,bits=8", "rram"])
def test_quantized_graph_round_trips_through_nir(digits, tmp_path, fmt):
    graph, ctx = digits
    quantized, _ = quantize(graph, ctx, f"quantize{{format={fmt}}}")
    write_nir(quantized, tmp_path / "q.nir")
    back = load_model(tmp_path / "q.nir")
    for name, node in quantized.nodes.items():  # same_as compares hw too, arrays by value
        assert back.nodes[name].same_as(node), name
    assert back.nodes["fc1"].hw["format"] == fmt.split(",")[0]


@pytest.mark.parametrize("fmt", ["int,bits=8", "loihi", "spinnaker", "rram"])
@pytest.mark.parametrize("seed", range(8))
def test_random_graphs_quantize_to_verified_graphs(seed, fmt):
    graph = random_graph(seed)
    x = spikes(np.random.default_rng(seed), (30, 2, graph.nodes["input"].shape[0]), 0.3)
    ctx = PassContext(SimOptions(dt=1e-3, integrator=("euler", "exp")[seed % 2]), x)
    quantized, report = quantize(graph, ctx, f"quantize{{format={fmt},calibrate={seed < 2}}}")
    assert isinstance(quantized, Graph) and quantized.edges == graph.edges
    matrices = {k for k, v in graph.nodes.items() if isinstance(v, (n.Affine, n.Linear))}
    assert set(report["layers"]) == matrices
    assert all(quantized.nodes[k].hw["format"] == fmt.split(",")[0] for k in matrices)
    assert 0 <= report["output_agreement"] <= 1
    out = simulate(quantized, x, ctx.options).outputs["output"]
    assert np.all(np.isfinite(out))


def lif(shape):
    return n.LIF(tau=np.full(shape, 1e-2), r=np.ones(shape), v_leak=np.zeros(shape),
                 v_threshold=np.ones(shape))


@pytest.mark.parametrize("fmt", ["int,bits=8", "loihi", "spinnaker", "rram"])
def test_convolutions_quantize_per_channel(fmt):
    rng = np.random.default_rng(0)
    graph = Graph(nodes={
        "input": n.Input(shape=(1, 8, 8)),
        "c1": n.Conv2d(weight=rng.normal(0, 1, (4, 1, 3, 3)), bias=rng.normal(0, .1, 4)),
        "l1": lif((4, 6, 6)),
        "c2": n.Conv2d(weight=rng.normal(0, 1, (3, 4, 6, 6)), bias=rng.normal(0, .1, 3)),
        "l2": lif((3, 1, 1)), "output": n.Output(shape=(3, 1, 1))},
        edges=(("input", "c1"), ("c1", "l1"), ("l1", "c2"), ("c2", "l2"), ("l2", "output")))
    x = spikes(rng, (20, 2, 1, 8, 8), 0.3)
    quantized, report = quantize(graph, PassContext(OPTIONS, x), f"quantize{{format={fmt}}}")
    assert set(report["layers"]) == {"c1", "c2"} and report["output_agreement"] > 0.9
    if fmt == "loihi":
        lava_weights(quantized.nodes["c2"], quantized.nodes["l2"])  # exact, in range, even


# -- options ------------------------------------------------------------------------------------


def test_option_errors_name_what_is_valid():
    with pytest.raises(OptionError, match=r"unknown format 'tpu' \(valid: chip, int, loihi, "
                                          r"spinnaker, rram"):  # and each later family's
        parse("quantize{format=tpu}")
    with pytest.raises(OptionError, match="format=int needs bits"):
        parse("quantize{format=int}")
    with pytest.raises(OptionError, match="needs a chip"):
        run_pipeline(random_graph(0), parse("quantize"), PassContext())
    with pytest.raises(OptionError, match="at most 8 bits"):
        run_pipeline(random_graph(0), parse("quantize{format=loihi,bits=9}"), PassContext())
    with pytest.raises(OptionError, match="does not fit chip 'loihi2'"):
        run_pipeline(random_graph(0), parse("quantize{format=rram,chip=loihi2}"), PassContext())


def test_format_chip_follows_the_target_chip():
    graph = random_graph(1)
    for chip, fmt in (("loihi2", "loihi"), ("spinnaker1", "spinnaker"), ("rram", "rram")):
        _, report = quantize(graph, PassContext(chip=load_chip(chip)), "quantize")
        assert (report["format"], report["chip"]) == (fmt, chip)
    _, report = quantize(graph, PassContext(chip=load_chip("rram")), "quantize{format=loihi}")
    assert report["chip"] == "loihi1"  # the target's chip is of another kind: the default


def test_a_pipeline_for_a_target_takes_the_targets_chip():
    """issue 14: `snnc compile -t loihi2 -p "prune{sparsity=0.5},quantize{bits=8}"` failed with
    "quantize{format=chip} needs a chip"; inside a target's pipeline the chip is the target's."""
    from snnc.backends.loihi.targets import LOIHI2

    digits = load_model(Path(__file__).parents[2] / "examples" / "digits" / "digits.nir")
    graph, records = LOIHI2.compile(digits, SimOptions(dt=1e-3),
                                    "prune{sparsity=0.5},quantize{bits=8},check,map-delays")
    quantize = next(r for r in records if r.applied.name == "quantize")
    assert quantize.report["chip"] == "loihi2" and quantize.report["weight_bits"] == 8
    assert next(r for r in records if r.applied.name == "check").report["chip"] == "loihi2"
