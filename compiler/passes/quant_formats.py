"""Number formats of the ``quantize`` pass: the shared grid arithmetic, how a matrix reaches
its populations, and the generic ``int`` format. A chip's own formats live in its backend
(``snnc.backends.loihi.formats``, ``...spinnaker.formats``, ``...rram.formats``) and reach
``quantize`` through the chip family (``snnc.target.Family.formats``).

Every format quantizes a matrix W (out, in, ...) through a per-row factor a, the chip's
integer units per unit of the matrix's float output at the population it feeds:
    M = a * W,   M ~ m * step,   m integer in [lo, hi],   W' = m * step / a.
The graph keeps W' (dequantized floats), so the reference simulation computes what the chip's
integers do. For ``int`` and RRAM a = 1; for SpiNNaker a is the product of the Scale nodes on
the way to the population; Loihi's a also carries the neuron's gain and voltage scale.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions, gain

MATRICES = (n.Affine, n.Linear, n.Conv1d, n.Conv2d)
PASS_THROUGH = (n.Scale, n.Delay)  # between a matrix and its population; Delay scales by 1


@dataclass(frozen=True)
class Setting:
    """What a format needs: the chip model (None for ``int``), the weight width in bits, the
    simulation options, and per matrix the calibration's candidate (0: the max-abs rule)."""

    chip: Any
    bits: int
    options: SimOptions
    choice: Mapping[str, int] = field(default_factory=dict)

    def need(self, name: str) -> Any:
        """A chip format field the format cannot work without."""
        value = getattr(self.chip.formats, name)
        if value is None:
            raise OptionError(f"chip '{self.chip.name}' gives no formats.{name}, which "
                              "quantize needs for this format")
        return value


@dataclass
class Quantized:
    """A format's result: the replaced nodes and the report entries."""

    nodes: dict[str, n.Node]
    layers: dict[str, dict[str, Any]]
    populations: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


# -- grid arithmetic ----------------------------------------------------------------------------


def mantissas(values: np.ndarray, step: float, lo: float, hi: float) -> tuple[np.ndarray, int]:
    """Nearest integers m = rint(values / step) clipped to [lo, hi], and how many clipped."""
    raw = np.rint(np.asarray(values, dtype=np.float64) / step)
    return np.clip(raw, lo, hi), int(np.count_nonzero((raw < lo) | (raw > hi)))


def pow2_exponent(peak: float, hi: float) -> int:
    """The smallest e with peak <= hi * 2**e: the finest power-of-two step that clips nothing."""
    if peak <= 0:
        return 0
    exp = int(np.ceil(np.log2(peak / hi)))
    if peak > hi * 2.0 ** exp:  # log2 can round either way
        exp += 1
    elif peak <= hi * 2.0 ** (exp - 1):
        exp -= 1
    return exp


def sqnr_db(weight: np.ndarray, quantized: np.ndarray) -> float | None:
    """10 log10(sum w^2 / sum (w - w_q)^2); None when the quantization is exact."""
    noise = float(np.sum((weight.astype(np.float64) - quantized) ** 2))
    signal = float(np.sum(weight.astype(np.float64) ** 2))
    return round(float(10 * np.log10(signal / noise)), 2) if noise > 0 else None


def compact(values: np.ndarray) -> int | np.ndarray:
    """One int when every neuron shares the value, else the int array (for ``hw``)."""
    values = np.asarray(values).astype(np.int64)
    return int(values.flat[0]) if values.size and np.all(values == values.flat[0]) else values


def relative_error(old: np.ndarray, new: np.ndarray) -> float:
    """Largest |new - old| / |old| (absolute where old is 0)."""
    old = np.asarray(old, dtype=np.float64)
    scale = np.where(old == 0, 1.0, np.abs(old))
    return float(np.max(np.abs(np.asarray(new, dtype=np.float64) - old) / scale, initial=0.0))


def quantized_gain(tau: np.ndarray, unity: int, lo: int, hi: int,
                   options: SimOptions) -> tuple[np.ndarray, np.ndarray]:
    """A decay on the grid 1/unity: k = rint(unity * g) clipped to [lo, hi] for the per-step
    gain g (dt/tau, or 1 - exp(-dt/tau)); returns k and the time constant whose gain is k/unity.
    The exp integrator cannot reach g = 1 (tau would be 0), so it stops one step short."""
    if options.integrator == "exp":
        hi = min(hi, unity - 1)
    k, _ = mantissas(gain(tau, options), 1.0 / unity, lo, hi)
    return k.astype(np.int64), tau_for_gain(k / unity, options)


def tau_for_gain(g: np.ndarray, options: SimOptions) -> np.ndarray:
    """The time constant whose per-step gain is g: the inverse of the reference's ``gain``."""
    if options.integrator == "euler":
        return options.dt / g
    return -options.dt / np.log1p(-g)


# -- where matrices lead ------------------------------------------------------------------------


def targets(graph: Graph) -> dict[str, dict[str, np.ndarray]]:
    """matrix -> {population: factor}: the populations a matrix's output reaches through Scale
    and Delay nodes only, each with the product of those scales (population-shaped, summed over
    parallel paths). A matrix that reaches no population maps to {}."""
    found = {}
    for name, node in graph.nodes.items():
        if isinstance(node, MATRICES):
            found[name] = {}
            _follow(graph, name, np.ones(()), found[name], set())
    return found


def _follow(graph: Graph, name: str, factor: np.ndarray, out: dict, seen: set) -> None:
    for successor in graph.successors(name):
        node = graph.nodes[successor]
        if isinstance(node, n.Neuron):
            out[successor] = out.get(successor, 0) + np.broadcast_to(factor, node.shape)
        elif isinstance(node, PASS_THROUGH) and successor not in seen:
            seen.add(successor)
            scale = node.scale if isinstance(node, n.Scale) else 1.0
            _follow(graph, successor, factor * scale, out, seen)


def sources(reach: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """population -> {matrix: factor}, the inverse of ``targets``."""
    inverse: dict[str, dict[str, np.ndarray]] = {}
    for matrix, pops in reach.items():
        for pop, factor in pops.items():
            inverse.setdefault(pop, {})[matrix] = factor
    return inverse


def rows(node: n.Node, factor: np.ndarray) -> np.ndarray:
    """A population-shaped factor as one value per output row (channel) of ``node``, shaped to
    broadcast against its weight. A convolution shares its kernel over positions, so a factor
    that varies over them is averaged: exact only when it is uniform per channel."""
    out, factor = node.weight.shape[0], np.asarray(factor, dtype=np.float64)
    per_row = np.full(out, float(factor)) if factor.ndim == 0 else \
        factor.reshape(out, -1).mean(axis=1)
    return per_row.reshape(out, *([1] * (node.weight.ndim - 1)))


def row_sums(node: n.Node, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per output row, the sums of the positive and of the negative parts of a * W."""
    effective = (a * node.weight).reshape(node.weight.shape[0], -1)
    return np.maximum(effective, 0).sum(axis=1), np.maximum(-effective, 0).sum(axis=1)


def summed_input(graph: Graph, inputs: Mapping[str, np.ndarray],
                 gain: np.ndarray | float = 1.0) -> tuple[float, float]:
    """The largest excitatory and inhibitory input that one step of binary spikes can bring to
    a neuron: per neuron, the positive and negative parts of gain * factor * W summed over all
    matrices into it (with their path factors), then the maximum over neurons."""
    total_exc, total_inh = 0.0, 0.0
    for matrix, factor in inputs.items():
        node = graph.nodes[matrix]
        exc, inh = row_sums(node, rows(node, gain * factor))
        shape = np.shape(gain * factor) or exc.shape
        total_exc = total_exc + per_neuron(exc, shape)
        total_inh = total_inh + per_neuron(inh, shape)
    return float(np.max(total_exc, initial=0.0)), float(np.max(total_inh, initial=0.0))


def flat_rows(node: n.Node, a: np.ndarray) -> np.ndarray:
    """A row factor from ``rows`` (or a scalar) as one value per output row, like a bias."""
    return np.broadcast_to(a, (node.weight.shape[0],) + (1,) * (node.weight.ndim - 1)).ravel()


def dequantize(values: np.ndarray, a: np.ndarray, original: np.ndarray) -> np.ndarray:
    """values / a in the original's dtype; rows the population ignores (a = 0) keep theirs."""
    ignored = a == 0
    if not np.any(ignored):  # the common case, without two passes of np.where over W
        return (values / a).astype(original.dtype)
    safe = np.where(ignored, 1.0, a)
    return np.where(ignored, original, values / safe).astype(original.dtype)


def per_neuron(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per-row values spread over a population (a channel's value to each of its positions)."""
    return np.broadcast_to(values.reshape(-1, *([1] * (len(shape) - 1))), shape)


# -- int ----------------------------------------------------------------------------------------


def quantize_int(graph: Graph, setting: Setting) -> Quantized:
    """Symmetric per-layer integers: W' = m * 2**e with |m| <= 2**(bits-1) - 1 and e the finest
    exponent that clips nothing (lowered by the calibration's choice); a bias likewise with its
    own exponent. hw: format, weight_bits, weight_exp (and bias_exp)."""
    hi = 2 ** (setting.bits - 1) - 1
    result = Quantized({}, {})
    for name, node in graph.nodes.items():
        if not isinstance(node, MATRICES):
            continue
        exp = pow2_exponent(float(np.abs(node.weight).max()), hi) - setting.choice.get(name, 0)
        m, clipped = mantissas(node.weight, 2.0 ** exp, -hi, hi)
        changes = {"weight": (m * 2.0 ** exp).astype(node.weight.dtype)}
        hw = {"format": "int", "weight_bits": setting.bits, "weight_exp": exp}
        if hasattr(node, "bias"):
            hw["bias_exp"] = pow2_exponent(float(np.abs(node.bias).max(initial=0)), hi)
            m_bias, _ = mantissas(node.bias, 2.0 ** hw["bias_exp"], -hi, hi)
            changes["bias"] = (m_bias * 2.0 ** hw["bias_exp"]).astype(node.bias.dtype)
        result.nodes[name] = dataclasses.replace(node, **changes, hw={**node.hw, **hw})
        result.layers[name] = {"sqnr_db": sqnr_db(node.weight, changes["weight"]),
                               "weight_exp": exp, "clipped": clipped}
    return result
