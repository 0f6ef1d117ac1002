"""A graph population quantized for Loihi as one Lava neuron process: ``LIF`` (v <- 0 on a
spike: to_v_reset, zero) or, for a subtract reset, a reset-free ``ATRLIF`` (``subtract``).

The LIF's constants come from the population's ``hw`` (``snnc.backends.loihi.formats``); its
initial v is the reference's (v_leak, or v_reset for IF) as S (v0 - origin), rounded, with
origin the float v that Lava's v = 0 stands for (``subtract.origin``). A population ``lag``
matrices from the input gets no input before Lava's step ``lag`` but its bias acts from
step 0, so its v starts ``lag`` steps back along the bias-only update (``rewound``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from snnc.errors import OptionError
from snnc.ir import nodes as n
from snnc.options import SimOptions

from . import subtract
from .processes import AtrLif, Lif
from .resets import reset_problem


def population(name: str, node: n.Neuron, options: SimOptions, lag: int, fmt, pipeline: str
               ) -> Lif | AtrLif:
    """The Lava process of one population (``pipeline``: the default one, named in errors)."""
    reset = node.reset or options.reset if node.spiking else "to_v_reset"
    if subtract.runs_as_atrlif(node, options):
        return subtract.atrlif(name, node, lag, fmt, pipeline)
    if not (reset == "to_v_reset" or (reset == "zero" and not np.any(node.v_reset))):
        raise OptionError(f"population '{name}': "
                          f"{reset_problem(reset, pipeline, type(node).__name__)}")
    v0 = getattr(node, "v_leak", subtract.origin(node)) - subtract.origin(node)
    v0 = np.broadcast_to(np.rint(node.hw["scale"] * v0), node.shape).reshape(-1).astype(np.int64)
    hw, size = node.hw, int(np.prod(node.shape))
    lif = Lif(size=size, du=scalar(name, hw, "du"), dv=scalar(name, hw, "dv"),
              vth=scalar(name, hw, "vth"), bias_mant=per_neuron(node, "bias_mant"),
              bias_exp=per_neuron(node, "bias_exp"), v=v0)
    return dataclasses.replace(lif, v=rewound(lif, lag, fmt))


def per_neuron(node: n.Neuron, key: str) -> np.ndarray:
    return np.broadcast_to(np.asarray(node.hw[key], np.int64), node.shape).reshape(-1)


def scalar(pop_name: str, hw: dict, key: str) -> int:
    value = np.asarray(hw[key])
    if value.size > 1 and np.ptp(value):
        raise OptionError(f"population '{pop_name}': {key} differs per neuron but Lava shares it "
                          f"per population (see the quantize report's per_neuron)")
    return int(value.reshape(-1)[0])


def rewound(lif: Lif, lag: int, fmt, highest: int | None = None) -> np.ndarray:
    """The v to start from so that v is the reference's initial v0 after ``lag`` steps.

    A population ``lag`` matrices from the input gets no input before Lava's step ``lag``,
    but its bias (v_leak's drive and an Affine bias in bias_mant) acts from step 0: v <-
    decay(v, dv) + bias (u stays 0). So v starts ``lag`` steps back along that map: decay
    truncates toward 0 and keeps D - dv < D of D, so it takes every integer value and each
    step back has an exact integer preimage. Where a step back would fire the neuron (v
    above ``highest``: the LIF's vth << threshold_shift by default) or leave the 24-bit
    range, v0 stays as it is and the bias acts early, as before."""
    unity, v = 2 ** fmt.decay_bits, np.asarray(lif.v, np.int64)
    keep = unity - lif.dv  # >= 1: dv has decay_bits bits
    bias = np.asarray(lif.bias_mant, np.int64) << np.asarray(lif.bias_exp, np.int64)
    bound = 2 ** (fmt.state_bits - 1) - 1
    top = min(lif.vth << fmt.threshold_shift if highest is None else highest, bound)
    for _ in range(lag):
        target = v - bias  # decay(previous, dv) must equal this
        # the smallest |previous| whose scaled value truncates (toward 0) to target
        previous = np.where(target >= 0, -((-target * unity) // keep), (target * unity) // keep)
        if np.any(previous > top) or np.any(previous < -bound):
            return np.asarray(lif.v, np.int64)
        v = previous
    return v
