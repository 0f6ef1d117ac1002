"""SFQ pulse emulation: merger collisions from hand-built timing, on both sides of the window,
in ``collide`` and through a whole engine run."""
import numpy as np
import pytest

from snnc.backends import engine
from snnc.backends.sfq.pulses import PulseGates, collide
from snnc.backends.sfq.cells import cells
from snnc.hw_models import load_chip

W = cells(load_chip("sfq")).window  # the merger window in ticks (2.3 ps / 0.1 ps = 23)


def lost(times, leaves=(0, 1), depth=1):
    times = np.asarray(times, np.int64)
    n = len(times)
    return collide(np.zeros(n, np.int64), np.asarray(leaves[:n], np.int64), times,
                   np.full(n, depth), W)


def test_window_is_whole_ticks():
    assert W == 23


@pytest.mark.parametrize("offset, collides", [(0, True), (W - 1, True), (W, False),
                                              (W + 5, False)])
def test_two_pulses_collide_only_within_the_window(offset, collides):
    assert lost([100, 100 + offset]).tolist() == [False, collides]
    if offset:  # the later one is lost (at equal ticks: the one on the higher leaf)
        assert lost([100 + offset, 100]).tolist() == [collides, False]


def test_a_merger_is_dead_after_passing_not_after_losing():
    # 0 passes, W-1 is lost, W is W after the last passed pulse: passes; 2W-1 is lost.
    got = collide(np.zeros(4, np.int64), np.array([0, 1, 0, 1]),
                  np.array([0, W - 1, W, 2 * W - 1]), np.ones(4, np.int64), W)
    assert got.tolist() == [False, True, False, True]


def test_pulses_meet_at_their_lowest_common_merger():
    # leaves 0 and 2 of a 4-leaf tree meet only at the root (level 1): still collide
    got = collide(np.zeros(2, np.int64), np.array([0, 2]), np.array([5, 5 + W - 1]),
                  np.full(2, 2), W)
    assert got.tolist() == [False, True]
    # different trees never collide
    got = collide(np.array([0, 1]), np.array([0, 1]), np.array([5, 5]), np.ones(2), W)
    assert not got.any()


def run_two_inputs(offset: int, serialize: bool = False):
    """Two inputs spiking at step 0 into one neuron, one pulse each, reaching the merger
    ``offset`` ticks apart."""
    syn = engine.Synapses.from_dense(np.array([[1, 1]]))
    gates = PulseGates(leaf=np.array([0, 1]), tree_depth=np.array([1, 1]),
                       depth_of_tree=np.array([[1]]), arrival=np.array([50, 50 + offset]), probability=None,
                       pulses_per_spike=1, worth=1, scale=1, serialize=serialize, window=W,
                       spacing=W)
    from snnc.backends.sfq.neurons import SfqNeuron
    from snnc.ir import nodes as n
    from snnc.options import SimOptions
    cell = SfqNeuron(n.I(r=np.ones(1)), SimOptions(), 1.0, np.zeros(1))
    net = engine.Network((engine.Population("in", 2), engine.Population("out", 1, cell)),
                         (engine.Connection("c", "in", "out", syn, 0, gates, port="exc"),),
                         dtype=np.float64)
    trace = engine.run(net, {"in": np.ones((1, 1, 2), bool)}, 1, probe=["out.v"])
    return trace.states["out.v"][0, 0, 0], trace.counters.totals()


@pytest.mark.parametrize("offset, delivered", [(W - 1, 1), (W, 2), (0, 1)])
def test_engine_run_loses_a_pulse_only_within_the_window(offset, delivered):
    v, totals = run_two_inputs(offset)
    assert v == delivered
    assert totals["collisions"] == 2 - delivered and totals["pulses"] == delivered
    assert totals["merger_passes"] == 2  # both pulses charged the tree's one level
    assert totals["pulse_level"] == 1 and totals["fast_path"] == 0


def test_serialised_gates_never_collide_and_take_the_fast_path():
    v, totals = run_two_inputs(0, serialize=True)
    assert v == 2 and totals["collisions"] == 0
    assert totals["fast_path"] == 1 and totals["pulse_level"] == 0 and totals["serialized"] == 1
