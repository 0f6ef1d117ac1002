"""The two arithmetics of ``LoihiLif`` (see ``lif`` for the per-step integer update).

- ``ExactRunner`` (int64 state): replays Lava's int32 numpy code operation by operation,
  wrapping modulo 2**32 wherever int32 would.
- ``FastRunner`` (float64 state holding exact integers): where |a_in << input_shift| <= 2M
  and |u| <= M at the start (M = 2**(state_bits-1)), decay(u) + act stays within [-3M, 3M], so no
  int32 operation can overflow and Lava's two ``np.where`` wrap u exactly once; every value is
  below 2**31, so float64 products x * (D - d) / D (below 2**43 / D, multiples of 1/D) and
  their truncation (``np.trunc``) are exact. Outside that region it runs the exact replay on
  converted state. Scans decide per window from the actual inputs, steps from the network's
  static bound (or per step). Wraps and the lower clip are skipped when provably unreachable;
  the upper clip always is: vth << threshold_shift < M - 1, so a v that would clip also fires
  and is reset to 0 either way. A window whose inputs provably cause neither a wrap nor a clip
  (the common case) runs the fused scan: u and v stacked, six numpy calls a step.
"""
from __future__ import annotations

from typing import Collection

import numpy as np


class _Runner:
    """Constants of one population and the exact int64 replay of one Lava step."""

    def __init__(self, m, batch: int):
        f = m.fmt
        self.unity, self.shift = 2 ** f.decay_bits, f.decay_bits
        self.half = 2 ** (f.state_bits - 1)  # M
        self.keep_u = self.unity - (m.du + f.current_decay_offset)  # D - (du + 1)
        self.keep_v = self.unity - m.dv
        self.vth = m.vth << f.threshold_shift
        self.act_shift = f.input_shift
        self.bias = m.effective_bias
        self.size, self.batch = len(m.u), batch

    def _decay(self, x: np.ndarray, keep: int) -> np.ndarray:
        product = x * keep
        return np.sign(product) * (np.abs(product) >> self.shift)

    def _exact_step(self, u: np.ndarray, v: np.ndarray, a_in: np.ndarray):
        """Lava's ``subthr_dynamics`` and reset on int64 copies of its int32 arrays."""
        m = self.half
        act = _wrap32(_wrap32(a_in) << self.act_shift)  # int32 InPort sum, int32 left shift
        x = _wrap32(self._decay(u, self.keep_u) + act)  # int32 +=
        u = np.where(x > m, x - 2 * m, x)
        u = np.where(u <= -m, x + 2 * m, u)  # Lava's second where also starts from x
        v = _wrap32(self._decay(v, self.keep_v) + u + self.bias)  # int32 sums
        v = np.clip(v, -(m - 1), m - 1)
        spikes = v > self.vth
        v[spikes] = 0
        return u, v, spikes

    def scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        """Step by step (``FastRunner`` overrides it with an exact faster equivalent)."""
        spikes = np.empty(a_in.shape, bool)
        traces = {var: np.empty(a_in.shape, np.int64) for var in probe}
        for t in range(len(a_in)):
            spikes[t] = self.step(a_in[t])
            for var in probe:
                traces[var][t] = self.state(var)
        return spikes, traces


def _wrap32(x: np.ndarray) -> np.ndarray:
    """x modulo 2**32 into int32's range (numpy's int64 -> int32 cast wraps)."""
    return np.asarray(x).astype(np.int32).astype(np.int64)


class ExactRunner(_Runner):
    """int64 state, every step through ``_exact_step``."""

    def __init__(self, m, batch: int):
        super().__init__(m, batch)
        self.u = np.broadcast_to(m.u, (batch, self.size)).copy()
        self.v = np.broadcast_to(m.v, (batch, self.size)).copy()

    def step(self, a_in: np.ndarray) -> np.ndarray:
        self.u, self.v, spikes = self._exact_step(self.u, self.v, a_in)
        return spikes

    def state(self, var: str) -> np.ndarray:
        return getattr(self, var).copy()


class FastRunner(_Runner):
    """float64 state; see the module doc for where its arithmetic is exact."""

    def __init__(self, m, batch: int, input_bound: int):
        super().__init__(m, batch)
        shape = (batch, self.size)
        self.uv = np.empty((2,) + shape)  # u and v stacked: the fused scan decays both at once
        self.u, self.v = self.uv
        self.u[:], self.v[:] = m.u, m.v
        self.fu, self.fv = self.keep_u / self.unity, self.keep_v / self.unity  # dyadic: exact
        # full-shape operands: numpy converts a Python scalar operand on every call
        self.factors = np.empty_like(self.uv)
        self.factors[0], self.factors[1] = self.fu, self.fv
        self.threshold = np.full(shape, float(self.vth))
        self.gain = float(2 ** self.act_shift)
        self.fbias = self.bias.astype(np.float64) if self.bias.any() else None
        self.negative_bias = max(-int(self.bias.min()), 0)
        self.fired, self.mask = np.empty(shape, bool), np.empty(shape, bool)
        self.tmp = np.empty(shape)
        self.usable = self.vth < self.half - 1  # else the upper clip would matter
        self.proven = self.usable and self._fits(input_bound)  # every step is in range
        self._plan(m, input_bound << self.act_shift)

    def _fits(self, a_max: float) -> bool:
        return a_max * self.gain <= 2 * self.half

    def _fast_now(self, a_max: float) -> bool:
        """Whether inputs up to ``a_max`` from the current state stay in the exact region."""
        return self.proven or (self.usable and self._fits(a_max)
                               and float(np.abs(self.u).max()) <= self.half)

    def _plan(self, m, act: int) -> None:
        """Static wrap and clip flags for ``step``: |u| stays below S = max(|u0|, act /
        (1 - keep_u/D)) (the decay only shrinks magnitudes); v stays above -(|u| + |negative
        bias|) / (dv/D) when it leaks."""
        half, inf = self.half, float("inf")
        du_rate = (self.unity - self.keep_u) / self.unity
        s = max(np.abs(m.u).max(), act / du_rate if du_rate else (inf if act else 0))
        self.wrap_u = s >= half
        neg = max(int(-self.bias.min()), 0)
        rate = (self.unity - self.keep_v) / self.unity
        low = (min(s, half) + neg) / rate if rate else (inf if min(s, half) + neg else 0)
        self.clip_low = max(low, -int(m.v.min())) > half - 1

    def state(self, var: str) -> np.ndarray:
        return getattr(self, var).astype(np.int64)

    def step(self, a_in: np.ndarray) -> np.ndarray:
        if not self._fast_now(0 if self.proven else float(np.abs(a_in).max())):
            return self._step_exactly(a_in)
        u = self.u
        if self.fu == 0.0:  # du = 4095: the old current decays away completely
            np.multiply(a_in, self.gain, out=u)
        else:
            np.multiply(u, self.fu, out=u)
            np.trunc(u, out=u)
            np.multiply(a_in, self.gain, out=self.tmp)
            np.add(u, self.tmp, out=u)
        if self.wrap_u or not self.proven:
            self._wrap(u)
        drive = u if self.fbias is None else np.add(u, self.fbias, out=self.tmp)
        self._voltages(drive[None], self.fired[None], None,
                       self.clip_low or not self.proven)
        return self.fired

    def _step_exactly(self, a_in: np.ndarray) -> np.ndarray:
        u, v, spikes = self._exact_step(self.u.astype(np.int64), self.v.astype(np.int64),
                                        np.asarray(a_in, np.int64))
        self.u[:], self.v[:] = u, v
        return spikes

    def _wrap(self, u: np.ndarray) -> None:
        """Lava's two np.where: -2M above M, then +2M at or below -M (|u| <= 3M here)."""
        np.greater(u, self.half, out=self.mask)
        np.subtract(u, 2 * self.half, out=u, where=self.mask)
        np.less_equal(u, -self.half, out=self.mask)
        np.add(u, 2 * self.half, out=u, where=self.mask)

    def scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        """The fused loop where the window's inputs provably cause no wrap or clip; else u
        over all steps of the window first (it does not depend on spikes), then v step by
        step, with the wrap and clip decided from the actual u trajectory."""
        a_max = max(int(a_in.max()), -int(a_in.min())) if a_in.size else 0
        if not a_in.size or not self._fast_now(a_max):
            return super().scan(a_in, probe)  # step by step: exact where needed
        if self._no_wrap_no_clip(a_max, len(a_in)):
            return self._fused_scan(a_in, probe)
        current = self._currents(a_in)
        drive = current if self.fbias is None else current + self.fbias
        spikes = np.empty(a_in.shape, bool)
        volts = np.empty(a_in.shape) if "v" in probe else None
        self._voltages(drive, spikes, volts, self._clip_needed(drive))
        traces = {"u": current, "v": volts}
        return spikes, {var: traces[var].astype(np.int64) for var in probe}

    def _no_wrap_no_clip(self, a_max: int, steps: int) -> bool:
        """Whether, for ``steps`` inputs with |a_in| <= a_max from the current state, u can
        never wrap and v never reach the lower clip (exact bounds in Python ints).

        u: |decay(u)| <= |u| keep_u / D, so with A = a_max << input_shift, |u_t| <= |u_0| + t A
        and |u_t| <= max(|u_0|, A D / (D - keep_u)) (induction: keep_u/D U + A <= U); U, the
        smaller of the two, bounds every step; no wrap while U < M.
        v: the drive u + bias is >= -N with N = U + max(-bias); the decay, its truncation
        toward zero and the reset to 0 only raise a negative v, so min(v_t, 0) >= -L_t with
        L_t <= L_{t-1} keep_v / D + N: L_t <= min(L_0 + t N, max(L_0, N D / (D - keep_v))).
        No clip while that stays <= M - 1."""
        m, unity, limit = self.half, self.unity, self.half - 1
        u0 = int(max(self.u.max(), -self.u.min()))
        rate_u, rate_v = unity - self.keep_u, unity - self.keep_v
        big_a = a_max << self.act_shift
        u_bound = u0 + steps * big_a
        if rate_u > 0:  # ceil: |u_t| is an integer
            u_bound = min(u_bound, max(u0, -(-big_a * unity // rate_u)))
        if u_bound >= m:
            return False
        drive = u_bound + self.negative_bias
        low = max(-int(self.v.min()), 0)
        return low + steps * drive <= limit or (
            rate_v > 0 and low <= limit and drive * unity <= limit * rate_v)

    def _fused_scan(self, a_in: np.ndarray, probe: Collection[str]) -> tuple[np.ndarray, dict]:
        """u and v in one loop over the stacked state, six numpy calls a step (decay both,
        two adds, fire, reset). Used only where ``_no_wrap_no_clip`` holds, so Lava's wraps
        and clip are identities and are left out."""
        act = np.multiply(a_in, self.gain)  # a_in << input_shift, exact in float64
        if self.fbias is not None:  # one add of [act, act + bias] after v += decay(u)
            stacked = np.empty((len(a_in),) + self.uv.shape)
            stacked[:, 0] = act
            np.add(act, self.fbias, out=stacked[:, 1])
            act = stacked
        spikes = np.empty(a_in.shape, bool)
        trace = np.empty((len(a_in),) + self.uv.shape) if probe else None
        self._fused_loop(act, spikes, trace)
        return spikes, {var: trace[:, "uv".index(var)].astype(np.int64) for var in probe}

    def _fused_loop(self, act: np.ndarray, spikes: np.ndarray, trace) -> None:
        """Per step: [u, v] <- trunc([u, v] * [keep_u, keep_v] / D); u += act; v += u (with
        a bias, v += decay(u) first, then [u, v] += [act, act + bias]); fire; reset."""
        uv, u, v, factors, threshold, zero = (self.uv, self.u, self.v, self.factors,
                                              self.threshold, np.zeros(()))
        stacked = act.ndim == uv.ndim + 1
        mul, trunc, add, greater, putmask = np.multiply, np.trunc, np.add, np.greater, np.putmask
        for t, (now, fired) in enumerate(zip(act, spikes)):
            mul(uv, factors, uv)
            trunc(uv, uv)
            if stacked:
                add(v, u, v)
                add(uv, now, uv)
            else:
                add(u, now, u)
                add(v, u, v)
            greater(v, threshold, fired)
            putmask(v, fired, zero)
            if trace is not None:
                trace[t] = uv

    def _currents(self, a_in: np.ndarray) -> np.ndarray:
        """u for every step, (steps, batch, size); leaves the last one in self.u. Computed
        without wraps first: if no step leaves (-M, M], Lava never wrapped either."""
        current = a_in * self.gain  # a_in << input_shift, exact in float64
        if self.fu != 0.0:
            self._integrate(current, wrap=False)
        if current.max() > self.half or current.min() <= -self.half:
            current = a_in * self.gain
            if self.fu == 0.0:  # du = 4095: each step is its own input, wrapped
                current -= 2 * self.half * (current > self.half)
                current += 2 * self.half * (current <= -self.half)
            else:
                self._integrate(current, wrap=True)
        self.u[:] = current[-1]
        return current

    def _integrate(self, current: np.ndarray, wrap: bool) -> None:
        """In place: current[t] <- decay(current[t-1]) + current[t] (current[-1] := self.u)."""
        mul, trunc, add, fu, tmp = np.multiply, np.trunc, np.add, self.fu, self.tmp
        previous = self.u
        for now in current:
            mul(previous, fu, tmp)
            trunc(tmp, tmp)
            add(now, tmp, now)
            if wrap:
                self._wrap(now)
            previous = now

    def _clip_needed(self, drive: np.ndarray) -> bool:
        """Whether v can fall below -(M-1): min(v, 0) falls by at most min(drive, 0) a step
        (decay and reset only raise it), and with a leak never below drive_min / leak rate."""
        limit, v0_min, d_min = self.half - 1, min(float(self.v.min()), 0.0), float(drive.min())
        if d_min >= 0:
            return v0_min < -limit
        low = v0_min + len(drive) * d_min
        if low < -limit:  # the cheap bound failed: try the per-neuron one
            low = float((np.minimum(self.v, 0) + np.minimum(drive, 0).sum(axis=0)).min())
        rate = (self.unity - self.keep_v) / self.unity
        if rate:
            low = max(low, min(v0_min, d_min / rate))
        return low < -limit

    def _voltages(self, drive, spikes, volts, clip: bool) -> None:
        """The v loop: decay, add drive, clip, fire, reset (numpy calls with positional
        outputs: this loop is most of a feedforward run's time)."""
        v, fv, vth, bottom = self.v, self.fv, self.vth, 1 - self.half
        mul, trunc, add, greater, putmask = np.multiply, np.trunc, np.add, np.greater, np.putmask
        leak = fv != 1.0
        for t, (now, fired) in enumerate(zip(drive, spikes)):
            if leak:
                mul(v, fv, v)
                trunc(v, v)
            add(v, now, v)
            if clip:
                np.maximum(v, bottom, v)
            greater(v, vth, fired)
            putmask(v, fired, 0.0)
            if volts is not None:
                volts[t] = v
