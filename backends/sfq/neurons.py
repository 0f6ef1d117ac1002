"""The SFQ neuron's process model: a flux-storing cell with an excitatory and an inhibitory
input port, its state advanced by the reference's own arithmetic.

Each step the cell receives whole fluxons on its two ports (the pulse counts the merger trees
delivered, in the population's fluxon unit q = 2**e); its input current is
(exc - inh) * q + bias, the bias being the neuron's bias current. The stored state then moves
as the reference's kernels (``snnc.backends.reference.neurons``) move it, operation for
operation in the same float type, once per clocked step: the stored state is a float, not a
whole number of fluxons (no threshold in fluxons, no integer leak decrement: a deviation from
a physical flux-storing cell); the cell fires when the stored value passes its threshold and
resets. Because the quantized graph's weights and biases are exact multiples of
q, the same pulse counts give the reference's state bit for bit.
"""
from __future__ import annotations

import numpy as np

from snnc.backends.reference.neurons import STATEFUL
from snnc.ir import nodes as n
from snnc.options import SimOptions


class SfqNeuron:
    """Process model of one population (any neuron node of the reference)."""

    ports = ("exc", "inh")
    state_vars = ("v",)

    def __init__(self, node: n.Neuron, options: SimOptions, unit: float, bias: np.ndarray,
                 late_bias: np.ndarray | None = None):
        """``late_bias``: bias current switched on from step 1 (a biased matrix behind a
        back edge, whose step 0 the reference reads as zeros)."""
        self.node, self.options = node, options
        dtype = np.dtype(options.dtype)
        self.unit = dtype.type(unit)
        self.bias = np.asarray(bias, dtype).reshape(node.shape)
        late = np.zeros(node.shape) if late_bias is None else late_bias
        self.late_bias = np.asarray(late, dtype).reshape(node.shape)
        self.has_late = bool(np.any(self.late_bias))

    def start(self, size: int, batch: int, input_bound: int) -> "_Cell":
        kernel = STATEFUL[type(self.node)](self.node, self.options)
        kernel.init(batch)
        return _Cell(self, kernel, batch)


class _Cell:
    def __init__(self, model: SfqNeuron, kernel, batch: int):
        self.model, self.kernel, self.batch = model, kernel, batch
        self.spiking = model.node.spiking
        self.size = int(np.prod(model.node.shape))
        self.t = 0  # steps run: the late bias starts at step 1

    def _current(self, a_in: np.ndarray) -> np.ndarray:
        """Input current (..., batch, *shape) from fluxon counts (..., 2, batch, size)."""
        m = self.model
        fluxons = (a_in[..., 0, :, :] - a_in[..., 1, :, :]).astype(m.unit.dtype)
        lead = fluxons.shape[:-1]
        current = (fluxons * m.unit).reshape(*lead, *m.node.shape) + m.bias
        if m.has_late:
            on = (self.t + np.arange(len(a_in)) >= 1) if a_in.ndim == 4 else self.t >= 1
            on = np.asarray(on).reshape(np.shape(on) + (1,) * (current.ndim - np.ndim(on)))
            current = current + np.where(on, m.late_bias, m.late_bias.dtype.type(0))
        return current

    def _advance(self, drive: np.ndarray) -> np.ndarray:
        out = self.kernel.step(drive)
        if self.spiking:
            return np.asarray(out).reshape(self.batch, -1) != 0
        return np.zeros((self.batch, self.size), bool)  # a readout never fires

    def step(self, a_in: np.ndarray) -> np.ndarray:
        fired = self._advance(self.kernel.drive(self._current(a_in)))
        self.t += 1
        return fired

    def scan(self, a_in: np.ndarray, probe) -> tuple[np.ndarray, dict]:
        drive = self.kernel.drive(self._current(a_in))  # elementwise: all steps at once
        fired = np.zeros((len(a_in), self.batch, self.size), bool)
        traces = {var: np.zeros(fired.shape) for var in probe}
        for t in range(len(a_in)):
            fired[t] = self._advance(drive[t])
            for var in probe:
                traces[var][t] = self.state(var)
        self.t += len(a_in)
        return fired, traces

    def state(self, var: str) -> np.ndarray:
        return np.asarray(getattr(self.kernel, var), np.float64).reshape(self.batch, -1)
