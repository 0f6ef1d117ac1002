"""How a quantized IR population becomes a PyNN cell on sPyNNaker 1!7.4.1, and what the core
computes from it. One mapping for the emulator (``neurons``) and the PyNN script.

IR -> PyNN (times in ms, ``ts`` = dt in ms as the s16.15 word the core reads):

| IR                         | PyNN / sPyNNaker                                                 |
|----------------------------|------------------------------------------------------------------|
| LIF, LI                    | IF_curr_delta (delta synapses, ``input_type_delta``)             |
| CubaLIF, CubaLI            | IF_curr_exp (exponential synapses, ``input_type_current``)       |
| IF, I                      | IF_curr_delta with the slowest leak the core can represent       |
| v_leak (IF: v_reset)       | v_rest; also the initial v                                       |
| v_reset                    | v_reset                                                          |
| v_threshold (strict >)     | v_thresh = v_threshold + 2**-15: on the s16.15 grid, V >= that   |
|                            | is V > v_threshold (readouts: the largest word, never reached)   |
| tau / tau_mem              | tau_m chosen so that the core's exp_TC = expk(-kdivk(ts, tau_m)) |
|                            | is 1 - g (g: the reference's per-step gain, dt/tau for euler)    |
| r (and w_in, tau_syn)      | cm = tau_m / R, R chosen so that exp_TC's complement times R     |
|                            | times the input gives the reference's r * x (see ``_resistance``) |
| tau_syn                    | tau_syn_E = tau_syn_I, chosen so that the core's decay is 1 - g  |
| an Affine bias (LIF, IF)   | i_offset, in nA: b times the delta input's 1/dt scale            |
| (no refractory period)     | tau_refrac = 0; refract_timer starts at the population's lag     |

The closed form V <- alpha - exp_TC (alpha - V), alpha = I R + v_rest
(``neuron_model_lif_impl.h: lif_neuron_closed_form``) is, with exp_TC = 1 - g, exactly the
reference's forward-Euler step v += g (v_leak + r x - v) when I R = r x: sPyNNaker's exact
exponential LIF reproduces the Euler (or exp) integrator by the choice of tau_m. What cannot
match exactly: the core's exp_TC, R, init and decays are the nearest the s16.15 / u0.32 words
reach (exp_TC to the LSB, the rest to about 2**-15 relative); every product truncates (floor)
where the reference rounds in float32; weights and biases sum in 16-bit ring-buffer slots that
saturate; and an IF or I has no leak in the IR but a leak of eps (v_rest - V) per step here
(eps = 1 - exp_TC, the smallest that keeps alpha inside s16.15 for the largest input).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from snnc.errors import GraphError
from snnc.ir import nodes as n
from snnc.options import SimOptions, gain

from . import fixed

DELTA = (n.LIF, n.LI, n.IF, n.I)  # IF_curr_delta
EXP = (n.CubaLIF, n.CubaLI)  # IF_curr_exp
NO_LEAK = (n.IF, n.I)
READOUTS = (n.LI, n.CubaLI, n.I)
TOP = fixed.INT32_MAX  # the largest s16.15 word: a threshold never reached
HEADROOM = 57344.0  # |I R| an IF cell may reach: 2**16 less 8192 mV for v_rest and V


@dataclass(frozen=True)
class Cell:
    """One population's sPyNNaker parameters as raw s16.15 words (per neuron, flat), and
    the constants the core derives from them (``neuron_model_initialise``,
    ``decay_and_init``, ``input_type_initialise``)."""

    model: str  # "IF_curr_delta" or "IF_curr_exp"
    ts: int  # the time step, ms, s16.15
    tau_m: np.ndarray
    cm: np.ndarray
    v_rest: np.ndarray
    v_reset: np.ndarray
    v_thresh: np.ndarray
    i_offset: np.ndarray
    tau_syn: np.ndarray | None  # IF_curr_exp only (tau_syn_E = tau_syn_I)
    shift_exc: int
    shift_inh: int

    @property
    def exp_tc(self) -> np.ndarray:
        return fixed.lif_exp_tc(self.tau_m, self.ts)

    @property
    def resistance(self) -> np.ndarray:
        return fixed.lif_resistance(self.tau_m, self.cm)

    @property
    def synapse(self) -> tuple[np.ndarray, np.ndarray]:
        """(decay, init) of the exponential synapses, u0.32."""
        return fixed.exp_synapse(self.tau_syn, self.ts)

    @property
    def delta_scale(self) -> int:
        return int(fixed.delta_scale(self.ts))

    def pynn(self) -> dict[str, np.ndarray]:
        """The PyNN cell parameters (ms, nF, mV, nA) whose S1615 words are these."""
        to = lambda raw: np.asarray(raw, np.float64) / fixed.ONE  # noqa: E731
        params = dict(tau_m=to(self.tau_m), cm=to(self.cm), v_rest=to(self.v_rest),
                      v_reset=to(self.v_reset), v_thresh=to(self.v_thresh),
                      i_offset=to(self.i_offset), tau_refrac=np.zeros(len(self.tau_m)))
        if self.tau_syn is not None:
            params.update(tau_syn_E=to(self.tau_syn), tau_syn_I=to(self.tau_syn))
        return params


def time_step(options: SimOptions) -> int:
    """dt in ms as the core's s16.15 word (sPyNNaker writes ``time_step`` ms as S1615)."""
    return int(fixed.s1615(options.dt * 1000.0))


def cell(node: n.Neuron, bias: np.ndarray, options: SimOptions) -> Cell:
    """The sPyNNaker cell of a quantized population. ``bias``: the summed Affine biases
    into it (flat; used as i_offset by delta cells, 0 for exp cells, whose bias arrives as
    spikes of an always-on source: see ``target``)."""
    size, ts = int(np.prod(node.shape)), time_step(options)
    flat = lambda v: np.broadcast_to(np.asarray(v, np.float64), node.shape).reshape(-1)  # noqa
    shift = (int(node.hw.get("shift_exc", 0)), int(node.hw.get("shift_inh", 0)))
    r = flat(node.r)
    sf = float(fixed.delta_scale(ts)) / fixed.ONE
    if isinstance(node, NO_LEAK):
        g_ref = np.ones(size)
        eps = _no_leak_eps(shift, r, bias * sf)
        exp_tc_target = fixed.ONE - eps
    else:
        g_ref = flat(gain(node.tau if hasattr(node, "tau") else node.tau_mem, options))
        exp_tc_target = np.rint((1.0 - g_ref) * fixed.ONE).astype(np.int64)
    tau_m = _tau_for(exp_tc_target, ts, "lif")
    eps_real = 1.0 - fixed.lif_exp_tc(tau_m, ts) / fixed.ONE
    if np.any(eps_real <= 0):
        raise GraphError("a population's decay rounds to 1 on the core: its tau is too long "
                         "for sPyNNaker's s16.15 exp_TC")
    tau_syn = None
    if isinstance(node, EXP):
        g_syn = flat(gain(node.tau_syn, options))
        target = np.rint((1.0 - g_syn) * 2.0 ** 32).astype(np.int64)
        tau_syn = _tau_for(target, ts, "syn")
        init = fixed.exp_synapse(tau_syn, ts)[1] / 2.0 ** 32
        # I_core = i_ref init / (w_in g_syn); need eps R I_core = g r i_ref
        want_r = g_ref * r * flat(node.w_in) * g_syn / (init * eps_real)
        i_offset = np.zeros(size, np.int64)
    else:  # I_core = x sf; need eps R I_core = g r x
        want_r = g_ref * r / (sf * eps_real)
        i_offset = fixed.s1615(bias * sf)
    # an IF starts at v_reset and an I at 0 (as the reference): its leak pulls there
    v_rest = flat(getattr(node, "v_reset", 0.0) if isinstance(node, NO_LEAK)
                  else node.v_leak)
    v_reset = flat(getattr(node, "v_reset", 0.0))
    spiking = not isinstance(node, READOUTS)
    v_thresh = fixed.s1615(flat(node.v_threshold)) + 1 if spiking else np.full(size, TOP)
    return Cell(model="IF_curr_exp" if isinstance(node, EXP) else "IF_curr_delta", ts=ts,
                tau_m=tau_m, cm=_capacitance(tau_m, want_r), v_rest=fixed.s1615(v_rest),
                v_reset=fixed.s1615(v_reset), v_thresh=v_thresh.astype(np.int64),
                i_offset=i_offset, tau_syn=tau_syn, shift_exc=shift[0], shift_inh=shift[1])


def _no_leak_eps(shift: tuple[int, int], r: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The leak (raw s16.15, >= 1) of an IF cell: R = r / (sf eps) makes alpha = I R =
    r x / eps, which must stay within HEADROOM (of the 2**16 of s16.15; the rest holds v_rest and
    V) for the largest input: a full ring-buffer slot, 2**(shift + 1), plus |bias|. So
    eps >= r (2**(shift + 1) + |bias|) / HEADROOM, the least leak that cannot overflow."""
    peak = (2.0 ** (max(shift) + 1) + np.abs(offset)) * np.abs(r)
    return np.maximum(1, np.ceil(peak * fixed.ONE / HEADROOM)).astype(np.int64)


def _tau_for(target: np.ndarray, ts: int, kind: str) -> np.ndarray:
    """Per neuron, the s16.15 time constant whose core-computed value (``kind``: "lif" for
    exp_TC, "syn" for the synaptic decay) is nearest ``target``."""
    taus, values = _table(ts, kind)
    out = np.empty(target.shape, np.int64)
    for value in np.unique(target):
        miss = np.abs(values - int(value))
        best = np.flatnonzero(miss == miss.min())
        out[target == value] = taus[best[len(best) // 2]]
    return out


@lru_cache(maxsize=8)
def _table(ts: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Every value kdivk(ts, tau) can take (x = 1 .. 11 * 2**15: beyond, e**-x is 0), one tau
    for each (the largest with kdivk >= x; equal wherever x has a tau of its own), and what
    the core computes from it."""
    xs = np.arange(1, 11 << 15)
    taus = (ts << 15) // xs
    taus = np.unique(taus[(taus >= 1) & (taus <= fixed.s1615(60000.0))])
    if kind == "lif":
        return taus, fixed.lif_exp_tc(taus, ts)
    return taus, fixed.exp_synapse(taus, ts)[0]


def _capacitance(tau_m: np.ndarray, want_r: np.ndarray) -> np.ndarray:
    """cm (s16.15) whose kdivk(tau_m, cm) is nearest R = ``want_r``, among the rounded
    tau_m / R and its neighbours."""
    guess = np.rint(tau_m * fixed.ONE / np.maximum(want_r * fixed.ONE, 1e-9)).astype(np.int64)
    candidates = np.maximum(guess[:, None] + np.arange(-2, 3), 1)
    got = fixed.lif_resistance(tau_m[:, None], candidates)
    pick = np.abs(got - want_r[:, None] * fixed.ONE).argmin(axis=1)
    return candidates[np.arange(len(tau_m)), pick]
