"""check: a graph against a chip model passes through unchanged with a resource report, or fails
with one error naming the node, the resource, the need and the limit."""
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.errors import OptionError, ResourceExceededError, SnncError, UnsupportedNodeError
from snnc.frontends import load_model
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits" / "digits.nir"
DT = 1e-3
CTX = PassContext(SimOptions(dt=DT))


@pytest.fixture(scope="module")
def digits() -> Graph:
    return load_model(DIGITS)


def check(graph: Graph, spec: str, ctx: PassContext = CTX) -> dict:
    out, records = run_pipeline(graph, parse(spec), ctx)
    if len(records) == 1:
        assert out is graph  # passed through unchanged
    return records[-1].report


def lif(size, **params) -> n.LIF:
    values = {"tau": 1e-2, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0, **params}
    return n.LIF(**{k: np.broadcast_to(v, (size,)) for k, v in values.items()})


def layer(weight: np.ndarray, population: n.Node, delay=None) -> Graph:
    """Input -> Linear(weight) -> population -> Output."""
    out, size = weight.shape
    return Graph(nodes={"in": n.Input(shape=(size,)), "w": n.Linear(weight=weight, delay=delay),
                        "pop": population, "out": n.Output(shape=(out,))},
                 edges=(("in", "w"), ("w", "pop"), ("pop", "out")))


@pytest.mark.parametrize("chip, cores", [("loihi1", 2), ("loihi2", 2), ("spinnaker1", 3)])
def test_digits_fits_with_a_core_estimate(digits, chip, cores):
    report = check(digits, f"check{{chip={chip}}}")
    assert report["chip"] == chip and report["violations"] == []
    assert report["cores"]["needed"] == cores and report["cores"]["chips_needed"] == 1
    assert report["fan_in"]["max"] == 128 and report["fan_in"]["node"] == "lif2"
    assert report["formats"]["quantized"] is False  # reported, not an error
    if chip == "loihi1":  # 8192 synapses x 8 bits fit one core's 1 Mibit of synapse memory
        assert report["cores"]["per_node"]["lif1"] == {"by_neurons": 1, "by_synapse_memory": 1}
        assert report["fan_in"]["limit"] == 4096
    if chip == "spinnaker1":  # its SpikeSourceArray takes a core of its own
        assert set(report["cores"]["per_node"]) == {"input", "lif1", "lif2"}


def test_chip_comes_from_the_context_or_is_required(digits):
    ctx = dataclasses.replace(CTX, chip=load_chip("loihi1"))
    assert check(digits, "check", ctx)["chip"] == "loihi1"
    with pytest.raises(OptionError, match="check needs a chip model.*known: .*loihi1"):
        check(digits, "check")


def test_unknown_chip_lists_the_known_ones():
    with pytest.raises(SnncError, match=r"unknown chip 'loihi9' \(known: loihi1, loihi2, rram"):
        parse("check{chip=loihi9}")


def test_three_million_neurons_exceed_one_chip():
    big = 3_000_000
    graph = Graph(nodes={"in": n.Input(shape=(big,)), "big": lif(big),
                         "out": n.Output(shape=(big,))},
                  edges=(("in", "big"), ("big", "out")))
    with pytest.raises(ResourceExceededError,
                       match=r"graph needs 2930 cores but loihi1 offers 128 \(128 cores per chip "
                             r"x 1 chips\); largest: node 'big' \(LIF\) needs 2930 cores for "
                             r"3000000 neurons at 1024 per core"):
        check(graph, "check{chip=loihi1,chips=1}")
    # the Loihi 1 address space (16,384 chips) holds it: the estimate is reported
    assert check(graph, "check{chip=loihi1}")["cores"]["chips_needed"] == 23


def test_per_neuron_thresholds_fail_where_the_chip_shares_them():
    thresholds = np.repeat(np.linspace(0.5, 1.6, 12), 2)
    graph = layer(np.ones((24, 4)), lif(24, v_threshold=thresholds))
    with pytest.raises(ResourceExceededError,
                       match=r"node 'pop' \(LIF\): thresholds vary per neuron \(12 distinct "
                             r"values\) but loihi1 has one threshold per population "
                             r"\(formats.threshold_scope = population\)"):
        check(graph, "check{chip=loihi1}")
    assert check(graph, "check{chip=spinnaker1}")["violations"] == []  # per-neuron there


def test_convolution_on_a_chip_without_a_convolution_engine():
    conv = n.Conv2d(weight=np.ones((2, 1, 3, 3)), bias=np.zeros(2))
    graph = Graph(nodes={"in": n.Input(shape=(1, 6, 6)), "conv": conv,
                         "pop": n.IF(r=np.ones((2, 4, 4)), v_threshold=np.ones((2, 4, 4))),
                         "out": n.Output(shape=(2, 4, 4))},
                  edges=(("in", "conv"), ("conv", "pop"), ("pop", "out")))
    with pytest.raises(UnsupportedNodeError, match=r"node 'conv': Conv2d is not supported by "
                                                   r"target 'spinnaker1' .*run lower first"):
        check(graph, "check{chip=spinnaker1}")
    # Lava's Conv process needs lava-dl's netx, which the Loihi targets do not emit: lower first
    report = check(graph, "check{chip=loihi1,strict=false}")
    assert [v["check"] for v in report["violations"]] == ["node_types"]
    assert report["fan_in"]["max"] == 9
    assert report["fan_out"]["max"] == 18  # every tap of both kernels, an upper bound


def delay_layer(longest_steps: int) -> Graph:
    rng = np.random.default_rng(0)
    delay = rng.integers(0, longest_steps + 1, (5, 6)) * DT
    delay[0, 0] = longest_steps * DT
    return layer(rng.uniform(0.2, 1.0, (5, 6)), lif(5, tau=2e-3, v_threshold=0.4), delay)


def test_delays_beyond_the_chip_need_map_delays():
    graph = delay_layer(200)
    with pytest.raises(ResourceExceededError,
                       match=r"node 'w' \(Linear\): synaptic delay 200 steps \(dt 0.001 s\) "
                             r"exceeds loihi1's 62 steps .*map-delays\{max_delay=62\}"):
        check(graph, "check{chip=loihi1}")
    report = check(graph, "map-delays{max_delay=62},check{chip=loihi1}")
    assert report["violations"] == [] and report["delays"]["max_steps"] <= 62
    assert "note" in report["delays"]  # over 8 steps: cores must hold fewer compartments


def test_delay_nodes_and_fractional_delays_need_map_delays():
    graph = layer(np.ones((3, 4)), lif(3))
    nodes = {**graph.nodes, "d": n.Delay(delay=np.full(4, 2 * DT))}
    edges = (("in", "d"), ("d", "w"), ("w", "pop"), ("pop", "out"))
    with pytest.raises(UnsupportedNodeError, match="node 'd': Delay .*run map-delays first"):
        check(Graph(nodes=nodes, edges=edges), "check{chip=loihi2}")
    fractional = layer(np.ones((3, 4)), lif(3), delay=np.full((3, 4), 2.5 * DT))
    with pytest.raises(ResourceExceededError, match="not whole steps.*run map-delays"):
        check(fractional, "check{chip=loihi2}")


def test_fan_in_beyond_the_chip_names_node_need_and_limit():
    graph = layer(np.ones((3, 150)), n.IF(r=np.ones(3), v_threshold=np.ones(3)))
    with pytest.raises(ResourceExceededError,
                       match=r"node 'pop' \(IF\): fan-in 150 synapses per neuron via w exceeds "
                             r"sfq's 100 fan-in synapses per neuron"):
        check(graph, "check{chip=sfq}")
    pruned = layer(np.eye(3, 150), n.IF(r=np.ones(3), v_threshold=np.ones(3)))
    assert check(pruned, "check{chip=sfq}")["fan_in"]["max"] == 1  # zeros are no synapses


def test_quantized_widths_are_checked_against_the_chip():
    graph = layer(np.ones((3, 4)), lif(3))
    w = graph.nodes["w"]
    wide = Graph(nodes={**graph.nodes, "w": dataclasses.replace(
        w, hw={"format": "loihi", "weight_bits": 9, "weight_exp": 0})}, edges=graph.edges)
    with pytest.raises(ResourceExceededError,
                       match=r"node 'w' \(Linear\): weight_bits 9 exceeds loihi1's 8 "
                             r"\(formats.weight_bits\)"):
        check(wide, "check{chip=loihi1}")
    with pytest.raises(ResourceExceededError, match="quantized for 'loihi' but spinnaker1"):
        check(wide, "check{chip=spinnaker1}")
    with pytest.raises(ResourceExceededError, match="float weights, but require_quantized"):
        check(graph, "check{chip=loihi1,require_quantized=true}")


def test_non_strict_collects_every_violation(digits):
    graph = delay_layer(200)
    graph = Graph(nodes={**graph.nodes, "pop": lif(5, v_threshold=np.arange(5.0))},
                  edges=graph.edges)
    with pytest.raises(ResourceExceededError, match=r"\(and 1 more: check\{strict=false\}"):
        check(graph, "check{chip=loihi1}")
    report = check(graph, "check{chip=loihi1,strict=false}")
    assert [v["check"] for v in report["violations"]] == ["delays", "shared_parameters"]
    assert report["checks"]["delays"] == "1 violation" and report["checks"]["cores"] == "ok"
    sfq = check(digits, "check{chip=sfq,strict=false}")  # fan-in 128 > 100 (sfq runs LIF now)
    assert sfq["checks"]["fan_in"] == "1 violation"
    assert sfq["checks"]["cores"].startswith("skipped")


def snnc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snnc.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_cli_prints_the_report_or_one_line(tmp_path):
    ok = snnc("compile", str(DIGITS), "-t", "reference", "--dt", "1e-3",
              "-p", "check{chip=loihi1}", "-o", str(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stderr
    assert "pass check\n  chip: loihi1" in ok.stdout and "needed: 2" in ok.stdout
    bad = snnc("compile", str(DIGITS), "-t", "reference", "--dt", "1e-3",
               "-p", "check{chip=sfq}", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2 and not (tmp_path / "bad").exists()
    assert bad.stderr.count("\n") == 1
    assert "node 'lif2' (LIF): fan-in 128 synapses per neuron via fc2 exceeds sfq's 100" \
        in bad.stderr


def test_quantized_integer_values_are_checked_against_the_format_widths():
    """quantize's Loihi integers (dv, vth, bias_mant) must fit the chip's formats."""
    digits = load_model(DIGITS)
    ctx = PassContext(SimOptions(dt=1e-3))
    quantized, _ = run_pipeline(digits, parse("quantize{chip=loihi1},check{chip=loihi1}"), ctx)
    lif = quantized.nodes["lif1"]
    broken = Graph(nodes={**quantized.nodes, "lif1": dataclasses.replace(
        lif, hw={**lif.hw, "vth": 2 ** 17})}, edges=quantized.edges)
    with pytest.raises(ResourceExceededError, match=r"vth 131072..131072 is outside loihi1's "
                                                    r"0..131071 \(17-bit formats.threshold_bits\)"):
        run_pipeline(broken, parse("check{chip=loihi1}"), ctx)
