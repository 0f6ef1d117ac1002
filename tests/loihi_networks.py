"""Random Lava process networks (``LoihiNetwork``) with their input spikes, shared by the
tests that compare the engine with Lava and the emitted Lava script with the engine.

``CASES``: name -> ``builder(rng) -> (net, {input: spikes (steps, size)})``: dense, sparse,
recurrent, delayed, forced sign modes, weight exponents, overflows, initial states. ``build``
draws a case with its fixed seed; "nir_paper" is the NIR paper's LIF on its stored input.
"""
import numpy as np

from snnc.backends.loihi import Lif, LoihiNetwork, Synapse
from tests.conftest import DATA

STEPS = 40


def lif(rng, n, vth=(20, 200), **fixed):
    params = dict(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
                  vth=int(rng.integers(*vth)), bias_mant=rng.integers(-30, 60, n),
                  bias_exp=rng.integers(0, 3, n))
    return Lif(n, **{**params, **fixed})


def weights(rng, n_out, n_in, low=-255, high=256, density=1.0):
    w = rng.integers(low, high, (n_out, n_in))
    return w * (rng.random((n_out, n_in)) < density)


def spikes(rng, n, p=0.3, steps=STEPS):
    return (rng.random((steps, n)) < p).astype(int)


def chain(rng, sizes, synapse, **lif_kw):
    """in -> l0 -> l1 -> ... with ``synapse(rng, n_out, n_in)`` per hop."""
    names = ["in"] + [f"l{i}" for i in range(len(sizes) - 1)]
    neurons = {name: lif(rng, n, **lif_kw) for name, n in zip(names[1:], sizes[1:])}
    syns = tuple((a, b, synapse(rng, m, n)) for a, b, n, m in
                 zip(names[:-1], names[1:], sizes[:-1], sizes[1:]))
    return LoihiNetwork({"in": sizes[0]}, neurons, syns), {"in": spikes(rng, sizes[0])}


def _recurrent(rng):
    net = LoihiNetwork({"in": 8}, {"a": lif(rng, 6, vth=(5, 40))}, (
        ("in", "a", Synapse(weights(rng, 6, 8))),
        ("a", "a", Synapse(weights(rng, 6, 6), weight_exp=-1))))
    return net, {"in": spikes(rng, 8)}


def _recurrent_pair(rng):
    net = LoihiNetwork({"in": 7}, {"a": lif(rng, 5, vth=(5, 40)), "b": lif(rng, 4, vth=(5, 40))},
                       (("in", "a", Synapse(weights(rng, 5, 7, 0))),
                        ("a", "b", Synapse(weights(rng, 4, 5))),
                        ("b", "a", Synapse(weights(rng, 5, 4), sparse=True))))
    return net, {"in": spikes(rng, 7)}


def _delay_recurrent(rng):
    net = LoihiNetwork({"in": 6}, {"a": lif(rng, 6, vth=(5, 40))}, (
        ("in", "a", Synapse(weights(rng, 6, 6), delays=rng.integers(0, 4, (6, 6)))),
        ("a", "a", Synapse(weights(rng, 6, 6), delays=rng.integers(0, 6, (6, 6))))))
    return net, {"in": spikes(rng, 6)}


def _fan_in(rng):
    net = LoihiNetwork({"x": 5, "y": 9}, {"a": lif(rng, 6), "b": lif(rng, 3, vth=(5, 20))}, (
        ("x", "a", Synapse(weights(rng, 6, 5), weight_exp=1)),
        ("y", "a", Synapse(weights(rng, 6, 9, density=0.5), sparse=True)),
        ("a", "b", Synapse(weights(rng, 3, 6))),
        ("y", "b", Synapse(weights(rng, 3, 9), delays=2)),
        ("x", "b", Synapse(weights(rng, 3, 5, -60, 1)))))
    return net, {"x": spikes(rng, 5), "y": spikes(rng, 9, 0.2)}


def _sign_modes_forced(rng):
    net = LoihiNetwork({"in": 10}, {"a": lif(rng, 5)}, (
        ("in", "a", Synapse(weights(rng, 5, 10), sign_mode="excitatory")),  # negatives -> 0
        ("in", "a", Synapse(weights(rng, 5, 10), sign_mode="inhibitory", num_weight_bits=6)),
        ("in", "a", Synapse(weights(rng, 5, 10, -400, 400), sign_mode="mixed"))))  # clipped
    return net, {"in": spikes(rng, 10)}


def _overflow(rng, weight_exp):
    """Huge weight exponents: u wraps at 24 bits, v saturates, int32 sums wrap."""
    a = lif(rng, 6, vth=(1000, 100000), du=int(rng.integers(0, 50)), dv=int(rng.integers(0, 50)))
    net = LoihiNetwork({"in": 20}, {"a": a}, (
        ("in", "a", Synapse(weights(rng, 6, 20), weight_exp=weight_exp)),
        ("in", "a", Synapse(weights(rng, 6, 20), weight_exp=weight_exp,
                            delays=rng.integers(0, 3, (6, 20))))))
    return net, {"in": spikes(rng, 20, 0.5)}


def _fast_wrap_and_saturate(rng):
    """Within the fast arithmetic: u (du = 0) wraps at 2**23, v (dv = 0) saturates both ways."""
    a = Lif(5, du=0, dv=0, vth=2 ** 17 - 1)
    net = LoihiNetwork({"in": 20}, {"a": a}, (
        ("in", "a", Synapse(weights(rng, 5, 20, 100, 256), weight_exp=1)),))
    return net, {"in": spikes(rng, 20, 0.6, steps=60)}


def _graded_input(rng):
    """du = 0 (u decays by 1/4096 only), dv = 4095; Dense reads any nonzero input as a spike."""
    net, x = chain(rng, [9, 5], lambda r, m, n: Synapse(weights(r, m, n, -60, 60)), du=0, dv=4095)
    return net, {"in": x["in"] * rng.integers(1, 4, x["in"].shape)}


def _initial_state(rng):
    a = Lif(6, du=700, dv=90, vth=30, u=rng.integers(-2 ** 20, 2 ** 20, 6),
            v=rng.integers(-2 ** 21, 2000, 6), bias_mant=7)
    net = LoihiNetwork({"in": 6}, {"a": a}, (("in", "a", Synapse(weights(rng, 6, 6))),))
    return net, {"in": spikes(rng, 6)}


def nir_paper_lif():
    """The NIR paper's LIF as its Lava script converts it (dt = 1e-4, tau = 2.5e-3, v_thr = 0.1):
    dv = int(dt / tau * 4095), du = int(1 * 4095), vth = int(v_thr * 131071) >> 9, and a 1x1
    Dense of weight int(dt / tau * 256)."""
    dt, tau, v_thr = 1e-4, np.float32(0.0025), np.float32(0.1)
    w = (np.ones((1, 1)) * (dt / tau) * 256).astype(np.int32)
    lif_ = Lif(1, du=int(1.0 * 4095), dv=int(dt / tau * 4095), vth=int(v_thr * 131071) >> 9)
    return LoihiNetwork({"in": 1}, {"lif": lif_}, (("in", "lif", Synapse(w)),))


def _paper(rng, data_dir=DATA):
    x = np.loadtxt(data_dir / "lif_norse.csv", delimiter=",")[:, :1].astype(int)
    return nir_paper_lif(), {"in": x}


CASES = {
    "dense_mixed": lambda r: chain(r, [12, 10], lambda r, m, n: Synapse(weights(r, m, n))),
    "dense_excitatory_nwb5_exp2": lambda r: chain(
        r, [10, 8], lambda r, m, n: Synapse(weights(r, m, n, 0, 120), weight_exp=2,
                                            num_weight_bits=5)),
    "dense_inhibitory_bias": lambda r: chain(
        r, [9, 7], lambda r, m, n: Synapse(weights(r, m, n, -80, 1), weight_exp=-1),
        vth=(2, 20), bias_mant=np.arange(200, 900, 100), bias_exp=np.full(7, 3)),
    "dense_float_weights": lambda r: chain(
        r, [8, 6], lambda r, m, n: Synapse(r.uniform(-200.0, 200.0, (m, n)))),
    "sign_modes_forced": _sign_modes_forced,
    "sparse_mixed_exp-2": lambda r: chain(
        r, [16, 12], lambda r, m, n: Synapse(weights(r, m, n, density=0.3), weight_exp=-2,
                                             sparse=True), vth=(2, 30)),
    "sparse_excitatory_nwb3": lambda r: chain(
        r, [14, 9], lambda r, m, n: Synapse(weights(r, m, n, 0, 256, 0.4), num_weight_bits=3,
                                            sparse=True)),
    "recurrent": _recurrent,
    "recurrent_pair": _recurrent_pair,
    "delay_dense": lambda r: chain(
        r, [10, 8], lambda r, m, n: Synapse(weights(r, m, n), delays=r.integers(0, 8, (m, n)))),
    "delay_dense_scalar_exp1": lambda r: chain(
        r, [8, 6], lambda r, m, n: Synapse(weights(r, m, n), delays=3, weight_exp=1)),
    "delay_sparse": lambda r: chain(
        r, [12, 7], lambda r, m, n: Synapse(weights(r, m, n, density=0.5), sparse=True,
                                            delays=r.integers(0, 5, (m, n)))),
    "delay_recurrent": _delay_recurrent,
    "multilayer3": lambda r: chain(r, [12, 10, 8, 6], lambda r, m, n: Synapse(weights(r, m, n))),
    "multilayer_mixed_kinds": lambda r: chain(
        r, [10, 9, 7], lambda r, m, n: Synapse(weights(r, m, n, density=0.6), sparse=m == 7,
                                               delays=r.integers(0, 3, (m, n)) if m == 9 else None,
                                               weight_exp=-3, num_weight_bits=7)),
    "fan_in_two_inputs": _fan_in,
    "weight_exp_pos_nwb6": lambda r: chain(
        r, [10, 6], lambda r, m, n: Synapse(weights(r, m, n), weight_exp=3, num_weight_bits=6),
        vth=(500, 3000)),
    "weight_exp_neg4": lambda r: chain(
        r, [10, 6], lambda r, m, n: Synapse(weights(r, m, n), weight_exp=-4), vth=(1, 10)),
    "no_leak_full_current_decay": lambda r: chain(
        r, [10, 6], lambda r, m, n: Synapse(weights(r, m, n)), du=4095, dv=0),
    "no_current_decay_graded_input": _graded_input,
    "initial_state": _initial_state,
    "overflow_u_wrap": lambda r: _overflow(r, 8),
    "fast_u_wrap_v_saturate": _fast_wrap_and_saturate,
    "overflow_int32_wrap": lambda r: _overflow(r, 16),
}


def build(name, data_dir=DATA):
    """The case's network and inputs, drawn with its own fixed seed."""
    rng = np.random.default_rng(sorted(CASES).index(name) if name in CASES else 99)
    return _paper(rng, data_dir) if name == "nir_paper" else CASES[name](rng)
