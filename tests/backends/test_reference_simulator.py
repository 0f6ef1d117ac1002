"""The reference simulator against independent definitions: the NIR paper's LIF trace, torch's
convolutions and pools, closed-form neuron solutions, and its own two schedules."""
import dataclasses

import numpy as np
import pytest

from snnc.backends.reference import blocks, simulate
from snnc.errors import InputError
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.ir import Graph
from snnc.options import SimOptions
from tests.conftest import spikes


def chain(in_shape, *nodes, out_shape=None):
    names = ["in"] + [f"n{i}" for i in range(len(nodes))]
    graph = Graph(nodes={"in": n.Input(shape=in_shape), **dict(zip(names[1:], nodes))},
                  edges=tuple(zip(names, names[1:])))
    out = n.Output(shape=graph.shapes[names[-1]])
    return Graph(nodes={**graph.nodes, "out": out}, edges=(*graph.edges, (names[-1], "out")))


def test_paper_lif_reproduces_norse_trace(data_dir):
    """lif_norse.nir at dt = 1e-4: spikes at 460/510/710/760, Norse's voltage to 1e-6."""
    graph = load_model(data_dir / "lif_norse.nir")
    trace = np.loadtxt(data_dir / "lif_norse.csv", delimiter=",")
    rec = simulate(graph, trace[:, :1, None], SimOptions(dt=1e-4), record=["1"])
    assert np.flatnonzero(rec.outputs["output"][:, 0, 0]).tolist() == [460, 510, 710, 760]
    assert np.flatnonzero(trace[:, 2]).tolist() == [460, 510, 710, 760]
    np.testing.assert_allclose(rec.states["1.v"][:, 0, 0], trace[:, 1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["braille_noDelay_bias_zero", "braille_noDelay_noBias_subtract"])
def test_braille_flat_and_nested_files_agree(data_dir, name):
    flat = load_model(data_dir / f"{name}.nir")
    nested = load_model(data_dir / f"{name}_subgraph.nir")
    x = spikes(np.random.default_rng(3), (256, 4, 12), 0.3)
    a, b = simulate(flat, x).outputs["output"], simulate(nested, x).outputs["output"]
    assert a.shape == (256, 4, 7) and a.sum() > 0
    np.testing.assert_array_equal(a, b)


def test_braille_recurrence_matters(data_dir):
    """Dropping the recurrent edge changes the hidden layer: recurrence is really simulated."""
    graph = load_model(data_dir / "braille_noDelay_bias_zero.nir")
    cut = Graph(nodes=graph.nodes, edges=tuple(e for e in graph.edges if e[0] != "lif1.w_rec"))
    x = spikes(np.random.default_rng(4), (100, 2, 12), 0.3)
    assert [["lif1.lif", "lif1.w_rec"]] == [b for b in blocks(graph) if len(b) > 1]
    assert not np.array_equal(simulate(graph, x).outputs["output"],
                              simulate(cut, x).outputs["output"])


def test_paper_cnn_runs(data_dir):
    graph = load_model(data_dir / "cnn_sinabs.nir")
    rec = simulate(graph, spikes(np.random.default_rng(5), (30, 2, 2, 34, 34), 0.1))
    assert rec.outputs["output"].shape == (30, 2, 10)
    assert set(rec.spike_counts) == {"1", "3", "6", "10", "12"} and rec.spike_counts["1"] > 0


TORCH_CASES = [
    n.Conv2d(weight=np.ones((4, 2, 3, 3)), bias=np.arange(4.0), stride=(2, 1), padding=(1, 2),
             dilation=(1, 2)),
    n.Conv2d(weight=np.ones((4, 1, 2, 3)), bias=np.zeros(4), groups=2, padding="same"),
    n.Conv1d(weight=np.ones((3, 2, 4)), bias=np.ones(3), stride=2, padding=1, dilation=2),
    n.SumPool2d(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1)),
    n.AvgPool2d(kernel_size=2, stride=2, padding=1),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("index", range(len(TORCH_CASES)))
def test_stateless_maps_match_torch(index):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(index)
    node = TORCH_CASES[index]
    if isinstance(node, n._Conv):
        node = dataclasses.replace(node, weight=rng.normal(size=node.weight.shape))
    in_shape = (2, 11) if isinstance(node, n.Conv1d) else (2, 9, 10)
    x = rng.normal(size=(3, 4, *in_shape))
    got = simulate(chain(in_shape, node), x, SimOptions(dtype="float64")).outputs["out"]
    t = torch.from_numpy(x.reshape(12, *in_shape))
    if isinstance(node, n._Conv):
        conv = F.conv1d if isinstance(node, n.Conv1d) else F.conv2d
        padding = node.padding if isinstance(node.padding, str) else node.padding
        want = conv(t, torch.tensor(node.weight), torch.tensor(node.bias), node.stride,
                    padding, node.dilation, node.groups)
    else:
        want = F.avg_pool2d(t, node.kernel_size, node.stride, node.padding)
        if isinstance(node, n.SumPool2d):
            want = want * np.prod(node.kernel_size)
    np.testing.assert_allclose(got.reshape(want.shape), want.numpy(), rtol=1e-12, atol=1e-12)


def one_neuron(node):
    return chain((1,), node)


def test_li_exp_integrator_is_the_closed_form():
    tau, r, x, dt = 0.02, 2.0, 0.7, 1e-3
    graph = one_neuron(n.LI(tau=[tau], r=[r], v_leak=[0.1]))
    rec = simulate(graph, np.full((50, 1, 1), x), SimOptions(dt=dt, integrator="exp",
                                                             dtype="float64"))
    t = dt * np.arange(1, 51)
    exact = 0.1 + r * x * (1 - np.exp(-t / tau))
    np.testing.assert_allclose(rec.outputs["out"][:, 0, 0], exact, rtol=1e-12)


def test_li_euler_is_the_forward_euler_recursion():
    tau, dt = 0.01, 1e-3
    graph = one_neuron(n.LI(tau=[tau], r=[1.0], v_leak=[0.0]))
    x = np.random.default_rng(0).normal(size=(40, 1, 1))
    rec = simulate(graph, x, SimOptions(dt=dt, dtype="float64"))
    v, expected = 0.0, []
    for value in x[:, 0, 0]:
        v = v + dt / tau * (value - v)
        expected.append(v)
    np.testing.assert_allclose(rec.outputs["out"][:, 0, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("reset, expected_v, spike_steps", [
    ("to_v_reset", [-0.1, 0.3, 0.7, -0.5, -0.1, 0.3, 0.7], [3]),
    ("zero", [-0.1, 0.3, 0.7, 0.0, 0.4, 0.8, 0.0], [3, 6]),
    ("subtract", [-0.1, 0.3, 0.7, 0.1, 0.5, 0.9, 0.3], [3, 6]),
    ("subtract_next", [-0.1, 0.3, 0.7, 1.1, 0.5, 0.9, 1.3], [3, 6]),
    ("zero_next", [-0.1, 0.3, 0.7, 1.1, 0.0, 0.4, 0.8], [3]),
    ("none", [-0.1, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3], [3, 4, 5, 6]),
])
def test_reset_modes(reset, expected_v, spike_steps):
    """IF starts at v_reset (as Norse's IAFCell) and integrates 0.4 per step."""
    graph = one_neuron(n.IF(r=[1.0], v_threshold=[1.0], v_reset=[-0.5]))
    rec = simulate(graph, np.full((7, 1, 1), 0.4), SimOptions(reset=reset, dtype="float64"),
                   record=["n0"])
    np.testing.assert_allclose(rec.states["n0.v"][:, 0, 0], expected_v, atol=1e-12)
    assert np.flatnonzero(rec.outputs["out"][:, 0, 0]).tolist() == spike_steps


def test_node_reset_overrides_the_option():
    graph = one_neuron(n.IF(r=[1.0], v_threshold=[1.0], v_reset=[-0.5], reset="zero_next"))
    rec = simulate(graph, np.full((7, 1, 1), 0.4), SimOptions(reset="subtract"))
    assert np.flatnonzero(rec.outputs["out"][:, 0, 0]).tolist() == [3]


def test_delay_shifts_each_element():
    graph = chain((3,), n.Delay(delay=np.array([0.0, 2e-3, 5e-3])))
    x = np.random.default_rng(0).normal(size=(12, 2, 3))
    y = simulate(graph, x, SimOptions(dt=1e-3, dtype="float64")).outputs["out"]
    for column, shift in enumerate([0, 2, 5]):
        np.testing.assert_array_equal(y[shift:, :, column], x[:len(x) - shift, :, column])
        assert not y[:shift, :, column].any()


def test_step_schedule_equals_sequence_schedule():
    """A zero-weight recurrent edge forces a layer into step-by-step mode: same results."""
    rng = np.random.default_rng(0)
    nodes = {
        "in": n.Input(shape=(5,)),
        "fc": n.Affine(weight=rng.normal(size=(6, 5)) * 3, bias=np.zeros(6)),
        "lif": n.LIF(tau=np.full(6, 5e-3), r=np.ones(6), v_leak=np.zeros(6),
                     v_threshold=np.full(6, 0.2)),
        "li": n.CubaLI(tau_syn=np.full(6, 2e-3), tau_mem=np.full(6, 4e-3), r=np.ones(6),
                       v_leak=np.zeros(6)),
        "out": n.Output(shape=(6,)),
    }
    edges = (("in", "fc"), ("fc", "lif"), ("lif", "li"), ("li", "out"))
    feedforward = Graph(nodes=nodes, edges=edges)
    looped = Graph(nodes={**nodes, "zero": n.Linear(weight=np.zeros((5, 6)))},
                   edges=(*edges, ("li", "zero"), ("zero", "fc")))
    assert [len(b) for b in blocks(feedforward)] == [1] * 5
    assert [b for b in blocks(looped) if len(b) > 1] == [["fc", "lif", "li", "zero"]]
    x = spikes(np.random.default_rng(1), (80, 3, 5), 0.3)
    a, b = simulate(feedforward, x).outputs["out"], simulate(looped, x).outputs["out"]
    assert np.abs(a).sum() > 0
    np.testing.assert_array_equal(a, b)


def test_float32_and_float64_agree_on_spikes(data_dir):
    graph = load_model(data_dir / "braille_noDelay_noBias_subtract.nir")
    x = spikes(np.random.default_rng(2), (200, 4, 12), 0.3)
    a = simulate(graph, x, SimOptions(dtype="float32")).outputs["output"]
    b = simulate(graph, x, SimOptions(dtype="float64")).outputs["output"]
    assert (a != b).mean() < 0.01  # rare threshold ties may flip; most spikes agree


def test_wrong_input_shape_is_reported():
    graph = one_neuron(n.IF(r=[1.0], v_threshold=[1.0]))
    with pytest.raises(InputError, match=r"input 'in' has shape \(5, 1, 2\)"):
        simulate(graph, np.zeros((5, 1, 2)))


def test_per_synapse_delays_in_both_schedules():
    """y_i[t] = sum_j W_ij x_j[t - D_ij]: checked against a direct loop, and the step-by-step
    schedule (forced by a zero-weight loop) against the whole-sequence one."""
    rng = np.random.default_rng(7)
    weight, delay = rng.normal(size=(4, 3)), rng.integers(0, 5, (4, 3)) * 1e-3
    matrix = n.Affine(weight=weight, bias=rng.uniform(0, 1, 4), delay=delay)
    x = rng.random(size=(20, 2, 3))
    options = SimOptions(dt=1e-3, dtype="float64")
    got = simulate(chain((3,), matrix), x, options).outputs["out"]
    expected = np.tile(matrix.bias, (20, 2, 1))
    for t in range(20):
        for i in range(4):
            for j in range(3):
                k = int(round(delay[i, j] / 1e-3))
                if t >= k:
                    expected[t, :, i] += weight[i, j] * x[t - k, :, j]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    lif = n.LIF(tau=np.full(4, 5e-3), r=np.full(4, 5.0), v_leak=np.zeros(4),
                v_threshold=np.full(4, .3))
    nodes = {"in": n.Input(shape=(3,)), "m": matrix, "lif": lif, "out": n.Output(shape=(4,))}
    edges = (("in", "m"), ("m", "lif"), ("lif", "out"))
    looped = Graph(nodes={**nodes, "zero": n.Linear(weight=np.zeros((3, 4)))},
                   edges=(*edges, ("lif", "zero"), ("zero", "m")))
    assert [b for b in blocks(looped) if len(b) > 1] == [["m", "lif", "zero"]]
    a = simulate(Graph(nodes=nodes, edges=edges), x, options).outputs["out"]
    assert a.sum() > 0
    np.testing.assert_array_equal(simulate(looped, x, options).outputs["out"], a)


def test_a_node_connected_to_itself_reads_its_previous_step():
    """An edge from a node to itself is recurrent: it carries the previous step's output (a
    LIF's own spikes added to its input), and the node runs step by step."""
    lif = n.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3),
                v_threshold=np.full(3, 0.035), v_reset=np.zeros(3))
    graph = Graph(nodes={"input": n.Input(shape=(3,)), "fc": n.Linear(weight=2.0 * np.eye(3)),
                         "lif": lif, "output": n.Output(shape=(3,))},
                  edges=(("input", "fc"), ("fc", "lif"), ("lif", "lif"), ("lif", "output")))
    got = simulate(graph, np.ones((8, 1, 3), np.float32), SimOptions(dtype="float64"),
                   record=["lif"])
    expected, v, fired = [], 0.0, 0.0
    for _ in range(8):  # dt/tau = 0.01; the input is 2 plus last step's own spike
        v += 0.01 * (2.0 + fired - v)
        fired = float(v > 0.035)
        v = 0.0 if fired else v
        expected.append(v)
    np.testing.assert_allclose(got.states["lif.v"][:, 0, 0], expected)
    assert got.outputs["output"].sum() > 0
