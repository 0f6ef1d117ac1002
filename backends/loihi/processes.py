"""A Lava process network as plain data, and its lowering onto the engine.

``LoihiNetwork`` names the Lava 0.10.0 processes snnc emulates, with their own parameters:
input populations (``io.source.RingBuffer``), ``Lif`` populations (``lif.process.LIF``),
``AtrLif`` populations (``atrlif.process.ATRLIF``, see ``atrlif``) and ``Synapse`` connections (``dense.process.Dense`` / ``DelayDense``, ``sparse.process.Sparse`` /
``DelaySparse``). ``to_engine`` turns it into an engine ``Network`` whose run is bit-exact with
Lava's ``Loihi2SimCfg(select_tag="fixed_pt")``; ``snnc.backends.loihi.lava`` builds and runs
the same network in Lava itself.

Timing (Lava's): an input's column t - 1 is sent at step t (steps count from 1); every
Dense-like process sends at step t what it accumulated at t - 1, so a spike sent at step t
through a synapse with delay d reaches its LIF at step t + 1 + d (``added_latency_steps``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from snnc.errors import GraphError
from snnc.hw_models import load_chip

from ..engine import Connection, Network, Population, Synapses
from .atrlif import LoihiAtrLif
from .lif import LifFormat, LoihiLif
from .weights import WeightExponent, check_weight_params, lava_int32, quantize, sign_mode_of


@dataclass(frozen=True, eq=False)
class Lif:
    """Parameters of Lava's ``LIF(shape=(size,), ...)``: du, dv, vth shared; the rest per
    neuron or one value for all."""

    size: int
    du: int = 0
    dv: int = 0
    vth: int = 10
    bias_mant: int | np.ndarray = 0
    bias_exp: int | np.ndarray = 0
    u: int | np.ndarray = 0
    v: int | np.ndarray = 0


@dataclass(frozen=True, eq=False)
class AtrLif:
    """Parameters of Lava's ``ATRLIF(shape=(size,), ...)``: the decays as fractions (Lava's
    own unit, multiples of 1/4096), theta_0 and theta_step shared; the rest per neuron or one
    value for all. Lava ignores an initial theta (it starts at theta_0), so there is none."""

    size: int
    delta_i: float = 0.4
    delta_v: float = 0.4
    delta_theta: float = 0.2
    delta_r: float = 0.2
    theta_0: int = 5
    theta_step: int = 0
    bias_mant: int | np.ndarray = 0
    bias_exp: int | np.ndarray = 0
    i: int | np.ndarray = 0
    v: int | np.ndarray = 0
    r: int | np.ndarray = 0

    def params(self) -> dict:
        """The keyword arguments of ``ATRLIF`` (and of ``LoihiAtrLif.create``) but shape."""
        return {key: getattr(self, key) for key in ATRLIF_KEYS}


ATRLIF_KEYS = ("delta_i", "delta_v", "delta_theta", "delta_r", "theta_0", "theta_step",
               "bias_mant", "bias_exp", "i", "v", "r")


@dataclass(frozen=True, eq=False)
class Synapse:
    """Parameters of Lava's ``Dense(weights=...)``: weights (n_out, n_in), as given to Lava
    (before its clip and truncation); ``delays`` (a matrix or one int) makes it a DelayDense;
    ``sparse`` a Sparse / DelaySparse (weights may then be a scipy sparse matrix)."""

    weights: np.ndarray
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: str | None = None  # "mixed", "excitatory", "inhibitory"; None: inferred
    delays: np.ndarray | int | None = None
    sparse: bool = False

    @property
    def kind(self) -> str:
        base = "Sparse" if self.sparse else "Dense"
        return base if self.delays is None else f"Delay{base}"


@dataclass(frozen=True, eq=False)
class LoihiNetwork:
    """inputs: size per input population; neurons: LIF or ATRLIF populations; synapses: (source,
    target, Synapse) triples, named ``source->target`` (``#k`` added for repeats)."""

    inputs: Mapping[str, int]
    neurons: Mapping[str, Lif | AtrLif]
    synapses: tuple[tuple[str, str, Synapse], ...] = field(default=())

    def synapse_names(self) -> list[str]:
        names, seen = [], {}
        for source, target, _ in self.synapses:
            base = f"{source}->{target}"
            seen[base] = seen.get(base, 0) + 1
            names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
        return names


def to_engine(net: LoihiNetwork, chip="loihi2", arithmetic: str = "auto") -> Network:
    """The engine network of ``net`` on ``chip`` (a name or a loaded chip model).
    ``arithmetic="exact"`` forces the LIF's int64 replay of Lava everywhere (for tests)."""
    chip = load_chip(chip) if isinstance(chip, str) else chip
    fmt = LifFormat.from_chip(chip)
    pops = [Population(name, int(size)) for name, size in net.inputs.items()]
    for name, p in net.neurons.items():
        if isinstance(p, AtrLif):  # one exact arithmetic (the int64 replay) only
            model = LoihiAtrLif.create(name, p.size, fmt, **p.params())
        else:
            model = LoihiLif.create(name, p.size, fmt, du=p.du, dv=p.dv, vth=p.vth,
                                    bias_mant=p.bias_mant, bias_exp=p.bias_exp, u=p.u, v=p.v,
                                    arithmetic=arithmetic)
        pops.append(Population(name, p.size, model))
    conns = [lower_synapse(name, source, target, syn, chip)
             for name, (source, target, syn) in zip(net.synapse_names(), net.synapses)]
    return Network(tuple(pops), tuple(conns))


def lower_synapse(name: str, source: str, target: str, syn: Synapse, chip) -> Connection:
    """One Dense-like process as an engine connection: Lava's first-step weight rewrite,
    the weight-exponent shift per partial sum, the chip's delay limit and added latency."""
    f, d = chip.formats, chip.delays
    what = f"synapse '{name}' ({syn.kind})"
    check_weight_params(what, syn.sign_mode, syn.num_weight_bits, syn.weight_exp, f.weight_bits)
    weights = syn.weights
    if hasattr(weights, "tocoo"):  # a scipy sparse matrix: quantize its listed entries
        coo = weights.tocoo()
        values = lava_int32(coo.data, what)
        mode = syn.sign_mode or sign_mode_of(values, coo.nnz < coo.shape[0] * coo.shape[1])
        values = quantize(values, mode, syn.num_weight_bits, f.weight_bits)
        delays = _delays(what, syn.delays, coo.shape, d.max_steps)
        delays = np.broadcast_to(delays, coo.shape)[coo.row, coo.col]
        synapses = Synapses(*coo.shape, coo.row, coo.col, values, delays)
    else:
        values = lava_int32(weights, what)
        if values.ndim != 2:
            raise GraphError(f"{what}: weights must be a 2-D (n_out, n_in) matrix, "
                             f"got {values.shape}")
        mode = syn.sign_mode or sign_mode_of(values)
        values = quantize(values, mode, syn.num_weight_bits, f.weight_bits)
        synapses = Synapses.from_dense(values, _delays(what, syn.delays, values.shape,
                                                       d.max_steps))
    return Connection(name, source, target, synapses, latency=d.added_latency_steps,
                      model=WeightExponent(int(syn.weight_exp)))


def _delays(what: str, delays, shape, max_steps: int) -> np.ndarray:
    """The delays, one int64 or a matrix of ``shape``; Lava's bit-accurate Delay models reject
    delays above ``max_steps`` (Loihi 2: 6 bits) with a ValueError, as does this (a
    ``GraphError`` is one)."""
    if delays is None:
        return np.int64(0)
    delays = np.asarray(delays)
    if not np.issubdtype(delays.dtype, np.integer):
        raise GraphError(f"{what}: delays must be integers, got {delays.dtype}")
    if delays.ndim and delays.shape != shape:
        raise GraphError(f"{what}: delays must be one int or shaped {shape}, got {delays.shape}")
    if delays.size and (delays.min() < 0 or delays.max() > max_steps):
        raise GraphError(f"{what}: delays must be in 0..{max_steps} steps (the chip's delay "
                         f"limit), got {delays.min()}..{delays.max()}")
    return delays.astype(np.int64)
