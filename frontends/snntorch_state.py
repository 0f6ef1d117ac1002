"""snnTorch modules that are not a plain Sequential: the tracer's rules (``torch_trace``), and
the neuron states a model returns (``output=True``, or ``spk, mem = lif(x, mem)`` recorded).

A state output is built from IR nodes whose outputs sum to snnTorch's value, because IR nodes
output spikes (or an integrator's v), not a spiking neuron's membrane. The membrane without its
reset is linear in the input, so a non-spiking copy of the neuron (LI, I or CubaLI, same
constants) fed by the same input gives it; the subtract reset adds -threshold x spk[t-1], fed to
a leaky integrator of the same decay through a one-step Delay and a diagonal Linear
(a Scale for populations of more than one dimension). The recurrent input
of RLeaky/RSynaptic reaches the copy through the same delayed spikes and a copy of the recurrent
matrix. Spikes stay exact; a state equals snnTorch's up to float rounding (the IR integrates
v + g (r x - v), snnTorch beta v + x: about 1e-6 relative in float32).

| state | neuron                | nodes summed into the output                                   |
|-------|-----------------------|----------------------------------------------------------------|
| mem   | Leaky, RLeaky         | LI(tau, r) (I(r) for beta = 1) fed by x, rec, -thr spk[t-1]      |
| mem   | Synaptic, RSynaptic   | CubaLI(tau_syn, tau_mem, r, w_in) fed by x, rec; LI(tau_mem, r)  |
|       |                       | fed by -thr spk[t-1]                                           |
| syn   | Synaptic, RSynaptic   | LI(tau = tau_syn, r = w_in) fed by x, rec                       |
| spk   | RLeaky, RSynaptic     | the neuron's spikes                                            |

A zero reset multiplies the membrane by (1 - spk): no sum of IR nodes gives that, so a
membrane output of a zero-reset neuron is refused.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from snnc.errors import UnsupportedLayerError
from snnc.ir import nodes as n

from .torch_trace import Rules, Signature, TraceBuilder

NEURON_STATES = {"Leaky": ("mem",), "Synaptic": ("syn", "mem"), "RLeaky": ("spk", "mem"),
                 "RSynaptic": ("spk", "syn", "mem")}


def signature(cell: Any) -> Signature:
    kind = type(cell).__name__
    returned = ("spk",) + tuple(s for s in NEURON_STATES[kind] if s != "spk")
    if cell.init_hidden:
        return Signature(states=(), returns=returned if cell.output else ("spk",))
    return Signature(states=NEURON_STATES[kind], returns=returned)


def state_nodes(builder: TraceBuilder, name: str, cell: Any, var: str, dt: float,
                inputs: tuple[str, ...]) -> list[str]:
    """IR nodes whose summed outputs are the neuron's ``var`` at every step (module docstring)."""
    if var == "spk":
        return [name]
    neuron = builder.nodes[name]
    if var == "mem" and cell.reset_mechanism == "zero":
        raise UnsupportedLayerError(
            f"layer '{name}': its membrane cannot be an output with reset_mechanism='zero' (the "
            "reset multiplies it by 1 - spk, which no IR node outputs); use 'subtract' or 'none', "
            "or return only the spikes")
    delayed = _delayed_spikes(builder, name, neuron, dt) if var == "mem" or _recurrent(builder, name) \
        else None
    drive = _copied_inputs(builder, name, inputs) + (
        [_copy_recurrent(builder, name, delayed)] if _recurrent(builder, name) else [])
    shape = neuron.shape
    if var == "syn":
        return [_add(builder, f"{name}.syn", n.LI(tau=neuron.tau_syn, r=neuron.w_in,
                                                  v_leak=np.zeros(shape)), drive)]
    correction = None
    if cell.reset_mechanism == "subtract":
        correction = _add(builder, f"{name}.mem_reset", _times(-neuron.v_threshold), [delayed])
    if isinstance(neuron, n.CubaLIF):
        copy = n.CubaLI(tau_syn=neuron.tau_syn, tau_mem=neuron.tau_mem, r=neuron.r,
                        v_leak=np.zeros(shape), w_in=neuron.w_in)
        outputs = [_add(builder, f"{name}.mem", copy, drive)]
        if correction:
            outputs.append(_add(builder, f"{name}.mem_subtracted",
                                n.LI(tau=neuron.tau_mem, r=neuron.r, v_leak=np.zeros(shape)),
                                [correction]))
        return outputs
    copy = n.I(r=neuron.r) if isinstance(neuron, n.IF) else \
        n.LI(tau=neuron.tau, r=neuron.r, v_leak=np.zeros(shape))
    return [_add(builder, f"{name}.mem", copy, drive + ([correction] if correction else []))]


def _times(factor: np.ndarray) -> n.Node:
    """x * factor: a diagonal Linear for 1-d populations (a matrix that chip targets map, with
    the Delay before it as its synaptic delay), else a Scale."""
    factor = np.asarray(factor, dtype=np.float64)
    return n.Linear(weight=np.diag(factor)) if factor.ndim == 1 else n.Scale(scale=factor)


def _copied_inputs(builder: TraceBuilder, name: str, inputs: tuple[str, ...]) -> list[str]:
    """The neuron's input matrices, copied for the state nodes: chip targets map a matrix
    onto the one population it feeds."""
    copies = []
    for k, source in enumerate(inputs):
        node = builder.nodes[source]
        if not isinstance(node, (n.Affine, n.Linear, n.Conv1d, n.Conv2d)):
            copies.append(source)
            continue
        feeding = [a for a, b in builder.edges if b == source]
        copies.append(_add(builder, f"{name}.state_in{k}", node, feeding))
    return copies


def _recurrent(builder: TraceBuilder, name: str) -> bool:
    return f"{name}.rec" in builder.nodes


def _delayed_spikes(builder: TraceBuilder, name: str, neuron: n.Node, dt: float) -> str:
    """spk[t-1]: the reset signal (snnTorch's reset = [mem[t-1] > thr]) and recurrent input."""
    if f"{name}.prev" not in builder.nodes:
        _add(builder, f"{name}.prev", n.Delay(delay=np.full(neuron.shape, dt)), [name])
    return f"{name}.prev"


def _copy_recurrent(builder: TraceBuilder, name: str, delayed: str) -> str:
    if f"{name}.rec_copy" not in builder.nodes:
        _add(builder, f"{name}.rec_copy", builder.nodes[f"{name}.rec"], [delayed])
    return f"{name}.rec_copy"


def _add(builder: TraceBuilder, node_name: str, node: n.Node, sources: list[str]) -> str:
    if node_name not in builder.nodes:
        builder.at(tuple(sources))
        builder.add(node_name, node)
    return node_name


def rules(convert: Any, is_neuron: Any, check: Any) -> Rules:
    """The tracer's rules for snnTorch (``convert``/``check`` come from ``snntorch``)."""

    def add_neuron(builder: TraceBuilder, name: str, cell: Any, dt: float) -> None:
        check(name, cell, traced=True)
        convert(builder, name, cell, dt, False)

    def add_layer(builder: TraceBuilder, name: str, layer: Any, binary: bool) -> None:
        check(name, layer, traced=True)
        try:
            convert(builder, name, layer, 0.0, binary)
        except UnsupportedLayerError as error:
            raise UnsupportedLayerError(f"layer '{name}' ({type(layer).__name__}): {error}") \
                from None

    return Rules("snntorch", is_neuron, signature, add_neuron, add_layer, state_nodes)
