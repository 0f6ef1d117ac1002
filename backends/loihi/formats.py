"""The Loihi format of the ``quantize`` pass: Lava 0.10's bit-accurate LIF and Dense models.

Lava keeps integer u and v; with D = 2**decay_bits (4096) and the shifts of the chip model
(input_shift = threshold_shift = 6):
    a_in = (sum of the Dense weights of this step's spikes) << weight_exp
    u <- u (D - (du + 1)) / D + (a_in << input_shift)          (du + current_decay_offset)
    v <- v (D - dv) / D + u + (bias_mant << bias_exp)
    spike if v > vth << threshold_shift; then v <- 0.
The IR's forward-Euler LIF, written relative to its reset value,
    v - v_reset <- (1 - g)(v - v_reset) + g (v_leak - v_reset + r b) + g r W s,
is that neuron with du = D - 1 (u holds this step's input only: no current memory) and, for a
voltage scale S per population (integer units per unit of v):
    dv = D g,   v_int = S (v - v_reset),   a_in << input_shift = S g r W s,
    bias = S g (v_leak - v_reset + r b),   vth << threshold_shift = S (v_threshold - v_reset),
so a matrix row's factor (integer units per unit of its output, see quant_formats) is
a = S g r, times any Scale on the way. IF and I have no leak: dv = 0, a = S r, bias S r b.
LI is LIF without a threshold (measured from 0, not v_reset). CubaLIF's current is u in
voltage units, u_int = S g r i, so (du + 1) / D = g_syn and a = S g r w_in g_syn; its v bias is
S g (v_leak - v_reset) alone, because an Affine bias enters the current, where Lava has no
bias: it is quantized as one more weight column, from a neuron that spikes every step.

Choices, all per population:
- Decays: dv = rint(D g) in [1, D-1] (dv = 0 would remove the leak), du + 1 = rint(D g_syn) in
  [1, D]; the graph gets tau' = dt D / dv (euler), so the reference uses exactly these decays.
- Scale: S = 2**k / max|g r ...|, so S g r is a power of two wherever g r is uniform and the
  float weights are exactly m * 2**e. k is the largest integer that keeps S (v_threshold -
  v_reset) within threshold_bits << threshold_shift and the state width, and the largest
  one-step input of binary spikes (all inputs of one sign at once) within the state width:
  u wraps there. A CubaLIF's current keeps (1 - g_syn) of itself per step, so that input
  held every step sums to 1 / g_syn times it: that sum is what must fit (the differential
  tests found u wrapping at 2-75x the width when only one step was counted). (Lava does not saturate a_in to its int16 declaration, input_bits, so u's
  width is the one that binds.) Weight precision does not depend on S (the exponent absorbs
  it); S sets the resolution of the threshold, the bias and the integer membrane.
- Readouts (LI, CubaLI): Lava has no non-spiking LIF, so they run as an LIF with the largest
  threshold, vth = 2**threshold_bits - 1, and S small enough that v can never exceed it: for
  any input, |v| <= |v_leak| + (P + B) / (g g_syn) (g_syn = 1 for LI) with P the largest
  one-step input of binary spikes and B the largest Affine bias input (both through the
  factor), since v - v_leak relaxes by g per step toward r i and i by g_syn toward its input.
  Rounding to nearest at most doubles any weight or bias (|rint(x)| <= 2 |x| where rint(x) !=
  0) and Lava's decays truncate toward 0, so the integer |v| <= 2 S bound: S keeps twice the
  bound within vth << threshold_shift, and no spike can happen. (The threshold alone could
  not prevent one: v saturates at 2**23 - 1, above the largest (2**17 - 1) << 6.)
- Weights: the sign mode is Lava's inference on a * W: all >= 0 EXCITATORY (m in
  [0, 2**n - 1]), all <= 0 INHIBITORY (m in [-(2**n - 1), 0]), else MIXED (m in
  [-2**(n'-1), 2**(n'-1) - 1]), n = ``bits`` or weight_bits, n' = n - (weight_bits -
  weight_bits_mixed). Lava stores m << t, t = weight_bits - n (+1 for MIXED: its even
  weights), so a W = m 2**(t + weight_exp + input_shift), with the finest weight_exp that clips
  nothing (lowered by the calibration's choice), but not below 0: Lava floors a_accum >>
  -weight_exp, which would drop input the float graph keeps; at 0 the coarser mantissas are
  exact. The chip's weight_exp_min/max bound it further where the model gives them.
- Threshold: vth = rint(S theta / 2**threshold_shift) within threshold_bits (unsigned).
- Bias: per neuron mant << exp, mant signed bias_mant_bits, exp in [0, 2**bias_exp_bits - 1],
  the smallest exponent that fits. The float graph takes the rounding into the bias of an
  Affine that feeds only this population, else into v_leak; populations where neither exists
  are listed in report["bias_residual"].
- Subtract resets (``subtract_next`` on LIF/IF, snnTorch's default) run as a reset-free
  ATRLIF with a self-connection of weight -vth (``subtract``): origin 0 instead of v_reset
  (the reset subtracts v_threshold itself), vth within 12 bits and on the 8-bit weight grid
  m 2**e (m <= 255, ``on_weight_grid``), so S keeps S v_threshold within 4080 << 6; an IF's
  v_reset (its initial v) is rounded onto S's integer grid. hw["reset"] = "subtract_next"
  marks them, and report["atrlif"] lists them.
- Lava shares du, dv and vth per population (decay_scope, threshold_scope); a population whose
  values differ per neuron is quantized per neuron anyway and listed in report["per_neuron"],
  for ``check`` to refuse.

hw of a matrix: format, sign_mode, num_weight_bits, weight_exp (Lava's), target (the
population whose scale it uses). hw of a population: format, dv, du, vth (the largest for
readouts), bias_mant, bias_exp, scale (S): ints, or int arrays where they differ per neuron.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.ir import Graph
from snnc.ir import nodes as n

from snnc.passes.quant_formats import (Quantized, Setting, compact, dequantize, flat_rows,
                                       mantissas, per_neuron, pow2_exponent, quantized_gain,
                                       relative_error, rows, sources, sqnr_db, summed_input,
                                       targets)

from .subtract import RESET, THETA_TOP, on_weight_grid, origin_for, wants_atrlif

CUBA = (n.CubaLIF, n.CubaLI)
NO_LEAK = (n.IF, n.I)


@dataclass(frozen=True)
class _Widths:
    """The chip's integer formats, with the weight widths resolved for this run."""

    unity: int
    du_offset: int
    input_shift: int
    state_limit: float
    threshold_bits: int
    threshold_shift: int
    bias_bits: int
    bias_exp_max: int
    weight_bits: int
    bits: int
    mixed_bits: int
    exp_range: tuple[int | None, int | None]

    @classmethod
    def of(cls, setting: Setting) -> "_Widths":
        need, formats = setting.need, setting.chip.formats
        wide = need("weight_bits")
        return cls(unity=2 ** need("decay_bits"), du_offset=formats.current_decay_offset or 0,
                   input_shift=need("input_shift"),
                   state_limit=float(2 ** (need("state_bits") - 1) - 1),
                   threshold_bits=need("threshold_bits"), threshold_shift=need("threshold_shift"),
                   bias_bits=need("bias_mant_bits"), bias_exp_max=2 ** need("bias_exp_bits") - 1,
                   weight_bits=wide, bits=setting.bits,
                   mixed_bits=setting.bits - (wide - need("weight_bits_mixed")),
                   exp_range=(max(0, formats.weight_exp_min or 0), formats.weight_exp_max))

    def grid(self, mode: str) -> tuple[int, int, int]:
        """(lo, hi, t): the mantissa range of a sign mode and the shift t Lava stores it with."""
        if mode == "mixed":
            half = 2 ** (self.mixed_bits - 1)
            return -half, half - 1, self.weight_bits + 1 - self.mixed_bits
        top = 2 ** self.bits - 1
        return (0, top, self.weight_bits - self.bits) if mode == "excitatory" else \
            (-top, 0, self.weight_bits - self.bits)


@dataclass
class _Population:
    """A population on its way through: quantized decays, the factor a / S per neuron."""

    node: n.Neuron
    leak: np.ndarray  # g = dv / D (0 for IF and I)
    factor: np.ndarray
    scale: float
    hw: dict[str, Any]
    report: dict[str, Any]
    origin: np.ndarray | float = 0.0  # the float v that Lava's v = 0 stands for
    atrlif: bool = False  # a subtract reset, run as a reset-free ATRLIF (subtract.py)


def quantize_loihi(graph: Graph, setting: Setting) -> Quantized:
    """Populations first (decays, scale), then the matrices that feed them, then thresholds and
    biases (an IF's bias rounding may land in a feeding Affine's quantized bias)."""
    spec, reach = _Widths.of(setting), targets(graph)
    inputs = sources(reach)
    plans = {name: _plan(graph, node, inputs.get(name, {}), spec, setting)
             for name, node in graph.nodes.items() if isinstance(node, n.Neuron)}
    exclusive = {m for m, pops in reach.items() if len(pops) == 1}
    result = Quantized({}, {}, notes={"per_neuron": {}, "unmapped": [], "shared": [],
                                      "bias_residual": [], "atrlif": []})
    for name, pops in reach.items():
        result.nodes[name], result.layers[name] = _matrix(graph.nodes[name], name, pops, plans,
                                                          spec, setting)
        if not pops:
            result.notes["unmapped"].append(name)
        elif len(pops) > 1:
            result.notes["shared"].append(name)
    for name, plan in plans.items():
        _threshold_and_bias(name, plan, inputs.get(name, {}), exclusive, result, spec)
        result.nodes[name] = dataclasses.replace(plan.node, hw={**plan.node.hw, **plan.hw})
        result.populations[name] = plan.report
        varying = _per_neuron(graph.nodes[name], plan.origin)
        if varying:
            result.notes["per_neuron"][name] = varying
        if plan.atrlif:
            result.notes["atrlif"].append(name)
    return result


def _plan(graph: Graph, node: n.Neuron, inputs: dict, spec: _Widths, setting: Setting
          ) -> _Population:
    """Quantize the decays and choose the scale S (see the module docstring)."""
    unity, report, changes = spec.unity, {}, {}
    du = np.full(node.shape, unity - spec.du_offset)  # (du + offset) / D = 1: no current memory
    settle = np.zeros(node.shape)  # g g_syn: the fraction of a constant input v settles at
    if isinstance(node, NO_LEAK):
        dv, factor = np.zeros(node.shape, dtype=np.int64), node.r.astype(np.float64)
    else:
        tau = "tau_mem" if isinstance(node, CUBA) else "tau"
        dv, changes[tau] = quantized_gain(getattr(node, tau), unity, 1, unity - 1,
                                          setting.options)
        factor, settle = dv / unity * node.r, dv / unity
        report["tau_error"] = relative_error(getattr(node, tau), changes[tau])
    if isinstance(node, CUBA):
        kept, changes["tau_syn"] = quantized_gain(node.tau_syn, unity, max(1, spec.du_offset),
                                                  unity - 1 + spec.du_offset, setting.options)
        du, factor = kept - spec.du_offset, factor * node.w_in * kept / unity
        settle = settle * kept / unity
        report["tau_syn_error"] = relative_error(node.tau_syn, changes["tau_syn"])
    g_syn = float(np.min(kept / unity)) if isinstance(node, CUBA) else 1.0
    atrlif, origin = wants_atrlif(node, setting.options), origin_for(node, setting.options)
    scale = _scale(graph, node, factor, inputs, spec, g_syn, origin, atrlif)
    if not node.spiking and np.all(settle > 0):
        bound = _readout_bound(graph, node, factor, settle, inputs)
        scale = min(scale, _pow2_scale(factor, _vth_top(spec) / (2 * bound)))
        report["v_bound"] = bound
    elif atrlif:
        scale, report["v_bound"] = _headroom(graph, node, factor, settle, inputs, spec, scale)
    hw = {"format": "loihi", "dv": compact(dv), "du": compact(du), "scale": scale,
          **({"reset": RESET} if atrlif else {})}
    report.update(dv=_shown(hw["dv"]), du=_shown(hw["du"]), scale=scale,
                  model="ATRLIF" if atrlif else "LIF")
    return _Population(dataclasses.replace(node, **changes), dv / unity, factor, scale, hw,
                       report, origin, atrlif)


def _scale(graph: Graph, node: n.Neuron, factor: np.ndarray, inputs: dict, spec: _Widths,
           g_syn: float = 1.0, origin: np.ndarray | float = 0.0, atrlif: bool = False) -> float:
    """The scale S; ``g_syn``: the least per-step current decay (1: u holds one step), since a
    current that decays by g_syn per step sums a steady input to 1 / g_syn times it. An
    ATRLIF's threshold is 12 bits, on the self-connection's weight grid (THETA_TOP)."""
    limits = []
    if node.spiking:
        theta = float(np.max(node.v_threshold - origin))
        top = float(THETA_TOP << spec.threshold_shift) if atrlif else _vth_top(spec)
        if theta > 0:
            limits.append(min(top, spec.state_limit) / theta)
    peak = max(summed_input(graph, inputs, factor)) / g_syn
    if peak > 0:
        limits.append(spec.state_limit / peak)
    return _pow2_scale(factor, min(limits, default=None))


def _headroom(graph: Graph, node: n.Neuron, factor: np.ndarray, settle: np.ndarray,
              inputs: dict, spec: _Widths, scale: float) -> tuple[float, float]:
    """An ATRLIF LIF's scale with room for v above threshold: a subtract reset takes only
    v_threshold per spike, so a strong drive carries v up to the readouts' bound (it only
    lowers v); S keeps twice that within the state width, where v would saturate, but not
    below the S whose threshold still has 8 bits (theta_0 >= 255: the weight grid's
    precision either way). An IF has no such bound (no leak): its S is not lowered."""
    theta = float(np.max(node.v_threshold))
    floor = _pow2_scale(factor, (255 << spec.threshold_shift) / theta) if theta > 0 else 0.0
    if not np.all(settle > 0):
        return min(scale, floor), float("inf")
    bound = _readout_bound(graph, node, factor, settle, inputs)
    return min(scale, max(_pow2_scale(factor, spec.state_limit / (2 * bound)), floor)), bound


def _pow2_scale(factor: np.ndarray, limit: float | None) -> float:
    """The largest S = 2**k / max|factor| with S <= limit (k = 0 without a limit)."""
    reference = float(np.max(np.abs(factor), initial=0.0)) or 1.0
    k = int(np.floor(np.log2(limit * reference))) if limit else 0
    return 2.0 ** k / reference


def _vth_top(spec: _Widths) -> float:
    return float((2 ** spec.threshold_bits - 1) << spec.threshold_shift)


def _readout_bound(graph: Graph, node: n.Neuron, factor: np.ndarray, settle: np.ndarray,
                   inputs: dict) -> float:
    """The largest |v| a readout (LI, CubaLI) can reach on any binary input: |v_leak| +
    (one-step input + Affine bias input) / (g g_syn), in float units (see the docstring)."""
    drive = max(summed_input(graph, inputs, factor)) + sum(
        float(np.max(np.abs(factor * path * per_neuron(graph.nodes[m].bias, node.shape))))
        for m, path in inputs.items() if hasattr(graph.nodes[m], "bias"))
    return float(np.max(np.abs(node.v_leak)) + drive / np.min(settle)) or 1.0


def _matrix(node: n.Node, name: str, pops: dict, plans: dict, spec: _Widths,
            setting: Setting) -> tuple[n.Node, dict]:
    """Weights on Lava's grid for the first target population (all targets, when they agree)."""
    target = next(iter(pops), None)
    a = (rows(node, plans[target].scale * plans[target].factor * pops[target])
         if target else np.ones(()))
    cuba_bias = isinstance(plans[target].node if target else None, CUBA) and hasattr(node, "bias")
    # a bias into a current is a weight column from an always-spiking neuron: one grid for both
    columns = [a * node.weight] + ([flat_rows(node, a) * node.bias] if cuba_bias else [])
    flat = np.concatenate([c.ravel() for c in columns])
    mode = "excitatory" if flat.min() >= 0 else "inhibitory" if flat.max() <= 0 else "mixed"
    lo, hi, t = spec.grid(mode)
    exp = pow2_exponent(float(np.abs(flat).max()), max(-lo, hi)) - setting.choice.get(name, 0)
    weight_exp = _bounded(exp - t - spec.input_shift, *spec.exp_range)
    step = 2.0 ** (weight_exp + t + spec.input_shift)
    m, clipped = mantissas(columns[0], step, lo, hi)
    changes = {"weight": dequantize(m * step, a, node.weight)}
    if cuba_bias:
        m_bias, more = mantissas(columns[1], step, lo, hi)
        changes["bias"] = dequantize(m_bias * step, flat_rows(node, a), node.bias)
        clipped += more
    hw = {"format": "loihi", "sign_mode": mode, "num_weight_bits": spec.bits,
          "weight_exp": weight_exp, **({"target": target} if target else {})}
    report = {"sqnr_db": sqnr_db(node.weight, changes["weight"]), "weight_exp": weight_exp,
              "sign_mode": mode, "clipped": clipped, "target": target}
    return dataclasses.replace(node, **changes, hw={**node.hw, **hw}), report


def _threshold_and_bias(name: str, plan: _Population, inputs: dict, exclusive: set[str],
                        result: Quantized, spec: _Widths) -> None:
    """vth, and the bias, whose rounding the float graph absorbs (``_absorb``)."""
    node, scale, changes, origin = plan.node, plan.scale, {}, plan.origin
    if node.spiking:
        step = 2.0 ** spec.threshold_shift
        top = THETA_TOP if plan.atrlif else 2 ** spec.threshold_bits - 1
        vth, clipped = mantissas(scale * (node.v_threshold - origin), step, 0, top)
        if plan.atrlif:  # the self-connection subtracts it: an 8-bit mantissa m 2**e
            vth = on_weight_grid(vth)
            if isinstance(node, NO_LEAK):  # an IF's v0 is v_reset: on Lava's integer grid
                changes["v_reset"] = np.rint(scale * node.v_reset) / scale
        changes["v_threshold"] = origin + vth * step / scale
        plan.hw["vth"] = compact(vth)
        plan.report.update(vth=_shown(plan.hw["vth"]), threshold_clipped=clipped,
                           threshold_error=relative_error(node.v_threshold - origin,
                                                          changes["v_threshold"] - origin))
    else:  # a readout: the largest threshold, which its scale keeps v below (see _plan)
        plan.hw["vth"] = 2 ** spec.threshold_bits - 1
    drive = _drive(plan, inputs, result, origin)
    mant, exp, clipped = _bias(scale * drive, spec)
    residual = mant * 2.0 ** exp / scale - drive
    plan.hw.update(bias_mant=mant, bias_exp=exp)
    plan.report["bias_clipped"] = clipped
    if np.any(residual):
        changes.update(_absorb(name, plan, residual, inputs, exclusive, result))
    plan.node = dataclasses.replace(node, **changes)


def _drive(plan: _Population, inputs: dict, result: Quantized,
           origin: np.ndarray | float) -> np.ndarray:
    """The constant per-step change of v (float units) that Lava's bias carries."""
    node, drive = plan.node, np.zeros(plan.node.shape)
    if hasattr(node, "v_leak"):
        drive = drive + plan.leak * (node.v_leak - origin)
    if not isinstance(node, CUBA):  # a CubaLIF's Affine bias enters the current, not v
        for matrix, path in inputs.items():
            if hasattr(result.nodes[matrix], "bias"):
                drive = drive + plan.factor * path * per_neuron(result.nodes[matrix].bias,
                                                                node.shape)
    return drive


def _bias(drive: np.ndarray, spec: _Widths) -> tuple[np.ndarray, np.ndarray, int]:
    """Per neuron, mant << exp nearest to drive: the smallest exp that fits the mantissa."""
    lo, hi = -2 ** (spec.bias_bits - 1), 2 ** (spec.bias_bits - 1) - 1
    exp = np.full(drive.shape, spec.bias_exp_max)
    for e in range(spec.bias_exp_max, -1, -1):  # downwards: the last exponent that fits wins
        fits = np.abs(np.rint(drive / 2.0 ** e)) <= hi
        exp = np.where(fits, e, exp)
    mant, clipped = mantissas(drive / 2.0 ** exp, 1.0, lo, hi)
    return mant.astype(np.int64), exp.astype(np.int64), clipped


def _absorb(name: str, plan: _Population, residual: np.ndarray, inputs: dict,
            exclusive: set[str], result: Quantized) -> dict[str, np.ndarray]:
    """Put the bias rounding into the float graph: into the bias of an Affine that feeds only
    this population (b reaches v through factor * path), else into v_leak (the drive is
    g (v_leak - origin) + ...; the reference starts at v_leak, so this moves it least), else
    report it. A CubaLIF's Affine bias feeds its current, not v, so only v_leak serves it."""
    node = plan.node
    feeders = [m for m in inputs if m in exclusive and hasattr(result.nodes[m], "bias")]
    if feeders and not isinstance(node, CUBA):
        feeder, per_input = result.nodes[feeders[0]], plan.factor * inputs[feeders[0]]
        shift = np.divide(residual, per_input, out=np.zeros(node.shape), where=per_input != 0)
        bias = feeder.bias + flat_rows(feeder, rows(feeder, shift))
        result.nodes[feeders[0]] = dataclasses.replace(feeder, bias=bias.astype(feeder.bias.dtype))
        return {}
    if hasattr(node, "v_leak"):
        return {"v_leak": node.v_leak + residual / plan.leak}
    result.notes["bias_residual"].append(name)
    return {}


def _bounded(exp: int, lo: int, hi: int | None) -> int:
    """A weight exponent within [lo, hi] (no upper bound where the chip model gives none)."""
    return min(max(exp, lo), exp if hi is None else hi)


def _per_neuron(node: n.Neuron, origin: np.ndarray | float) -> list[str]:
    """What Lava shares per population (du, dv, vth) but differs between these neurons."""
    shared = {k: getattr(node, k) for k in ("tau", "tau_mem", "tau_syn") if hasattr(node, k)}
    if node.spiking:
        name = "v_threshold" if np.ndim(origin) == 0 and origin == 0 else "v_threshold - v_reset"
        shared[name] = node.v_threshold - origin
    return [k for k, values in shared.items() if np.ptp(values) > 0]


def _shown(value: int | np.ndarray) -> int | str:
    return value if isinstance(value, int) else "per neuron"
