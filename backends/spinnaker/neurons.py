"""sPyNNaker 1!7.4.1's IF_curr_delta and IF_curr_exp as engine process models, on raw s16.15
words (int64 arrays holding int32 values).

Input: two ports, ("exc", "inh"), each the summed 16-bit ring-buffer weights that arrive at
the step (the engine sums every connection's delivered integers per port). One step, as
``c_main.c: timer_callback`` runs it: first ``synapses.c`` hands the ring-buffer slots of this
step to the neurons, then ``neuron_impl_standard.h: neuron_impl_do_timestep_update`` updates
every neuron:

1. Ring buffer (``synapses.c: process_fixed_synapses``): each slot is a uint16 that saturates at
   0xFFFF (``ring_buffer_saturations`` counts the slots that did per step; the core counts each
   addition past the top, so its count is at least this). Transfer
   (``synapses.h: synapses_convert_weight_to_input``): input = kbits(slot << shift), the
   population's per-type left shift (``hw["shift_exc"]``, ``hw["shift_inh"]``, chosen as
   ``PopulationVertex.get_ring_buffer_shifts`` does: ``formats.ring_buffer_shift``).
2. Synapse (``synapse_types_delta_impl.h``: I_x += input; ``synapse_types_exponential_impl.h``
   via ``exp_synapse_utils.h: add_input_exp``: I_x += decay_s1615(input, init)).
3. Input type (``input_type_delta.h``: I_x * scale_factor, scale_factor = kdivk(1.0, ts);
   ``input_type_current.h``: unchanged).
4. ``neuron_model_lif_impl.h: neuron_model_state_update``: if refract_timer <= 0,
   I = exc - inh + i_offset, alpha = I * R + v_rest, V = alpha - exp_TC * (alpha - V)
   (``lif_neuron_closed_form``, GCC multiplies: floor); else refract_timer -= 1 (V held).
5. ``threshold_type_static.h``: spike if V >= v_thresh; then ``neuron_model_has_spiked``:
   V = v_reset, refract_timer = T_refract (0: tau_refrac = 0).
6. Shaping: delta I_x = 0; exponential I_x = decay_s1615(I_x, decay) (``exp_shaping``).

``hold`` is the refract_timer a population starts with (the state variable
``refract_timer``): the target holds each population for its lag, so that a constant
i_offset acts from the step its first input can arrive, as in the reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fixed
from .params import Cell

SLOT_MAX = 0xFFFF  # a ring-buffer slot is a uint16 that saturates (synapses.c)


@dataclass(frozen=True, eq=False)
class SpinnakerLif:
    """IF_curr_delta or IF_curr_exp (``cell.model``) for one population."""

    cell: Cell
    hold: int = 0
    ports = ("exc", "inh")
    state_vars = ("v", "isyn_exc", "isyn_inh")

    def start(self, size: int, batch: int, input_bound: int) -> "LifRunner":
        return LifRunner(self.cell, size, batch, self.hold)


class LifRunner:
    """The live state of one population: V, I_exc, I_inh, refract_timer (batch, size)."""

    def __init__(self, cell: Cell, size: int, batch: int, hold: int):
        self.cell, self.exp = cell, cell.model == "IF_curr_exp"
        shape = (batch, size)
        self.v = np.broadcast_to(cell.v_rest, shape).astype(np.int64)
        self.isyn_exc, self.isyn_inh = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        self.refract = np.full(shape, hold, np.int64)
        self.shift = np.array([cell.shift_exc, cell.shift_inh], np.int64)[:, None, None]
        self.exp_tc, self.r = cell.exp_tc, cell.resistance
        self.t_refract = int(fixed.ceil_accum(fixed.kdivk(0, cell.ts)))  # tau_refrac = 0
        if self.exp:
            self.decay, self.init = cell.synapse
        self.saturations: list[int] = []

    def step(self, a_in: np.ndarray) -> np.ndarray:
        slots = np.minimum(a_in, SLOT_MAX)
        self.saturations.append(int(np.count_nonzero(a_in > SLOT_MAX)))
        exc, inh = fixed.wrap(slots << self.shift)
        if self.exp:
            self.isyn_exc = fixed.wrap(self.isyn_exc + fixed.decay_s1615(exc, self.init))
            self.isyn_inh = fixed.wrap(self.isyn_inh + fixed.decay_s1615(inh, self.init))
            exc, inh = self.isyn_exc, self.isyn_inh
        else:
            scale = self.cell.delta_scale
            exc = fixed.mul(fixed.wrap(self.isyn_exc + exc), scale)
            inh = fixed.mul(fixed.wrap(self.isyn_inh + inh), scale)
        fired = self._membrane(exc, inh)
        if self.exp:
            self.isyn_exc = fixed.decay_s1615(self.isyn_exc, self.decay)
            self.isyn_inh = fixed.decay_s1615(self.isyn_inh, self.decay)
        return fired

    def _membrane(self, exc: np.ndarray, inh: np.ndarray) -> np.ndarray:
        cell, free = self.cell, self.refract <= 0
        current = fixed.wrap(exc - inh + cell.i_offset)
        alpha = fixed.wrap(fixed.mul(current, self.r) + cell.v_rest)
        v = fixed.wrap(alpha - fixed.mul(self.exp_tc, fixed.wrap(alpha - self.v)))
        self.v = np.where(free, v, self.v)
        self.refract = np.where(free, self.refract, self.refract - 1)
        fired = self.v >= cell.v_thresh
        self.v = np.where(fired, np.broadcast_to(cell.v_reset, fired.shape), self.v)
        self.refract = np.where(fired, self.t_refract, self.refract)
        return fired

    def scan(self, a_in: np.ndarray, probe) -> tuple[np.ndarray, dict]:
        fired = np.empty((a_in.shape[0], *a_in.shape[2:]), bool)
        traces = {var: np.empty(fired.shape, np.int64) for var in probe}
        for t in range(len(a_in)):
            fired[t] = self.step(a_in[t])
            for var in probe:
                traces[var][t] = self.state(var)
        return fired, traces

    def state(self, var: str) -> np.ndarray:
        return getattr(self, var).copy()

    def counts(self) -> dict[str, np.ndarray]:
        return {"ring_buffer_saturations": np.array(self.saturations, np.int64)}
