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
