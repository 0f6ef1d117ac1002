"""The engine beyond Loihi: open-ended counters, several input ports, stateful seeded
synapse models, float process models. Each is tested with a small model written here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from snnc.backends.engine import Connection, Counters, Network, Population, Synapses, run


class SaturatingIfRunner:
    """v += input, clipped to +-cap (counted as ``saturations``); spike when v >= threshold,
    then v = 0. ``scan`` is ``step`` in a loop (the protocol needs no more)."""

    def __init__(self, model: "SaturatingIf", size: int, batch: int):
        self.model, self.v = model, np.zeros((batch, size), np.int64)
        self.saturations: list[int] = []

    def step(self, a_in):
        raw = self.v + a_in
        self.v = np.clip(raw, -self.model.cap, self.model.cap)
        self.saturations.append(int((raw != self.v).sum()))
        fired = self.v >= self.model.threshold
        self.v[fired] = 0
        return fired

    def scan(self, a_in, probe):
        fired, trace = np.empty(a_in.shape, bool), {var: [] for var in probe}
        for t in range(len(a_in)):
            fired[t] = self.step(a_in[t])
            for var in probe:
                trace[var].append(self.state(var))
        return fired, {var: np.stack(values) for var, values in trace.items()}

    def state(self, var):
        return self.v.copy()

    def counts(self):
        return {"saturations": np.array(self.saturations, np.int64)}


@dataclass(frozen=True)
class SaturatingIf:
    threshold: int
    cap: int
    state_vars = ("v",)

    def start(self, size, batch, input_bound):
        return SaturatingIfRunner(self, size, batch)


def chain(model, weight: int, latency: int = 1) -> Network:
    return Network((Population("in", 2), Population("a", 2, model)),
                   (Connection("in->a", "in", "a", Synapses.from_dense(np.eye(2, dtype=int)
                                                                       * weight), latency),))


def test_counters_hold_any_kind_and_keep_the_three_attributes():
    c = Counters({"a": np.array([1, 2])}, neuron_updates={"a": np.array([4, 4])},
                 collisions={"x": np.array([0, 1])})
    assert c.kinds == ("spikes", "synaptic_events", "neuron_updates", "collisions")
    assert c.spikes["a"].tolist() == [1, 2] and c.synaptic_events == {}
    assert c.totals() == {"spikes": 3, "synaptic_events": 0, "neuron_updates": 8,
                          "collisions": 1}
    both = Counters.summed([c, c])
    assert both.counts["collisions"]["x"].tolist() == [0, 2] and both.totals()["spikes"] == 6
    with pytest.raises(ValueError, match="'collisions' of 'x' is already recorded"):
        c.add("collisions", "x", np.zeros(2))


@pytest.mark.parametrize("schedule", ["auto", "step"])
def test_a_process_model_adds_its_own_counter(schedule):
    """Input 5 per spike into a cap of 7: the second spike in a row saturates."""
    spikes = np.array([[1, 0], [1, 0], [0, 1], [1, 1]])
    trace = run(chain(SaturatingIf(threshold=100, cap=7), weight=5), {"in": spikes},
                schedule=schedule)
    # latency 1: neuron 0 gets 5 at steps 1 and 2 (10 > 7 saturates at 2), neuron 1 at 3
    assert trace.counters.counts["saturations"]["a"].tolist() == [0, 0, 1, 0]
    assert trace.counters.totals()["saturations"] == 1


def test_latency_comes_from_the_chip_model_not_the_engine():
    """The engine holds no chip's latency; the Loihi lowering reads the chip model's."""
    import dataclasses

    from snnc.backends.loihi import Lif, LoihiNetwork, Synapse, to_engine
    from snnc.hw_models import load_chip

    with pytest.raises(TypeError):
        Connection("a->b", "a", "b", Synapses.from_dense(np.eye(1, dtype=int)))
    chip = load_chip("loihi2")
    slower = dataclasses.replace(chip, delays=dataclasses.replace(chip.delays,
                                                                  added_latency_steps=3))
    net = LoihiNetwork({"in": 1}, {"a": Lif(1, du=4095, dv=4095, vth=0)},
                      (("in", "a", Synapse(np.full((1, 1), 2))),))
    spikes = np.eye(6, 1, dtype=bool)  # one spike at step 0
    fired = {latency: np.flatnonzero(run(to_engine(net, c), {"in": spikes}).spikes["a"])
             for latency, c in ((1, chip), (3, slower))}
    assert [c.latency for c in to_engine(net, slower).connections] == [3]
    assert fired[3].tolist() == (fired[1] + 2).tolist() and len(fired[1]) == 1


# -- several input ports ------------------------------------------------------------------------


class TwoPortRunner:
    """v += exc - 2 * inh; spike when v >= 3, then v = 0."""

    def __init__(self, size, batch):
        self.v = np.zeros((batch, size), np.int64)

    def step(self, a_in):
        assert a_in.shape[0] == 2  # (ports, batch, size)
        self.v += a_in[0] - 2 * a_in[1]
        fired = self.v >= 3
        self.v[fired] = 0
        return fired

    def scan(self, a_in, probe):
        assert a_in.ndim == 4 and a_in.shape[1] == 2  # (steps, ports, batch, size)
        fired = np.stack([self.step(x) for x in a_in])
        return fired, {}

    def state(self, var):
        return self.v.copy()


@dataclass(frozen=True)
class TwoPort:
    ports = ("exc", "inh")
    state_vars = ("v",)

    def start(self, size, batch, input_bound):
        return TwoPortRunner(size, batch)


def two_port_network(ports=("exc", "inh")) -> Network:
    ones = Synapses.from_dense(np.ones((1, 1), int))
    return Network((Population("e", 1), Population("i", 1), Population("a", 1, TwoPort())),
                   (Connection("e->a", "e", "a", ones, 1, port=ports[0]),
                    Connection("i->a", "i", "a", ones, 1, port=ports[1])))


@pytest.mark.parametrize("schedule", ["auto", "step"])
def test_a_model_with_two_ports_gets_them_apart(schedule):
    e = np.array([1, 1, 1, 1, 1, 1, 0, 0])[:, None]
    i = np.array([0, 0, 0, 1, 0, 0, 0, 0])[:, None]
    trace = run(two_port_network(), {"e": e, "i": i}, schedule=schedule)
    # v at steps 1..6: 1, 2, 3 (fires, v = 0), 0 + 1 - 2 = -1, 0, 1
    assert np.flatnonzero(trace.spikes["a"][:, 0, 0]).tolist() == [3]
    swapped = run(two_port_network(("inh", "exc")), {"e": e, "i": i}, schedule=schedule)
    assert not swapped.spikes["a"].any()


def test_ports_must_be_named_and_exist():
    from snnc.errors import GraphError

    with pytest.raises(GraphError, match=r"'a' has ports \['exc', 'inh'\]; name one"):
        two_port_network((None, "inh"))
    with pytest.raises(GraphError, match="no port 'gaba'"):
        two_port_network(("exc", "gaba"))
    with pytest.raises(GraphError, match="no port 'exc' \\(ports: one, unnamed\\)"):
        Network((Population("in", 2), Population("a", 2, SaturatingIf(1, 9))),
                (Connection("c", "in", "a", Synapses.from_dense(np.eye(2, dtype=int)), 1,
                            port="exc"),))


# -- a stateful synapse model with a seeded random source ---------------------------------------


class PassGateRunner:
    """Each spike through each synapse passes with probability p (one uniform draw per
    synaptic event, in time order); counts the pulses it blocks per step."""

    def __init__(self, p, synapses, steps, rng):
        self.p, self.rng, self.synapses = p, rng, synapses
        self.blocked = np.zeros(steps, np.int64)

    def deliver(self, partial, sent, first_step):
        rows, batch, n_in = sent.shape
        indptr, target, weight, slot = self.synapses.fanout_lists()
        row, source = np.nonzero(sent.reshape(-1, n_in))  # (step, batch) major: time order
        counts = np.diff(indptr)[source]
        starts = np.repeat(indptr[source] - (np.cumsum(counts) - counts), counts)
        pos = np.arange(counts.sum()) + starts
        passed = self.rng.random(len(pos)) < self.p
        event_row = np.repeat(row, counts)
        flat = (event_row * len(self.synapses.delays) + slot[pos]) * self.synapses.n_out \
            + target[pos]
        out = np.bincount(flat[passed], weight[pos][passed], partial.size)
        self.blocked[first_step:first_step + rows] += np.bincount(
            event_row[~passed] // batch, minlength=rows)
        return out.reshape(partial.shape).astype(partial.dtype)

    def counts(self):
        return {"blocked_pulses": self.blocked}


@dataclass(frozen=True)
class PassGate:
    p: float

    def bound(self, magnitude, slots):
        return magnitude

    def start(self, synapses, steps, batch, rng):
        return PassGateRunner(self.p, synapses, steps, rng)


def gated(p: float, size: int = 50) -> Network:
    relay = SaturatingIf(threshold=1, cap=1 << 20)  # fires on every pulse that passes
    return Network((Population("in", size), Population("out", size, relay)),
                   (Connection("in->out", "in", "out",
                               Synapses.from_dense(np.eye(size, dtype=int)), 1,
                               model=PassGate(p)),))


@pytest.mark.parametrize("schedule", ["auto", "step"])
def test_a_stochastic_pass_gate_is_reproducible_and_passes_p(schedule):
    steps, spikes = 400, np.ones((400, 2, 50), bool)
    runs = {seed: run(gated(0.3), {"in": spikes}, schedule=schedule, seed=seed)
            for seed in (1, 2)}
    again = run(gated(0.3), {"in": spikes}, schedule=schedule, seed=1)
    np.testing.assert_array_equal(runs[1].spikes["out"], again.spikes["out"])
    assert (runs[1].spikes["out"] != runs[2].spikes["out"]).any()
    passed = runs[1].spikes["out"].sum()
    sent = 2 * 50 * (steps - 1)  # the last step's sends arrive after the run
    assert abs(passed / sent - 0.3) < 4 * np.sqrt(0.3 * 0.7 / sent)
    blocked = runs[1].counters.counts["blocked_pulses"]["in->out"]
    assert blocked.shape == (steps,) and blocked[:-1].sum() + passed == sent
    assert 0 < blocked[-1] < 100  # the last step's sends go through the gate too


def test_the_gate_draws_the_same_under_both_schedules_and_any_chunk(monkeypatch):
    import sys

    spikes = np.random.default_rng(0).random((300, 3, 50)) < 0.2
    want = run(gated(0.5), {"in": spikes}, schedule="step", seed=7)
    monkeypatch.setattr(sys.modules["snnc.backends.engine.run"], "CHUNK", 1000)
    got = run(gated(0.5), {"in": spikes}, schedule="auto", seed=7)
    np.testing.assert_array_equal(got.spikes["out"], want.spikes["out"])
    assert got.counters == want.counters


# -- a float process model ----------------------------------------------------------------------


class FloatLifRunner:
    def __init__(self, model, size, batch):
        self.m, self.v = model, np.zeros((batch, size))

    def step(self, a_in):
        assert a_in.dtype == np.float64
        self.v = self.v * self.m.keep + a_in
        fired = self.v > self.m.threshold
        self.v[fired] = 0.0
        return fired

    def scan(self, a_in, probe):
        fired, trace = np.empty(a_in.shape, bool), {var: np.empty(a_in.shape) for var in probe}
        for t in range(len(a_in)):
            fired[t] = self.step(a_in[t])
            for var in probe:
                trace[var][t] = self.v
        return fired, trace

    def state(self, var):
        return self.v.copy()


@dataclass(frozen=True)
class FloatLif:
    """v <- keep * v + input; spike if v > threshold, then v = 0 (keep = 1 - dt / tau)."""

    keep: float = 0.9
    threshold: float = 1.0
    state_vars = ("v",)

    def start(self, size, batch, input_bound):
        return FloatLifRunner(self, size, batch)


def float_network(rng) -> tuple[Network, np.ndarray, np.ndarray, np.ndarray]:
    w = rng.normal(0.4, 0.5, (6, 8)) * (rng.random((6, 8)) < 0.6)
    delays = rng.integers(0, 3, (6, 8))
    r = rng.normal(0.0, 0.3, (6, 6)) * (rng.random((6, 6)) < 0.3)
    net = Network((Population("in", 8), Population("lif", 6, FloatLif())),
                  (Connection("in->lif", "in", "lif",
                              Synapses.from_dense(w, delays, dtype=np.float64), 1),
                   Connection("lif->lif", "lif", "lif",
                              Synapses.from_dense(r, dtype=np.float64), 1)),
                  dtype=np.float64)
    return net, w, delays, r


def float_loop(w, delays, r, spikes, model=FloatLif()):
    """The same network as a direct numpy loop over steps (batch 1)."""
    steps = len(spikes)
    v, fired, volts = np.zeros(len(w)), np.zeros((steps, len(w)), bool), np.zeros((steps, len(w)))
    for t in range(steps):
        a_in = np.zeros(len(w))
        for d in range(3):
            if t - 1 - d >= 0:
                a_in += np.where(delays == d, w, 0) @ spikes[t - 1 - d]
        if t >= 1:
            a_in += r @ fired[t - 1]
        v = v * model.keep + a_in
        fired[t] = v > model.threshold
        v[fired[t]] = 0.0
        volts[t] = v
    return fired, volts


@pytest.mark.parametrize("schedule", ["auto", "step"])
@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_a_float_lif_equals_a_direct_numpy_loop(schedule, kernel):
    rng = np.random.default_rng(3)
    net, w, delays, r = float_network(rng)
    spikes = rng.random((120, 8)) < 0.3
    trace = run(net, {"in": spikes}, probe=["lif.v"], schedule=schedule, kernel=kernel)
    fired, volts = float_loop(w, delays, r, spikes)
    assert fired.sum() > 50
    np.testing.assert_array_equal(trace.spikes["lif"][:, 0], fired)
    np.testing.assert_allclose(trace.states["lif.v"][:, 0], volts, rtol=1e-12, atol=1e-12)
    assert trace.states["lif.v"].dtype == np.float64


def test_float_weights_stay_out_of_integer_networks_and_integers_stay_exact():
    from snnc.errors import GraphError

    floats = Synapses.from_dense(np.full((1, 1), 0.5), dtype=np.float64)
    assert floats.max_abs_row_sum == 0.5 and floats.to_dense().dtype == np.float64
    with pytest.raises(GraphError, match="float weights in an integer network"):
        Network((Population("in", 1), Population("a", 1, SaturatingIf(1, 9))),
                (Connection("c", "in", "a", floats, 1),))
    ints = Synapses.from_dense(np.full((1, 1), 3))
    assert ints.dtype == np.int64 and isinstance(ints.max_abs_row_sum, int)
    assert ints.deliver(np.ones((1, 1), bool)).dtype == np.int64
