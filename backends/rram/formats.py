"""Resistive-crossbar conductance levels for the ``quantize`` pass (``quantize{format=rram}``)."""
from __future__ import annotations

import dataclasses

import numpy as np

from snnc.ir import Graph
from snnc.ir.nodes import Neuron
from snnc.passes.quant_formats import MATRICES, Quantized, Setting, mantissas, sqnr_db

PERCENTILES = (100.0, 99.9, 99.5, 99.0)  # of |w|: the calibration's clipping candidates


def quantize_rram(graph: Graph, setting: Setting) -> Quantized:
    """Conductance levels: each weight is a differential pair G+ - G- of devices with 2**bits
    levels (``weight_bits``), one device at g_off and the other at g_off + |m| dG, so
    W' = m * step with |m| <= 2**bits - 1 and step = (a percentile of |w|, the maximum unless
    calibrated) / (2**bits - 1), per layer. Biases are added by the digital periphery and stay
    float; ADC quantization of the column currents is the backend's (not modelled here).
    Neurons are the digital periphery's and keep their float parameters (marked as RRAM's).
    hw: format, levels, weight_step (matrices); format (neurons)."""
    top = 2 ** setting.bits - 1
    result = Quantized({}, {})
    for name, node in graph.nodes.items():
        if isinstance(node, Neuron):
            result.nodes[name] = dataclasses.replace(node, hw={**node.hw, "format": "rram"})
        if not isinstance(node, MATRICES):
            continue
        magnitudes = np.abs(node.weight[node.weight != 0])
        percentile = PERCENTILES[setting.choice.get(name, 0)]
        peak = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
        step = peak / top if peak > 0 else 1.0
        m, clipped = mantissas(node.weight, step, -top, top)
        weight = (m * step).astype(node.weight.dtype)
        hw = {"format": "rram", "levels": top + 1, "weight_step": step}
        result.nodes[name] = dataclasses.replace(node, weight=weight, hw={**node.hw, **hw})
        result.layers[name] = {"sqnr_db": sqnr_db(node.weight, weight), "weight_step": step,
                               "clip_percentile": percentile, "clipped": clipped}
    return result
