"""Number formats of the ``quantize`` pass: the shared grid arithmetic, how a matrix reaches
its populations, and the generic ``int``, SpiNNaker and RRAM formats (Loihi: ``quant_loihi``).

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

from snnc.backends.reference.neurons import gain
from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

MATRICES = (n.Affine, n.Linear, n.Conv1d, n.Conv2d)
PASS_THROUGH = (n.Scale, n.Delay)  # between a matrix and its population; Delay scales by 1
RRAM_PERCENTILES = (100.0, 99.9, 99.5, 99.0)  # of |w|: the calibration's clipping candidates


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
    safe = np.where(a == 0, 1.0, a)
    return np.where(a == 0, original, values / safe).astype(original.dtype)


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


# -- SpiNNaker ----------------------------------------------------------------------------------


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


# -- RRAM ---------------------------------------------------------------------------------------


def quantize_rram(graph: Graph, setting: Setting) -> Quantized:
    """Conductance levels: each weight is a differential pair G+ - G- of devices with 2**bits
    levels (``weight_bits``), one device at g_off and the other at g_off + |m| dG, so
    W' = m * step with |m| <= 2**bits - 1 and step = (a percentile of |w|, the maximum unless
    calibrated) / (2**bits - 1), per layer. Biases are added by the digital periphery and stay
    float; ADC quantization of the column currents is the backend's (not modelled here).
    hw: format, levels, weight_step."""
    top = 2 ** setting.bits - 1
    result = Quantized({}, {})
    for name, node in graph.nodes.items():
        if not isinstance(node, MATRICES):
            continue
        magnitudes = np.abs(node.weight[node.weight != 0])
        percentile = RRAM_PERCENTILES[setting.choice.get(name, 0)]
        peak = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
        step = peak / top if peak > 0 else 1.0
        m, clipped = mantissas(node.weight, step, -top, top)
        weight = (m * step).astype(node.weight.dtype)
        hw = {"format": "rram", "levels": top + 1, "weight_step": step}
        result.nodes[name] = dataclasses.replace(node, weight=weight, hw={**node.hw, **hw})
        result.layers[name] = {"sqnr_db": sqnr_db(node.weight, weight), "weight_step": step,
                               "clip_percentile": percentile, "clipped": clipped}
    return result
