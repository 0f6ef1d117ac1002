"""Threshold balancing: scale weights so that IF rates stay below one spike per step.

An IF neuron (v += x, spike when v > 1, v -= 1) driven by a constant current x fires at a rate
that tends to min(max(x, 0), 1) spikes per step. So the SNN computes the ANN if every signal is
the ANN's activation divided by a scale lambda_l at which rates rarely saturate. Signals are
kept as a_l / lambda_l by rescaling each matrix or convolution between populations,

    W_l <- W_l * lambda_{l-1} / lambda_l,    b_l <- b_l / lambda_l,

with thresholds staying 1 (Rueckauer et al. 2017, "Conversion of continuous-valued deep
networks to efficient event-driven networks"; Diehl et al. 2015). The bias is a constant input
current added every step, as the IR's Affine does. The input is the analog image presented as
a constant current, so lambda_0 = 1. Pooling and flattening are linear and positively
homogeneous, so the scale passes through them.

lambda_l, per IF population:
- with calibration inputs: the p-th percentile (default 99.9) of the population's positive ANN
  activations over the calibration set ("robust normalization": the maximum is an outlier
  that would slow every other neuron down);
- without: the weight bound max_j (lambda_{l-1} sum_i max(W_ji, 0) + max(b_j, 0)), the largest
  activation possible for inputs in [0, 1] (Diehl et al.'s model-based normalization). No rate
  ever saturates, but typical rates are low, so it needs many more steps.
A non-spiking readout (I) gets lambda = 1, so its membrane divided by the step count tends to
the ANN's output itself.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from snnc.backends.reference.kernels import STATELESS
from snnc.errors import GraphError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

from .ops import WEIGHTED

PASS_THROUGH = (n.AvgPool2d, n.SumPool2d, n.Flatten)  # linear maps without parameters

Layers = list[tuple[str, n.Node]]
ScaleRule = Callable[[str, n.Node, n.Node, float], float]


def ann_forward(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's output under the rate limit of a converted graph, in float64.

    ``x`` is (N, *input_shape). Synapses compute as the reference simulator does; an IF node
    gives max(r x, 0) / v_threshold (its rate for a constant input, without the clipping at one
    spike per step) and an I node r x (its membrane's growth per step). Edges into a node sum.
    """
    options = SimOptions(dtype="float64")
    shapes, values = graph.shapes, {}
    for name in graph.order:
        node = graph.nodes[name]
        sources = graph.predecessors(name)
        if not sources:
            values[name] = np.asarray(x, dtype=np.float64)
            continue
        total = sum(values[s] for s in sources)
        if isinstance(node, n.IF):
            values[name] = np.maximum(node.r * total, 0) / node.v_threshold
        elif isinstance(node, n.I):
            values[name] = node.r * total
        elif type(node) in STATELESS:
            kernel = STATELESS[type(node)](node, options, shapes[sources[0]])
            values[name] = kernel.apply(total)
        else:
            raise GraphError(f"node '{name}' ({node.type_name}) has no ANN equivalent")
    return values


def percentile_scales(graph: Graph, calibration: np.ndarray, percentile: float) -> dict[str, float]:
    """lambda per IF node: the ``percentile`` of its positive activations on ``calibration``."""
    values = ann_forward(graph, calibration)
    scales = {}
    for name, node in graph.nodes.items():
        if isinstance(node, n.IF):
            positive = values[name][values[name] > 0]
            # a population that never fires on the calibration data keeps its weights
            scales[name] = float(np.percentile(positive, percentile)) if positive.size else 1.0
    return scales


def weight_bound(layer: n.Node, scale_in: float) -> float:
    """The largest output of ``layer`` for inputs in [0, scale_in]: a positive weight meets a
    full input, a negative one a zero input (1 if nothing can be positive)."""
    rows = np.maximum(layer.weight, 0).reshape(layer.weight.shape[0], -1).sum(axis=1)
    bound = float(np.max(scale_in * rows + np.maximum(getattr(layer, "bias", 0.0), 0)))
    return bound if bound > 0 else 1.0


def data_rule(scales: dict[str, float]) -> ScaleRule:
    """lambda from calibration data: measured per population, 1 for a non-spiking readout."""
    return lambda name, population, layer, scale_in: scales.get(name, 1.0)


def bound_rule(name: str, population: n.Node, layer: n.Node, scale_in: float) -> float:
    """lambda without data: the weight bound for an IF population, 1 for a non-spiking readout."""
    return weight_bound(layer, scale_in) if isinstance(population, n.IF) else 1.0


def balance(layers: Layers, rule: ScaleRule) -> tuple[Layers, dict[str, float]]:
    """Rescale each matrix or convolution to carry a_l / lambda_l into the population it feeds
    (through pooling or flattening only). One that feeds another synapse layer first keeps the
    scale of its input: W unchanged, b <- b / lambda. Returns the layers and the lambdas."""
    scale, balanced, lambdas = 1.0, [], {}
    for index, (name, layer) in enumerate(layers):
        if isinstance(layer, WEIGHTED):
            target = _population_fed(layers, index)
            new_scale = scale if target is None else rule(*target, layer, scale)
            if target is not None:
                lambdas[target[0]] = new_scale
            layer = _rescale(layer, scale / new_scale, 1 / new_scale)
            scale = new_scale
        balanced.append((name, layer))
    return balanced, lambdas


def _population_fed(layers: Layers, index: int) -> tuple[str, n.Node] | None:
    """The neuron population that layer ``index`` feeds through pass-through layers only."""
    for name, layer in layers[index + 1:]:
        if isinstance(layer, n.Neuron):
            return name, layer
        if not isinstance(layer, PASS_THROUGH):
            return None
    return None


def _rescale(layer: n.Node, weight_factor: float, bias_factor: float) -> n.Node:
    if isinstance(layer, n.Linear):
        return replace(layer, weight=layer.weight * weight_factor)
    return replace(layer, weight=layer.weight * weight_factor, bias=layer.bias * bias_factor)
