"""The RRAM neurons' process model: the digital periphery's neuron update, with the
reference's own arithmetic (``snnc.backends.reference.neurons``) in the simulation dtype.

Each incoming matrix delivers on its own input port (its crossbar reads, the bias added), and
the ports are added in the graph's fan-in order, as the reference adds a node's inputs, so
that exact crossbar reads give the reference's state bit for bit. A readout (LI, CubaLI, I)
never fires; its membrane is its output.
"""
from __future__ import annotations

import numpy as np

from snnc.backends.reference.neurons import STATEFUL
from snnc.ir import nodes as n
from snnc.options import SimOptions


class RramNeuron:
    """Process model of one population (any neuron node of the reference)."""

    state_vars = ("v",)

    def __init__(self, node: n.Neuron, options: SimOptions, ports: tuple[str, ...]):
        self.node, self.options = node, options
        if len(ports) > 1:
            self.ports = ports  # one per incoming matrix, in fan-in order
        self.dtype = np.dtype(options.dtype)

    def start(self, size: int, batch: int, input_bound) -> "_Neurons":
        kernel = STATEFUL[type(self.node)](self.node, self.options)
        kernel.init(batch)
        return _Neurons(self, kernel, batch)


class _Neurons:
    def __init__(self, model: RramNeuron, kernel, batch: int):
        self.model, self.kernel, self.batch = model, kernel, batch
        self.spiking = model.node.spiking
        self.shape = model.node.shape
        self.multi = hasattr(model, "ports")

    def _input(self, a_in: np.ndarray) -> np.ndarray:
        """Input (..., batch, *shape) in the dtype: the ports added one by one, in order."""
        dtype = self.model.dtype
        if self.multi:
            total = a_in[..., 0, :, :].astype(dtype)
            for k in range(1, a_in.shape[-3]):
                total = total + a_in[..., k, :, :].astype(dtype)
        else:
            total = a_in.astype(dtype)
        return total.reshape(*total.shape[:-1], *self.shape)

    def _advance(self, drive: np.ndarray) -> np.ndarray:
        out = self.kernel.step(drive)
        if self.spiking:
            return np.asarray(out).reshape(self.batch, -1) != 0
        return np.zeros((self.batch, int(np.prod(self.shape))), bool)

    def step(self, a_in: np.ndarray) -> np.ndarray:
        return self._advance(self.kernel.drive(self._input(a_in)))

    def scan(self, a_in: np.ndarray, probe) -> tuple[np.ndarray, dict]:
        drive = self.kernel.drive(self._input(a_in))  # elementwise: all steps at once
        fired = np.zeros((len(a_in), self.batch, int(np.prod(self.shape))), bool)
        traces = {var: np.zeros(fired.shape) for var in probe}
        for t in range(len(a_in)):
            fired[t] = self._advance(drive[t])
            for var in probe:
                traces[var][t] = self.state(var)
        return fired, traces

    def state(self, var: str) -> np.ndarray:
        return np.asarray(getattr(self.kernel, var), np.float64).reshape(self.batch, -1)
