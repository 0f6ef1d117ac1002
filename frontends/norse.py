"""Norse 1.1.0 modules -> IR, read directly from the modules (not through ``norse.torch.to_nir``).

Norse's exporter writes ``tau = dt / tau_inv``, drops ``v_reset``, leaves torch tensors and 0-d
parameters, skips Flatten and pooling and cannot export LICell or the recurrent cells; reading
the modules avoids all of it. Mapping (tau = 1 / tau_inv, in seconds; r = 1):

| Norse                         | IR                                                           |
|-------------------------------|--------------------------------------------------------------|
| Linear                        | Affine (Linear without bias)                                 |
| Conv1d, Conv2d                | Conv1d, Conv2d (zero padding only)                           |
| AvgPool2d, LPPool2d(p=1)      | AvgPool2d, SumPool2d                                         |
| Flatten                       | Flatten (dims shifted: IR shapes have no batch dimension)    |
| MaxPool2d on spikes           | SumPool2d -> Threshold(0.5) (max of 0/1 values); refused on  |
|                               | real values (the IR has no max)                              |
| LIFBoxCell                    | LIF (reset from ``p.reset_method``: value or subtract)       |
| LIFCell, LIF                  | CubaLIF with w_in = tau_syn / dt: Norse adds input to the    |
|                               | current as a jump, NIR's CubaLIF integrates it by dt/tau_syn |
| LIBoxCell                     | LI                                                           |
| LICell, LI                    | CubaLI with w_in = tau_syn / dt                              |
| IAFCell, IAF                  | IF                                                           |
| LIFRecurrentCell, LIFRecurrent| Linear(input_weights) -> CubaLIF, with a recurrent           |
|                               | Linear(recurrent_weights) edge (diagonal zeroed unless autapses) |

The graph records the cells' dt in ``metadata["dt"]``; simulate it at that dt.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from snnc.errors import ModelFileError, UnsupportedLayerError
from snnc.ir import Graph
from snnc.ir import nodes as n

from .torch_layers import (TORCH_LAYERS, SequenceBuilder, input_shape_of, max_pool, run_sample,
                           values)


def from_norse(module: Any, sample_input: Any, dt: float | None = None) -> Graph:
    """Convert a ``SequentialState`` or ``torch.nn.Sequential`` of Norse cells and torch layers,
    or a module whose forward torch.fx can trace (``torch_trace``: cells called as
    ``z, s = self.lif(x, s)`` with ``s = None`` first, also in a loop over steps).

    ``sample_input`` is one input step shaped (batch, *input_shape) (a 1-D sample is unbatched),
    or (steps, batch, *input_shape) for a forward that reads x[step]; the module must run on it.
    ``dt`` defaults to the cells' own (they must agree).
    """
    import torch

    dt = _common_dt(module) if dt is None else float(dt)
    if not isinstance(module, torch.nn.Sequential):
        from .torch_trace import trace

        graph = trace(module, sample_input, _trace_rules(), dt)
        run_sample(module, sample_input, "Norse")
        return graph
    run_sample(module, sample_input, "Norse")
    builder, binary = SequenceBuilder(input_shape_of(sample_input)), False
    for name, child in module.named_children():
        _add_layer(builder, name, child, binary)
        _add_neuron(builder, name, child, dt)
        binary = type(child).__name__ in SPIKING or (binary and type(child).__name__ in PASS_SPIKES)
    return builder.graph(metadata={"dt": dt, "source": "norse"})


def _add_layer(builder: SequenceBuilder, name: str, child: Any, binary: bool) -> None:
    """A torch layer (MaxPool2d: on spikes only); neurons are added by ``_add_neuron``."""
    kind = type(child).__name__
    if kind in TORCH_LAYERS:
        builder.add(name, TORCH_LAYERS[kind](child))
    elif kind == "MaxPool2d":
        try:
            max_pool(builder, name, child, binary)
        except UnsupportedLayerError as error:
            raise UnsupportedLayerError(f"layer '{name}' ({kind}): {error}") from None
    elif kind not in NEURONS and kind not in RECURRENT:
        supported = sorted({*TORCH_LAYERS, "MaxPool2d", *NEURONS, *RECURRENT})
        raise UnsupportedLayerError(f"layer '{name}' ({kind}) is not supported by the Norse "
                                    f"frontend (supported: {', '.join(supported)})")


def _add_neuron(builder: SequenceBuilder, name: str, child: Any, dt: float) -> None:
    kind = type(child).__name__
    if kind in NEURONS:
        builder.add(name, NEURONS[kind](child, builder.shape, dt))
    elif kind in RECURRENT:
        _add_recurrent(builder, name, child, dt)


def _trace_rules() -> Any:
    from .torch_trace import Rules, Signature

    def is_neuron(m: Any) -> bool:
        return type(m).__module__.startswith("norse") and type(m).__name__ in {*NEURONS, *RECURRENT}

    def no_state(builder, name, cell, var, dt, inputs):
        raise UnsupportedLayerError(f"{name}: returning a Norse cell's state is not supported; "
                                    "return its output (an LICell/LIBoxCell readout outputs v)")

    return Rules("norse", is_neuron, lambda m: Signature(("state",), ("spk", "state")),
                 _add_neuron, lambda b, name, layer, binary: _add_layer(b, name, layer, binary),
                 no_state)


def _common_dt(module: Any) -> float:
    steps = {float(child.dt) for child in module.modules() if hasattr(child, "dt")}
    if len(steps) > 1:
        raise ModelFileError(f"the Norse cells use different time steps {sorted(steps)}; "
                             "pass dt= explicitly")
    return steps.pop() if steps else 1e-3  # Norse's default


def _param(p: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(values(getattr(p, name)), shape)


def _lif_box(cell: Any, shape: tuple[int, ...], dt: float) -> n.LIF:
    p = cell.p
    method = getattr(p.reset_method, "__name__", "reset_value")
    if method not in RESET_METHODS:
        raise UnsupportedLayerError(f"LIFBoxCell reset_method {method} is not supported "
                                    f"(supported: {', '.join(RESET_METHODS)})")
    return n.LIF(tau=1 / _param(p, "tau_mem_inv", shape), r=np.ones(shape),
                 v_leak=_param(p, "v_leak", shape), v_threshold=_param(p, "v_th", shape),
                 v_reset=_param(p, "v_reset", shape), reset=RESET_METHODS[method])


def _cuba(p: Any, shape: tuple[int, ...], dt: float, spiking: bool) -> n.Neuron:
    tau_syn = 1 / _param(p, "tau_syn_inv", shape)
    common = dict(tau_syn=tau_syn, tau_mem=1 / _param(p, "tau_mem_inv", shape), r=np.ones(shape),
                  v_leak=_param(p, "v_leak", shape), w_in=tau_syn.astype(np.float64) / dt)
    if not spiking:
        return n.CubaLI(**common)
    return n.CubaLIF(**common, v_threshold=_param(p, "v_th", shape),
                     v_reset=_param(p, "v_reset", shape))


def _li_box(cell: Any, shape: tuple[int, ...], dt: float) -> n.LI:
    return n.LI(tau=1 / _param(cell.p, "tau_mem_inv", shape), r=np.ones(shape),
                v_leak=_param(cell.p, "v_leak", shape))


def _iaf(cell: Any, shape: tuple[int, ...], dt: float) -> n.IF:
    return n.IF(r=np.ones(shape), v_threshold=_param(cell.p, "v_th", shape),
                v_reset=_param(cell.p, "v_reset", shape))


def _add_recurrent(builder: SequenceBuilder, name: str, cell: Any, dt: float) -> None:
    """Norse's lif_step: i += x W_in^T + z[t-1] W_rec^T, then as LIFCell."""
    w_in = values(cell.input_weights)
    w_rec = values(cell.recurrent_weights).copy()
    if not cell.autapses:
        np.fill_diagonal(w_rec, 0.0)
    hidden = (w_in.shape[0],)
    builder.add(f"{name}.in", n.Linear(weight=w_in))
    builder.add(name, _cuba(cell.p, hidden, dt, spiking=True))
    builder.add_recurrent(f"{name}.rec", n.Linear(weight=w_rec), name)


RESET_METHODS = {"reset_value": "to_v_reset", "reset_subtract": "subtract"}
NEURONS = {
    "LIFBoxCell": _lif_box,
    "LIFCell": lambda cell, shape, dt: _cuba(cell.p, shape, dt, spiking=True),
    "LIF": lambda cell, shape, dt: _cuba(cell.p, shape, dt, spiking=True),
    "LIBoxCell": _li_box,
    "LICell": lambda cell, shape, dt: _cuba(cell.p, shape, dt, spiking=False),
    "LI": lambda cell, shape, dt: _cuba(cell.p, shape, dt, spiking=False),
    "IAFCell": _iaf,
    "IAF": _iaf,
}
RECURRENT = {"LIFRecurrentCell", "LIFRecurrent"}
SPIKING = {"LIFBoxCell", "LIFCell", "LIF", "IAFCell", "IAF", *RECURRENT}
PASS_SPIKES = ("Flatten", "Dropout", "Identity", "MaxPool2d")
