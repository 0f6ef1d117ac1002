"""sPyNNaker's number formats for the ``quantize`` pass (``quantize{format=spinnaker}``)."""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.passes.quant_formats import (Quantized, Setting, dequantize, flat_rows, mantissas,
                                       quantized_gain, relative_error, rows, sources, sqnr_db,
                                       summed_input, targets)


def ring_buffer_shift(peak: float) -> int:
    """sPyNNaker's shift for a synapse type: the smallest s >= 0 with 2**s > the largest summed
    weight, so the sum fits 15 bits of the 16-bit ring-buffer slot."""
    if peak <= 0:
        return 0
    shift = max(0, int(np.ceil(np.log2(peak))))
    return shift + 1 if 2.0 ** shift <= peak else shift


def quantize_spinnaker(graph: Graph, setting: Setting) -> Quantized:
    """sPyNNaker's formats. Weights are unsigned 16-bit (``bits``) with the sign from the
    synapse type: per population and type the ring-buffer shift s comes from the largest summed
    weight (all inputs spiking in one step, sPyNNaker's cap), and |w| -> rint(|w| 2**(15-s)) /
    2**(15-s). A matrix feeding several populations takes the largest shift (powers of two
    nest, so its weights fit every target). Thresholds, resets, leaks and biases (i_offset) go
    to s16.15 (``state_frac_bits``), the decay 1 - g too, as sPyNNaker's exp_TC. The synaptic
    decay is u0.32 on the chip, finer than float32, so it stays.
    hw of a matrix and of a population: format, shift_exc, shift_inh (matrix: weight_bits)."""
    reach = targets(graph)
    shifts = {pop: _type_shifts(graph, inputs) for pop, inputs in sources(reach).items()}
    result = Quantized({}, {})
    for name, pops in reach.items():
        node = graph.nodes[name]
        if pops:
            a = rows(node, next(iter(pops.values())))
            shift = (max(shifts[p][0] for p in pops), max(shifts[p][1] for p in pops))
        else:
            a, shift = np.ones(()), _type_shifts(graph, {name: np.ones(())})
        result.nodes[name], result.layers[name] = _spinnaker_matrix(node, a, shift, setting)
    for name, node in graph.nodes.items():
        if isinstance(node, n.Neuron):
            exc, inh = shifts.get(name, (0, 0))
            node, report = _s1615_population(node, setting)
            result.nodes[name] = dataclasses.replace(node, hw={
                **node.hw, "format": "spinnaker", "shift_exc": exc, "shift_inh": inh})
            result.populations[name] = {**report, "shift_exc": exc, "shift_inh": inh}
    return result


def _type_shifts(graph: Graph, inputs: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """The (excitatory, inhibitory) ring-buffer shifts for these inputs."""
    exc, inh = summed_input(graph, inputs)
    return ring_buffer_shift(exc), ring_buffer_shift(inh)


def _spinnaker_matrix(node: n.Node, a: np.ndarray, shift: tuple[int, int],
                      setting: Setting) -> tuple[n.Node, dict]:
    top, effective = 2 ** setting.bits - 1, a * node.weight
    parts, clipped = [], 0
    for part, s in zip((np.maximum(effective, 0), np.maximum(-effective, 0)), shift):
        step = 2.0 ** (s - (setting.bits - 1))
        m, count = mantissas(part, step, 0, top)
        parts.append(m * step)
        clipped += count
    changes = {"weight": dequantize(parts[0] - parts[1], a, node.weight)}
    if hasattr(node, "bias"):  # the population's i_offset
        per_row = flat_rows(node, a)
        changes["bias"] = dequantize(_s1615(per_row * node.bias, setting)[0], per_row, node.bias)
    hw = {"format": "spinnaker", "weight_bits": setting.bits, "shift_exc": shift[0],
          "shift_inh": shift[1]}
    report = {"sqnr_db": sqnr_db(node.weight, changes["weight"]), "shift_exc": shift[0],
              "shift_inh": shift[1], "clipped": clipped}
    return dataclasses.replace(node, **changes, hw={**node.hw, **hw}), report


def _s1615(values: np.ndarray, setting: Setting) -> tuple[np.ndarray, int]:
    """Values on the s16.15 grid (2**-state_frac_bits), clipped to the signed state width."""
    frac, top = setting.need("state_frac_bits"), 2 ** (setting.need("state_bits") - 1) - 1
    m, clipped = mantissas(values, 2.0 ** -frac, -top, top)
    return m * 2.0 ** -frac, clipped


def _s1615_population(node: n.Neuron, setting: Setting) -> tuple[n.Neuron, dict]:
    changes, clipped, report = {}, 0, {}
    for name in ("v_threshold", "v_reset", "v_leak"):
        if hasattr(node, name):
            changes[name], count = _s1615(getattr(node, name), setting)
            clipped += count
    if "v_threshold" in changes:
        report["threshold_error"] = relative_error(node.v_threshold, changes["v_threshold"])
    tau = "tau" if hasattr(node, "tau") else "tau_mem" if hasattr(node, "tau_mem") else None
    if tau:  # exp_TC = 1 - g on the s16.15 grid; g = 0 (no leak) is not a LIF
        unity = 2 ** setting.need("state_frac_bits")
        _, changes[tau] = quantized_gain(getattr(node, tau), unity, 1, unity, setting.options)
        report["tau_error"] = relative_error(getattr(node, tau), changes[tau])
    report["clipped"] = clipped
    return dataclasses.replace(node, **changes), report


