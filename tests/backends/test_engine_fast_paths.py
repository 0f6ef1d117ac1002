"""The engine's fast paths equal the exact ones.

- The LIF's fused scan (u and v stacked, no wrap or clip code) runs only where
  ``FastRunner._no_wrap_no_clip`` proves Lava's wraps and clip are identities. Its bound is
  checked against worst-case inputs simulated in plain integers, and whole runs that take the
  fused path in some windows and not in others must equal the int64 replay of Lava
  (``arithmetic="exact"``) on random parameters near the limits.
"""
import sys

import numpy as np
import pytest

from snnc.backends.engine import run
from snnc.backends.loihi import LifFormat, Lif, LoihiLif, LoihiNetwork, Synapse, to_engine
from snnc.backends.loihi.lif_runners import FastRunner
from snnc.hw_models import load_chip

FMT = LifFormat.from_chip(load_chip("loihi2"))
M = 2 ** (FMT.state_bits - 1)


def _decay(x: np.ndarray, keep: int) -> np.ndarray:
    product = x * keep
    return np.sign(product) * (np.abs(product) >> FMT.decay_bits)


def _extremes(model: LoihiLif, a_in: np.ndarray) -> tuple[int, int]:
    """max |u| and min v over a run without any wrap or clip (int64, exact)."""
    keep_u = 2 ** FMT.decay_bits - (model.du + FMT.current_decay_offset)
    keep_v = 2 ** FMT.decay_bits - model.dv
    u, v = model.u.copy(), model.v.copy()
    u_max, v_min = 0, 0
    for a in a_in:
        u = _decay(u, keep_u) + (a << FMT.input_shift)
        v = _decay(v, keep_v) + u + model.effective_bias
        u_max, v_min = max(u_max, int(np.abs(u).max())), min(v_min, int(v.min()))
        v[v > model.vth << FMT.threshold_shift] = 0
    return u_max, v_min


def _random_lif(rng: np.random.Generator, n: int, mild: bool = False) -> LoihiLif:
    """Random parameters, often at the edges (large biases and initial states); ``mild``:
    zero initial state and small biases, where the fused scan usually applies."""
    scale = 0 if mild else 1
    return LoihiLif.create(
        "a", n, FMT, du=int(rng.choice([0, 1, 30, 1024, 4094, 4095])),
        dv=int(rng.choice([0, 1, 9, 512, 4095])), vth=int(rng.integers(2 ** 16, 2 ** 17 - 1)),
        bias_mant=rng.integers(-4096, 4096, n) * (rng.random() < 0.5),
        bias_exp=rng.integers(0, 8, n) * scale,
        u=rng.integers(-M // 2, M // 2, n) * (rng.random() < 0.5) * scale,
        v=rng.integers(-M // 2, M // 4, n) * (rng.random() < 0.5) * scale)


def test_no_wrap_no_clip_bound_holds_for_worst_case_inputs():
    """Where the bound says yes, constant +-a_max inputs (the largest drift either way) never
    take u out of (-M, M) nor v below -(M - 1); the bound says yes and no often enough."""
    rng = np.random.default_rng(20)
    answers, tight = [], 0
    for _ in range(400):
        model, steps = _random_lif(rng, 4), int(rng.integers(1, 300))
        a_max = int(2 ** rng.uniform(0, 17))
        runner = FastRunner(model, 1, a_max)
        safe = runner._no_wrap_no_clip(a_max, steps)
        answers.append(safe)
        worst = [_extremes(model, np.full((steps, 4), sign * a_max)) for sign in (1, -1)]
        u_max, v_min = max(w[0] for w in worst), min(w[1] for w in worst)
        if safe:
            assert u_max < M and v_min >= -(M - 1), (model, a_max, steps)
        tight += not safe and (u_max >= M or v_min < -(M - 1))
    assert 50 < sum(answers) < 350
    assert tight > 100  # the bound is not vacuous: many refusals would really wrap or clip


def _count_scans(monkeypatch) -> dict:
    """Count FastRunner scans and how many of them took the fused path."""
    counts = {"scan": 0, "_fused_scan": 0}

    def counting(name):
        original = getattr(FastRunner, name)

        def wrapper(self, a_in, probe):
            counts[name] += 1
            return original(self, a_in, probe)
        return wrapper

    for name in counts:
        monkeypatch.setattr(FastRunner, name, counting(name))
    return counts


@pytest.mark.parametrize("chunk", [None, 120])
def test_fused_scan_equals_exact_replay(chunk, monkeypatch):
    """Random LIFs near the limits fed through a weight exponent up to 7: some windows take the
    fused scan, others the wrapping path; spikes, u and v equal Lava's int64 replay. With
    ``chunk`` the layer windows are 10 steps, so fused and unfused windows alternate."""
    if chunk is not None:
        monkeypatch.setattr(sys.modules["snnc.backends.engine.run"], "CHUNK", chunk)
    counts = _count_scans(monkeypatch)
    rng = np.random.default_rng(21)
    for case in range(40):
        n = 12
        m = _random_lif(rng, n, mild=case % 2 == 0)
        lif = Lif(n, du=m.du, dv=m.dv, vth=int(rng.integers(0, 2 ** 17 - 2)),
                  bias_mant=m.bias_mant, bias_exp=m.bias_exp, u=m.u, v=m.v)
        syn = Synapse(rng.integers(-255, 256, (n, 16)), weight_exp=int(rng.integers(-3, 4)))
        net = LoihiNetwork({"in": 16}, {"a": lif}, (("in", "a", syn),))
        x = {"in": rng.random((60, 1 + case % 3, 16)) < rng.uniform(0.0, 0.9, (60, 1, 1))}
        probe = ["a.u", "a.v"] if case % 4 < 2 else []
        want = run(to_engine(net, arithmetic="exact"), x, probe=["a.u", "a.v"])
        got = run(to_engine(net), x, probe=probe)
        np.testing.assert_array_equal(got.spikes["a"], want.spikes["a"])
        for item in probe:
            np.testing.assert_array_equal(got.states[item], want.states[item])
    assert 0.2 < counts["_fused_scan"] / counts["scan"] < 0.8  # both paths were taken
