"""snnTorch's default subtract reset on Loihi: a reset-free ATRLIF with an inhibitory
self-connection of weight -threshold.

The IR's ``subtract_next`` (snnTorch reset_mechanism='subtract', reset_delay=True) is
    v[t+1] = decay(v[t]) + x[t+1] - v_threshold z[t],   z[t] = [v[t] > v_threshold],
and every Lava LIF sets v <- 0 on a spike. Lava 0.10's ``ATRLIF`` (``lava/proc/atrlif/
process.py``, fixed point ``PyATRLIFModelFixed`` in ``lava/proc/atrlif/models.py``, replayed
by ``snnc.backends.loihi.atrlif``) never resets v: a spike adds 2 theta to a refractory
state r, and it fires on (v - r) >= theta. With
    delta_i = du / D (du = D - 1: i = a_in << 6, this step's input only, as the LIF's u),
    delta_v = dv / D (the LIF mapping's leak), delta_r = 1 (r is 0 again before every test),
    delta_theta = 0, theta_step = 0, theta_0 = the LIF mapping's vth,
it is the Loihi format's LIF (same scale S, weights and bias, ``formats``) without a reset,
firing on v >= T = theta_0 << 6. A diagonal Dense from the population to itself, weights
-m and weight_exp e with m 2**e = theta_0 (INHIBITORY, 8-bit m), delivers -theta_0 << 6 = -T
into v one step after each spike: Lava's Dense adds exactly that step, the delay the reset
itself has (the chip's added latency must be 1). It sums into a_in with every other
connection (an RLeaky's recurrent Linear is a synapse beside it).

The float v that Lava's v = 0 stands for (``origin``) is 0, not v_reset: the subtraction is
by v_threshold itself, so S v_threshold = T must be an integer on that weight grid, which the
Loihi format rounds it to (``on_weight_grid``: m <= 255, theta_0 <= 4080, the largest such
value within ATRLIF's 12-bit theta_0). v_reset is then only an IF's initial v.

Exactness: ATRLIF fires on v >= T where the IR fires on v > v_threshold; on integers they
differ only when v equals T. An IF has no leak, so its v is kept one unit lower (v0 - 1, and
v + 1 when read), which the update preserves: v - 1 >= T exactly when v > T. A LIF's decay
truncates, so v - 1 does not stay v - 1; it runs unshifted and can fire one step early
where v lands exactly on T (one more rounding next to the decay's truncation; measured in
tests/backends/test_loihi_subtract_reset.py). CubaLIF stays refused (``resets``).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from snnc.errors import GraphError, OptionError
from snnc.ir import nodes as n
from snnc.options import SimOptions

from .atrlif import THETA_BITS
from .processes import AtrLif, Lif, Synapse

RESET = "subtract_next"
SUBTRACTED = (n.LIF, n.IF)
MANTISSA_TOP = 255  # an INHIBITORY Dense's 8-bit weight magnitude
THETA_TOP = MANTISSA_TOP << (THETA_BITS - 8)  # 4080: the largest m 2**e in 12 bits


def wants_atrlif(node: n.Node, options: SimOptions) -> bool:
    """Whether the Loihi format maps this population onto an ATRLIF (LIF or IF, subtract_next)."""
    return (isinstance(node, SUBTRACTED) and node.spiking
            and (node.reset or options.reset) == RESET)


def runs_as_atrlif(node: n.Neuron, options: SimOptions) -> bool:
    """``wants_atrlif``, checked against what the quantize pass chose (``hw["reset"]``)."""
    wanted, quantized = wants_atrlif(node, options), node.hw.get("reset") == RESET
    if wanted != quantized:
        now = node.reset or options.reset
        raise OptionError(f"population with reset '{now}' was quantized for "
                          f"{'a subtract reset' if quantized else 'another reset'}; quantize "
                          f"it again with the reset it runs with")
    return wanted


def origin(node: n.Neuron) -> np.ndarray | float:
    """The float v that Lava's v = 0 stands for: 0 for readouts and ATRLIF populations,
    v_reset for the other spiking ones (their LIF resets v to 0)."""
    if not node.spiking or node.hw.get("reset") == RESET:
        return 0.0
    return node.v_reset


def origin_for(node: n.Neuron, options: SimOptions) -> np.ndarray | float:
    """``origin`` before quantization, from the reset the population will run with."""
    return 0.0 if not node.spiking or wants_atrlif(node, options) else node.v_reset


def v_offset(node: n.Neuron) -> int:
    """Lava's v minus S (v - origin): -1 for an IF on ATRLIF (see the module doc), else 0."""
    return -1 if isinstance(node, n.IF) and node.hw.get("reset") == RESET else 0


def read_origin(node: n.Neuron) -> np.ndarray | float:
    """What a probed v_int / S is shifted by to give the reference's v."""
    scale = float(np.asarray(node.hw["scale"]).reshape(-1)[0])
    return origin(node) - v_offset(node) / scale


def on_weight_grid(theta: np.ndarray) -> np.ndarray:
    """The nearest m 2**e (0 <= m <= 255) to each integer theta <= THETA_TOP."""
    theta = np.asarray(theta, np.float64)
    exp = np.zeros(theta.shape, np.int64)
    for e in range(THETA_BITS, -1, -1):  # downwards: the smallest exponent that fits wins
        exp = np.where(np.rint(theta / 2.0 ** e) <= MANTISSA_TOP, e, exp)
    return np.rint(theta / 2.0 ** exp) * 2.0 ** exp


def reset_weight(name: str, theta_0: int) -> tuple[int, int]:
    """(m, e) with m 2**e = theta_0, m <= 255: the self-connection's mantissa and exponent."""
    for e in range(THETA_BITS + 1):
        if theta_0 % 2 ** e == 0 and theta_0 >> e <= MANTISSA_TOP:
            return theta_0 >> e, e
    raise GraphError(f"population '{name}': threshold {theta_0} is no m * 2**e with m <= "
                     f"{MANTISSA_TOP}, so no 8-bit self-connection subtracts it; quantize with "
                     f"the Loihi format, which rounds it so")


def atrlif(name: str, node: n.Neuron, lag: int, fmt, pipeline: str) -> AtrLif:
    """The ATRLIF of a population that the Loihi format quantized for ``subtract_next``."""
    from .populations import per_neuron, rewound, scalar

    hw, unity = node.hw, 2 ** fmt.decay_bits
    theta_0, dv = scalar(name, hw, "vth"), scalar(name, hw, "dv")
    if theta_0 > THETA_TOP:
        raise GraphError(f"population '{name}': threshold {theta_0} exceeds {THETA_TOP}, the "
                         f"largest ATRLIF theta_0 an 8-bit weight subtracts; quantize with "
                         f"-p '{pipeline}'")
    start = node.v_reset if isinstance(node, n.IF) else node.v_leak  # the reference's v0
    v0 = np.rint(hw["scale"] * np.broadcast_to(start, node.shape)).reshape(-1).astype(np.int64)
    bias = dict(bias_mant=per_neuron(node, "bias_mant"), bias_exp=per_neuron(node, "bias_exp"))
    v0 = v0 + v_offset(node)
    # ATRLIF fires at v >= T: a step back must stay below T, not merely at it
    v0 = rewound(Lif(size=len(v0), dv=dv, v=v0, **bias), lag, fmt,
                 highest=(theta_0 << fmt.threshold_shift) - 1)
    return AtrLif(size=len(v0), delta_i=scalar(name, hw, "du") / unity, delta_v=dv / unity,
                  delta_theta=0.0, delta_r=1.0, theta_0=theta_0, theta_step=0, v=v0, **bias)


def self_synapse(name: str, atr: AtrLif, weight_bits: int, latency: int, sparse_below: float
                 ) -> tuple[str, str, Synapse]:
    """The diagonal inhibitory Dense (Sparse below ``sparse_below`` density) that subtracts
    theta_0 << 6 from v one step after each spike."""
    if latency != 1:
        raise OptionError(f"population '{name}': a subtract reset needs a self-connection of "
                          f"one step, but the chip's synapses add {latency}")
    m, e = reset_weight(name, atr.theta_0)
    weights = -m * np.eye(atr.size, dtype=np.int64)
    if 1 / atr.size < sparse_below:
        weights = csr_matrix(weights)
    return name, name, Synapse(weights, weight_exp=e, num_weight_bits=weight_bits,
                               sign_mode="inhibitory", sparse=1 / atr.size < sparse_below)
