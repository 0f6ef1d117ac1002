"""ONNX ANN -> rate-coded SNN, as SNN Toolbox and Sinabs convert (Rueckauer et al. 2017).

Each ReLU becomes a population of integrate-and-fire neurons whose firing rate approximates the
activation; weights are rescaled layer by layer so that rates stay below one spike per step
(threshold balancing, see ``balance``). Op mapping (``ops``):

| ONNX                                | IR                                                       |
|-------------------------------------|----------------------------------------------------------|
| Gemm (transA 0; transB, alpha, beta)| Affine W = alpha B'^T, b = beta C (Linear without C)     |
| MatMul with a constant B (+ Add)    | Linear W = B^T (Affine when an Add follows)              |
| Add of a constant                   | bias of the Gemm / MatMul / Conv just before             |
| Conv (1-d, 2-d; symmetric pads)     | Conv1d / Conv2d (group, dilations, strides)              |
| BatchNormalization                  | folded into the Conv / Gemm / MatMul just before         |
| Relu                                | IF: r 1, v_threshold 1, v_reset 0, reset "subtract"      |
| AveragePool                         | AvgPool2d (padding only with count_include_pad = 1)      |
| MaxPool                             | AvgPool2d: an approximation, listed in the repairs       |
| GlobalAveragePool                   | AvgPool2d over the whole map                             |
| Flatten (axis 1), Reshape to (N, -1)| Flatten(start_dim=0): IR shapes have no batch dimension  |
| Identity, Dropout                   | removed                                                  |
| Softmax, LogSoftmax (last op only)  | removed (argmax unchanged), listed in the repairs        |
| any op whose inputs are constants   | folded (onnx's reference evaluator)                      |

Anything else raises ``UnsupportedLayerError`` naming the op and node.

Readout: the last layer (the logits) feeds a population named ``readout``. By default it is a
non-spiking integrator ``I`` (v += x each step), so after t steps v / t tends to the ANN's
logits and the class is argmax v: no ties, negative logits count, and it reaches the ANN's
accuracy in fewer steps (examples/onnx_digits: 16 vs 21 steps to within 2 points on a CNN).
``readout="spikes"`` makes it an IF population balanced like the others, read by spike counts
as SNN Toolbox does. A model whose last op is a ReLU needs no readout: its last IF population
is the output.

Input: the analog input is presented as a constant current, the same values on every step
(for ``snnc simulate``, ``spikes`` is the analog input repeated over the steps). IF and I have
no time constant, so dt does not matter; the graph records dt = 1 (one step).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from snnc.errors import (GraphError, InputError, ModelFileError, OptionError,
                         UnsupportedLayerError)
from snnc.ir import Graph
from snnc.ir import nodes as n

from ..torch_layers import SequenceBuilder
from .balance import ann_forward, balance, bound_rule, data_rule, percentile_scales
from .ops import Chain, if_population

READOUTS = ("membrane", "spikes")


def read_onnx(spec: str, calibration: np.ndarray | None = None, percentile: float = 99.9,
              readout: str = "membrane") -> Graph:
    """Convert the ANN in the ONNX file ``spec`` to a rate-coded SNN graph.

    ``calibration``: inputs (N, *input_shape) for data-based threshold balancing at the
    ``percentile`` of each layer's positive activations; without it, the conservative weight
    bound is used (see ``balance``) and a note says so.
    """
    if not 0 < percentile <= 100:
        raise OptionError(f"percentile must be in (0, 100], got {percentile}")
    if readout not in READOUTS:
        raise OptionError(f"readout must be one of {', '.join(READOUTS)}; got '{readout}'")
    model = load_checked(Path(spec))
    try:
        return _converted(model, calibration, percentile, readout)
    except (GraphError, InputError, ModelFileError, UnsupportedLayerError) as error:
        raise type(error)(f"{spec}: {error}") from None  # the file, then the node and field


def _converted(model: Any, calibration, percentile: float, readout: str) -> Graph:
    chain = convert(model)
    shape = _input_shape(model)
    layers = chain.layers
    if not layers or not isinstance(layers[-1][1], n.IF):
        layers = [*layers, ("readout", if_population(chain.shape) if readout == "spikes"
                            else n.I(r=np.ones(chain.shape)))]
    raw = _chain_graph(shape, layers, {})
    if calibration is None:
        rule, notes = bound_rule, ["no calibration data: thresholds balanced by the weight bound "
                                   "(slow: pass calibration inputs for data-based balancing)"]
    else:
        scales = percentile_scales(raw, _checked_calibration(calibration, shape), percentile)
        rule, notes = data_rule(scales), []
    balanced, lambdas = balance(layers, rule)
    metadata = {"dt": 1.0, "source": "onnx",
                "conversion": _describe(calibration, percentile, readout, lambdas)}
    repairs = (*chain.notes, *notes)
    if repairs:
        metadata["repairs"] = repairs
    return _chain_graph(shape, balanced, metadata)


def load_checked(path: Path) -> Any:
    """The model in ``path``, checked by ``onnx.checker``; any failure is one line."""
    try:
        import onnx
    except ImportError:
        raise ModelFileError(f"{path}: reading ONNX needs the onnx package "
                             "(pip install 'snnc[onnx]')") from None
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as error:  # protobuf's DecodeError, onnx's ValidationError, ...
        lines = str(error).strip().splitlines()
        raise ModelFileError(f"{path}: not a valid ONNX model ({type(error).__name__}"
                             f"{': ' + lines[0] if lines else ''})") from None
    return model


def convert(model: Any) -> Chain:
    """Walk the graph's nodes (topologically sorted, as the checker ensures) into a chain."""
    from onnx import numpy_helper

    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    chain = Chain(_input_value(model).name, _input_shape(model), constants, opset)
    for index, node in enumerate(graph.node):
        try:
            chain.convert(node, index)
        except GraphError as error:
            raise GraphError(f"ONNX node '{node.name or index}' ({node.op_type}): {error}") \
                from None
    outputs = [o.name for o in graph.output]
    if len(outputs) != 1 or outputs[0] not in chain.tip:
        raise UnsupportedLayerError(f"graph outputs {outputs}: the ONNX frontend needs exactly "
                                    "one output, computed by the chain of layers")
    return chain


def _input_value(model: Any) -> Any:
    """The one graph input that is not an initializer (old exporters list weights as inputs)."""
    weights = {t.name for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in weights]
    if len(inputs) != 1:
        raise UnsupportedLayerError(f"the ONNX frontend needs exactly one graph input, got "
                                    f"{[v.name for v in inputs]}")
    return inputs[0]


def _input_shape(model: Any) -> tuple[int, ...]:
    """Per-sample input shape: the input's dims after the batch dimension, all known."""
    value = _input_value(model)
    dims = value.type.tensor_type.shape.dim
    if len(dims) < 2 or any(d.dim_value <= 0 for d in dims[1:]):
        shown = [d.dim_value or d.dim_param or "?" for d in dims]
        raise ModelFileError(f"input '{value.name}' has shape {shown}: needs (batch, ...) with "
                             "known sizes after the batch dimension")
    return tuple(int(d.dim_value) for d in dims[1:])


def _checked_calibration(calibration: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(calibration, dtype=np.float64)
    if array.shape[1:] != shape or len(array) == 0 or not np.all(np.isfinite(array)):
        raise InputError(f"calibration inputs have shape {array.shape}; expected (N, "
                         f"{', '.join(map(str, shape))}) finite values, N > 0")
    return array


def _chain_graph(shape: tuple[int, ...], layers: list, metadata: dict) -> Graph:
    builder = SequenceBuilder(shape)
    for name, layer in layers:
        try:
            builder.add(name, layer)
        except GraphError as error:
            raise GraphError(f"layer '{name}': {error}") from None
    return builder.graph(metadata)


def _describe(calibration: Any, percentile: float, readout: str, lambdas: dict) -> str:
    """The conversion in one line, for graph.metadata["conversion"]."""
    method = (f"{percentile:g}th percentile of positive activations on {len(calibration)} "
              "calibration inputs" if calibration is not None else "weight bound (no calibration)")
    reading = ("membrane of non-spiking integrator 'readout' (argmax v)" if readout == "membrane"
               else "spike counts of IF 'readout'")
    scales = ", ".join(f"{name} {value:.4g}" for name, value in lambdas.items())
    return (f"rate coding: ReLU -> IF (threshold 1, reset by subtraction), weights balanced by "
            f"the {method}; input: analog values as a constant current every step; readout: "
            f"{reading}; lambda: {scales}")


__all__ = ["read_onnx", "ann_forward", "load_checked", "convert", "READOUTS"]
