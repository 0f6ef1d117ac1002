"""Process models of the reference target: per-step neuron and delay updates in numpy.

Each stateful kernel splits its update in two. ``drive(x)`` is the part that does not depend on
the state (r * x + v_leak, ...); it is elementwise, so the simulator computes it for a whole
input sequence at once. ``step(d)`` advances the state by one step from one step's drive.

The arithmetic follows Norse 1.1.0 operation by operation (same grouping, same float32 type),
so a Norse model imported through NIR gives Norse's spikes exactly whenever the synaptic
input is the same; matrix products sum in a BLAS-dependent order, so large layers can differ
from torch in the last bit and, rarely, flip a spike that sits exactly on threshold:
  LIF      (LIFBoxCell): v += g * ((v_leak + r x) - v); z = [v > v_th]; reset
  LI       (LIBoxCell):  v += g * ((v_leak - v) + r x)
  CubaLIF  (LIFCell):    i += g_in x; v += g * ((v_leak - v) + r i); i += d_syn * i; z; reset
  CubaLI   (LICell):     as CubaLIF without z
  IF       (IAFCell):    v += r x; z; reset           I: v += r x
with g = dt/tau (euler) or 1 - exp(-dt/tau) (exp), g_in = w_in * g_syn, d_syn = -g_syn.
Initial state as Norse: v = v_leak (v_reset for IF, 0 for I), i = 0.
"""
from __future__ import annotations

import numpy as np

from snnc.ir import nodes as n
from snnc.options import SimOptions, gain


class Neuron:
    """Shared state handling: parameters cast once to the simulation dtype."""

    state_names: tuple[str, ...] = ("v",)

    def __init__(self, node: n.Neuron, options: SimOptions):
        self.dtype = np.dtype(options.dtype)
        self.reset_mode = getattr(node, "reset", None) or options.reset
        self.shape = node.shape

    def cast(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(value, dtype=self.dtype)

    def state(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.state_names}

    def fire(self, v: np.ndarray) -> np.ndarray:
        """Spikes z = [v > v_th] (strict, as NIR); returns z and stores the reset membrane.

        v is a fresh array from step(), so resetting it in place is safe.
        """
        mode = self.reset_mode
        if self.pending is not None:  # the delayed reset of the previous step's spikes
            if mode == "subtract_next":
                np.subtract(v, self.v_threshold, out=v, where=self.pending)
            else:  # zero_next
                np.copyto(v, 0, where=self.pending)
        z = v > self.v_threshold
        if mode == "to_v_reset":
            np.copyto(v, self.v_reset, where=z)
        elif mode == "zero":
            np.copyto(v, 0, where=z)
        elif mode == "subtract":
            np.subtract(v, self.v_threshold, out=v, where=z)
        elif mode in ("subtract_next", "zero_next"):
            self.pending = z
        self.v = v
        return z.astype(self.dtype)

    def zeros(self, batch: int) -> np.ndarray:
        self.pending = None  # called by every init(): a new run starts with no delayed reset
        return np.zeros((batch, *self.shape), dtype=self.dtype)


class LIF(Neuron):
    def __init__(self, node: n.LIF, options: SimOptions):
        super().__init__(node, options)
        self.g, self.r, self.v_leak = (self.cast(a) for a in (gain(node.tau, options), node.r,
                                                                node.v_leak))
        self.v_threshold, self.v_reset = self.cast(node.v_threshold), self.cast(node.v_reset)
        self.unit_r = bool(np.all(self.r == 1))

    def init(self, batch: int) -> None:
        self.v = self.zeros(batch) + self.v_leak

    def drive(self, x: np.ndarray) -> np.ndarray:
        d = x + self.v_leak if self.unit_r else self.r * x  # r = 1 is exact: skip a pass
        if not self.unit_r:
            d += self.v_leak
        return d

    def step(self, d: np.ndarray) -> np.ndarray:
        v = d - self.v  # v + g * (d - v), in place; IEEE + and * commute exactly
        v *= self.g
        v += self.v
        return self.fire(v)


class LI(LIF):
    def __init__(self, node: n.LI, options: SimOptions):
        Neuron.__init__(self, node, options)
        self.g, self.r, self.v_leak = (self.cast(a) for a in (gain(node.tau, options), node.r,
                                                                node.v_leak))

    def drive(self, x: np.ndarray) -> np.ndarray:
        return self.r * x

    def step(self, d: np.ndarray) -> np.ndarray:
        self.v = self.v + self.g * ((self.v_leak - self.v) + d)
        return self.v


class CubaLIF(Neuron):
    state_names = ("v", "i")
    spiking = True

    def __init__(self, node: n.CubaLIF | n.CubaLI, options: SimOptions):
        super().__init__(node, options)
        g_syn = gain(node.tau_syn, options)
        self.g_in, self.d_syn = self.cast(node.w_in * g_syn), self.cast(-g_syn)
        self.g, self.r, self.v_leak = (self.cast(a) for a in (gain(node.tau_mem, options), node.r,
                                                                node.v_leak))
        if self.spiking:
            self.v_threshold, self.v_reset = self.cast(node.v_threshold), self.cast(node.v_reset)

    def init(self, batch: int) -> None:
        self.v = self.zeros(batch) + self.v_leak
        self.i = self.zeros(batch)

    def drive(self, x: np.ndarray) -> np.ndarray:
        return self.g_in * x

    def step(self, d: np.ndarray) -> np.ndarray:
        current = self.i + d
        v = self.v + self.g * ((self.v_leak - self.v) + self.r * current)
        self.i = current + self.d_syn * current
        if not self.spiking:
            self.v = v
            return v
        return self.fire(v)


class CubaLI(CubaLIF):
    spiking = False


class IF(Neuron):
    def __init__(self, node: n.IF, options: SimOptions):
        super().__init__(node, options)
        self.r, self.v_threshold, self.v_reset = (self.cast(a) for a in (node.r, node.v_threshold,
                                                                           node.v_reset))

    def init(self, batch: int) -> None:
        self.v = self.zeros(batch) + self.v_reset

    def drive(self, x: np.ndarray) -> np.ndarray:
        return self.r * x

    def step(self, d: np.ndarray) -> np.ndarray:
        return self.fire(self.v + d)


class I(Neuron):  # noqa: E742 - NIR's name
    def __init__(self, node: n.I, options: SimOptions):
        super().__init__(node, options)
        self.r = self.cast(node.r)

    def init(self, batch: int) -> None:
        self.v = self.zeros(batch)

    def drive(self, x: np.ndarray) -> np.ndarray:
        return self.r * x

    def step(self, d: np.ndarray) -> np.ndarray:
        self.v = self.v + d
        return self.v


class Delay:
    """y[t] = x[t - k] with k = round(delay / dt) steps per element, via a ring buffer."""

    state_names = ()

    def __init__(self, node: n.Delay, options: SimOptions):
        self.dtype = np.dtype(options.dtype)
        self.steps = np.rint(node.delay / options.dt).astype(np.int64)

    def init(self, batch: int) -> None:
        self.t = 0
        self.buffer: np.ndarray | None = None
        self.batch = batch

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def drive(self, x: np.ndarray) -> np.ndarray:
        return x

    def step(self, x: np.ndarray) -> np.ndarray:
        if self.buffer is None:
            steps = np.broadcast_to(self.steps, x.shape[1:]).reshape(-1)
            self.offsets, self.slots = steps, int(steps.max(initial=0)) + 1
            self.buffer = np.zeros((self.slots, self.batch, steps.size), dtype=self.dtype)
        flat = x.reshape(self.batch, -1)
        columns = np.arange(flat.shape[1])
        self.buffer[(self.t + self.offsets) % self.slots, :, columns] = flat.T
        now = self.t % self.slots
        y = self.buffer[now].copy()
        self.buffer[now] = 0
        self.t += 1
        return y.reshape(x.shape)


STATEFUL = {n.LIF: LIF, n.LI: LI, n.CubaLIF: CubaLIF, n.CubaLI: CubaLI, n.IF: IF, n.I: I,
            n.Delay: Delay}
