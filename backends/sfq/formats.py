"""Pulse-count weights for the ``quantize`` pass (``quantize{format=sfq}``).

A synapse delivers whole pulses (fluxons) to its neuron's excitatory or inhibitory port, so a
matrix's weights become signed pulse counts n times one fluxon's worth q = 2**e per matrix:
    W' = n * 2**e,  |n| <= 2**(bits-1) - 1,  e the finest exponent that clips nothing.
A deterministic synapse sends |n| pulses per spike; a stochastic gate passes each of its
pulses with p = |n| / (pulses_per_spike * u), u the fluxon worth of the matrix's port (its
largest |n|, rounded up to a multiple), so the mean is n. Biases (the neuron's bias current)
take their own power-of-two unit with ``formats.bias_mant_bits``. Every value on these grids
is an exactly representable float32 integer multiple, so the reference's float sums of the
quantized graph equal the emulator's integer pulse counts times q: bit-exact when no pulse is
lost. hw of a matrix: format, weight_bits, weight_exp, bias_exp, delay_steps (per synapse,
for the circuit mapping); of a population: format.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.passes.quant_formats import (MATRICES, Quantized, Setting, mantissas, pow2_exponent,
                                       sqnr_db)


def quantize_sfq(graph: Graph, setting: Setting) -> Quantized:
    hi = 2 ** (setting.bits - 1) - 1
    bias_hi = 2 ** (setting.need("bias_mant_bits") - 1) - 1
    result = Quantized({}, {})
    for name, node in graph.nodes.items():
        if isinstance(node, MATRICES):
            result.nodes[name], result.layers[name] = _matrix(name, node, hi, bias_hi, setting)
        elif isinstance(node, n.Neuron):
            result.nodes[name] = dataclasses.replace(node, hw={**node.hw, "format": "sfq"})
    return result


def _matrix(name: str, node: n.Node, hi: int, bias_hi: int,
            setting: Setting) -> tuple[n.Node, dict]:
    peak = float(np.abs(node.weight).max(initial=0))
    exp = pow2_exponent(peak, hi) - setting.choice.get(name, 0)
    m, clipped = mantissas(node.weight, 2.0 ** exp, -hi, hi)
    changes = {"weight": (m * 2.0 ** exp).astype(node.weight.dtype)}
    hw = {"format": "sfq", "weight_bits": setting.bits, "weight_exp": exp,
          "delay_steps": _delay_steps(node, setting.options.dt)}
    if getattr(node, "bias", None) is not None:
        hw["bias_exp"] = pow2_exponent(float(np.abs(node.bias).max(initial=0)), bias_hi)
        m_bias, _ = mantissas(node.bias, 2.0 ** hw["bias_exp"], -bias_hi, bias_hi)
        changes["bias"] = (m_bias * 2.0 ** hw["bias_exp"]).astype(node.bias.dtype)
    report = {"sqnr_db": sqnr_db(node.weight, changes["weight"]), "weight_exp": exp,
              "clipped": clipped, "max_pulses": int(np.abs(m).max(initial=0))}
    return dataclasses.replace(node, **changes, hw={**node.hw, **hw}), report


def _delay_steps(node: n.Node, dt: float) -> int | np.ndarray:
    """A matrix's synaptic delays in steps (one int when they are all equal)."""
    if getattr(node, "delay", None) is None:
        return 0
    steps = np.rint(np.asarray(node.delay) / dt).astype(np.int64)
    return int(steps.flat[0]) if steps.size and np.all(steps == steps.flat[0]) else steps
