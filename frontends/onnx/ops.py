"""ONNX nodes -> a chain of IR nodes, before threshold balancing (see ``balance``).

Every supported op reads one activation tensor; its other inputs are constants (initializers,
``Constant`` nodes, or anything computed from constants only, which onnx's reference evaluator
folds once). So the network is a chain, and each op must read the output of the layer converted
last: branches and skip connections are refused.

Batch dimension: ONNX tensors are (N, *shape); IR shapes are per sample, so the chain tracks
``shape`` without N and axis arguments shift by one.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from snnc.errors import UnsupportedLayerError
from snnc.ir import nodes as n
from snnc.ir import output_shape

WEIGHTED = (n.Affine, n.Linear, n.Conv1d, n.Conv2d)


class Chain:
    """The IR layers converted so far, and what each ONNX tensor holds."""

    def __init__(self, input_tensor: str, input_shape: tuple[int, ...],
                 constants: dict[str, np.ndarray], opset: int):
        self.layers: list[tuple[str, n.Node]] = []
        self.shape = input_shape  # per-sample shape of the chain's current output
        self.tip = {input_tensor}  # tensors holding the current output (Identity adds aliases)
        self.constants = constants
        self.opset = opset
        self.notes: list[str] = []  # approximations, for graph.metadata["repairs"]
        self.final_op: str | None = None  # a dropped Softmax: nothing may follow it
        self.index = 0  # position of the node being converted, for default names

    def convert(self, node: Any, index: int) -> None:
        """Convert the graph's ``index``-th node."""
        self.index = index
        label = node.name or f"{node.op_type} #{index}"  # names it in messages
        inputs = [name for name in node.input if name]
        if all(name in self.constants for name in inputs) and node.op_type not in RANDOM_OPS:
            self._fold(node, label)
        elif self.final_op is not None and node.op_type not in ("Identity", "Dropout"):
            raise refuse(node, label, f"it follows {self.final_op}, which is supported only as "
                                      "the last op")
        elif node.op_type in OPS:
            OPS[node.op_type](self, node, label, attributes(node))
        else:
            raise UnsupportedLayerError(
                f"ONNX op {node.op_type} (node '{label}') is not supported by the ONNX frontend "
                f"(supported: {', '.join(sorted(OPS))}, and any op on constants only)")

    def _fold(self, node: Any, label: str) -> None:
        """Constant folding: evaluate the node with onnx's reference evaluator."""
        from onnx.reference import ReferenceEvaluator

        feeds = {name: self.constants[name] for name in node.input if name}
        try:
            results = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception as error:  # any failure of onnx's evaluator on this op
            raise refuse(node, label, f"cannot fold it as a constant ({error})") from None
        self.constants.update(zip(node.output, (np.asarray(r) for r in results)))

    # -- reading inputs -------------------------------------------------------------------

    def activation(self, node: Any, label: str, index: int = 0) -> None:
        """Check that input ``index`` is the chain's current output."""
        tensor = node.input[index] if index < len(node.input) else ""
        if tensor not in self.tip:
            raise refuse(node, label, f"input '{tensor}' is not the output of the previous layer "
                                      "(only chains of layers are supported: no branches, skip "
                                      "connections or computed weights)")

    def constant(self, node: Any, label: str, index: int) -> np.ndarray | None:
        """Input ``index`` as an array (float64), None if absent; it must be a constant."""
        tensor = node.input[index] if index < len(node.input) else ""
        if not tensor:
            return None
        if tensor not in self.constants:
            raise refuse(node, label, f"input {index} ('{tensor}') must be a constant")
        return np.asarray(self.constants[tensor], dtype=np.float64)

    # -- writing outputs ------------------------------------------------------------------

    def append(self, node: Any, layer: n.Node) -> None:
        name = ir_name(node.name, node.op_type, self.index, {k for k, _ in self.layers})
        self.layers.append((name, layer))
        self.shape = output_shape(layer, self.shape)
        self.tip = {node.output[0]}

    def replace_last(self, node: Any, layer: n.Node) -> None:
        """Fold ``node`` into the last layer: the pre-fold tensor is no longer available."""
        self.layers[-1] = (self.layers[-1][0], layer)
        self.tip = {node.output[0]}

    def alias(self, node: Any) -> None:
        """``node`` passes its input through unchanged."""
        self.tip.add(node.output[0])

    def last_weighted(self, node: Any, label: str) -> n.Node:
        """The last layer, which ``node`` is folded into; it must be a matrix or convolution."""
        last = self.layers[-1][1] if self.layers else None
        if not isinstance(last, WEIGHTED):
            raise refuse(node, label, "supported only directly after Conv, Gemm or MatMul "
                                      "(it is folded into their weights)")
        return last


def refuse(node: Any, label: str, why: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(f"ONNX node '{label}' ({node.op_type}): {why}")


def attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def ir_name(onnx_name: str, op_type: str, index: int, taken: set[str]) -> str:
    """A node name the IR and NIR files accept: letters, digits, '_' (no '.' or '/')."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", onnx_name).strip("_") or f"{op_type.lower()}{index}"
    if base in ("input", "output", "readout"):
        base += "_"
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def per_channel(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``value`` broadcast to (1, *shape) as a per-channel vector (C,); None if it varies
    within a channel or does not broadcast."""
    try:
        full = np.broadcast_to(value, (1, *shape))[0]
    except ValueError:
        return None
    vector = full.reshape(shape[0], -1)
    return vector[:, 0].copy() if np.all(vector == vector[:, :1]) else None


# ---------------------------------------------------------------------------------------------
# Matrices and convolutions


def _gemm(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Y = alpha A' B' + beta C, A' = A or A^T, B' = B or B^T: IR W = alpha B'^T, b = beta C."""
    chain.activation(node, label, 0)
    if attrs.get("transA", 0) or len(chain.shape) != 1:
        raise refuse(node, label, "needs A shaped (batch, features) and transA = 0")
    b = chain.constant(node, label, 1)
    weight = attrs.get("alpha", 1.0) * (b if attrs.get("transB", 0) else b.T)
    c = chain.constant(node, label, 2)
    if c is None:
        chain.append(node, n.Linear(weight=weight))
        return
    bias = per_channel(attrs.get("beta", 1.0) * c, weight.shape[:1])
    if bias is None:
        raise refuse(node, label, f"C of shape {c.shape} is not a bias of {weight.shape[0]}")
    chain.append(node, n.Affine(weight=weight, bias=bias))


def _matmul(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Y = A B with B constant (in, out): IR W = B^T."""
    chain.activation(node, label, 0)
    b = chain.constant(node, label, 1)
    if len(chain.shape) != 1 or b.ndim != 2:
        raise refuse(node, label, f"needs A (batch, features) and a constant matrix B; got "
                                  f"A (batch, {', '.join(map(str, chain.shape))}), B {b.shape}")
    chain.append(node, n.Linear(weight=b.T))


def _add(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Y = X + c: c becomes the bias of the Gemm, MatMul or Conv just before."""
    constant = [i for i in (0, 1) if node.input[i] in chain.constants]
    if not constant:
        raise refuse(node, label, "adds two activations (a branch or skip connection): only "
                                  "chains of layers are supported")
    chain.activation(node, label, 1 - constant[0])
    last = chain.last_weighted(node, label)
    bias = per_channel(chain.constant(node, label, constant[0]), chain.shape)
    if bias is None:
        raise refuse(node, label, "the added constant is not a per-channel bias")
    if isinstance(last, n.Linear):
        chain.replace_last(node, n.Affine(weight=last.weight, bias=bias))
    else:
        chain.replace_last(node, replace(last, bias=last.bias + bias))


def _conv(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Cross-correlation with PyTorch semantics: group, dilations, strides, symmetric pads."""
    chain.activation(node, label, 0)
    weight = chain.constant(node, label, 1)
    dims, kernel = weight.ndim - 2, list(weight.shape[2:])
    if dims not in (1, 2) or attrs.get("kernel_shape", kernel) != kernel:
        raise refuse(node, label, f"weight of shape {weight.shape}: only 1-d and 2-d "
                                  "convolutions whose kernel_shape matches the weight")
    bias = chain.constant(node, label, 2)
    layer = (n.Conv1d if dims == 1 else n.Conv2d)(
        weight=weight, bias=np.zeros(weight.shape[0]) if bias is None else bias,
        stride=attrs.get("strides", 1), padding=_pads(node, label, attrs, dims),
        dilation=attrs.get("dilations", 1), groups=attrs.get("group", 1))
    chain.append(node, layer)


def _pads(node: Any, label: str, attrs: dict, dims: int) -> tuple[int, ...]:
    """ONNX pads (begin..., end...) as the IR's symmetric padding per spatial dim."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID"):
        raise refuse(node, label, f"auto_pad {auto_pad} is not supported (export explicit pads)")
    pads = list(attrs.get("pads", [0] * 2 * dims)) if auto_pad == "NOTSET" else [0] * 2 * dims
    if pads[:dims] != pads[dims:]:
        raise refuse(node, label, f"asymmetric pads {pads} are not supported (IR padding is "
                                  "the same at both ends)")
    return tuple(pads[:dims])


def _batch_norm(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """y = s (x - mean) + beta with s = gamma / sqrt(var + eps), folded into the layer before:
    W' = s W (per output channel), b' = s b + beta - s mean."""
    chain.activation(node, label, 0)
    last = chain.last_weighted(node, label)
    if attrs.get("training_mode", 0):
        raise refuse(node, label, "training_mode = 1 (export the model in eval mode)")
    gamma, beta, mean, var = (chain.constant(node, label, i) for i in range(1, 5))
    scale = gamma / np.sqrt(var + attrs.get("epsilon", 1e-5))
    weight = last.weight * scale.reshape(-1, *[1] * (last.weight.ndim - 1))
    bias = scale * getattr(last, "bias", 0.0) + (beta - scale * mean)
    if isinstance(last, n.Linear):
        chain.replace_last(node, n.Affine(weight=weight, bias=bias))
    else:
        chain.replace_last(node, replace(last, weight=weight, bias=bias))


# ---------------------------------------------------------------------------------------------
# Activations, pooling, reshaping


def _relu(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """ReLU -> IF population: v += x; spike if v > 1; v -= 1 (rate ~ max(0, x), up to 1)."""
    chain.activation(node, label, 0)
    chain.append(node, if_population(chain.shape))


def if_population(shape: tuple[int, ...]) -> n.IF:
    """Rate-coding IF neurons: threshold 1 (balancing scales the weights), reset by
    subtraction (keeps the residual charge, so the rate is not biased downwards)."""
    return n.IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape),
                reset="subtract")


def _pool_window(chain: Chain, node: Any, label: str, attrs: dict) -> dict[str, tuple]:
    chain.activation(node, label, 0)
    if len(chain.shape) != 3 or attrs.get("ceil_mode", 0) or any(
            d != 1 for d in attrs.get("dilations", [1, 1])):
        raise refuse(node, label, "only 2-d pooling over (C, H, W), ceil_mode = 0, dilations 1")
    kernel = tuple(attrs["kernel_shape"])
    return {"kernel_size": kernel, "stride": tuple(attrs.get("strides", (1, 1))),
            "padding": _pads(node, label, attrs, 2)}


def _average_pool(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    window = _pool_window(chain, node, label, attrs)
    if any(window["padding"]) and not attrs.get("count_include_pad", 0):
        raise refuse(node, label, "padding with count_include_pad = 0 is not supported (the "
                                  "IR's AvgPool2d divides by the whole window)")
    chain.append(node, n.AvgPool2d(**window))


def _max_pool(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Approximated by average pooling: the IR has no spiking max (as Sinabs and SNN Toolbox
    without their gated max-pool); balancing is computed on the averaged network."""
    chain.append(node, n.AvgPool2d(**_pool_window(chain, node, label, attrs)))
    chain.notes.append(f"{chain.layers[-1][0]}: MaxPool approximated by AvgPool2d (the IR has "
                       "no spiking max-pooling); the SNN approximates the average-pooled ANN")


def _global_average_pool(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    chain.activation(node, label, 0)
    if len(chain.shape) != 3:
        raise refuse(node, label, f"needs a (C, H, W) input, got {chain.shape}")
    window = chain.shape[1:]
    chain.append(node, n.AvgPool2d(kernel_size=window, stride=window, padding=0))


def _flatten(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """ONNX Flatten(axis=1) keeps the batch and flattens the rest: IR Flatten(start_dim=0)."""
    chain.activation(node, label, 0)
    axis = attrs.get("axis", 1)
    if axis != 1 and axis != -len(chain.shape):
        raise refuse(node, label, f"axis {axis} would merge the batch dimension (only axis 1)")
    _to_features(chain, node, label)


def _reshape(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Supported as flattening only: target (batch, features), (batch, -1), (-1, features);
    batch given as 0, -1 or the export's batch size."""
    chain.activation(node, label, 0)
    target = [int(v) for v in chain.constant(node, label, 1)]
    features = math.prod(chain.shape)
    flat = len(target) == 2 and (target[1] == features or (target[1] == -1 and target[0] != -1))
    if not flat or (target[0] == 0 and attrs.get("allowzero", 0)):
        raise refuse(node, label, f"reshape to {target} is supported only as flattening to "
                                  f"(batch, {features})")
    _to_features(chain, node, label)


def _to_features(chain: Chain, node: Any, label: str) -> None:
    if len(chain.shape) == 1:
        chain.alias(node)  # already (batch, features)
    else:
        chain.append(node, n.Flatten(start_dim=0, end_dim=-1))


def _identity(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Identity, and Dropout at inference: the output is the input."""
    chain.activation(node, label, 0)
    chain.alias(node)


def _softmax(chain: Chain, node: Any, label: str, attrs: dict) -> None:
    """Dropped: monotonic per sample, so it does not change the predicted class."""
    chain.activation(node, label, 0)
    if attrs.get("axis", -1 if chain.opset >= 13 else 1) % (len(chain.shape) + 1) == 0:
        raise refuse(node, label, "normalizes over the batch dimension")
    chain.alias(node)
    chain.final_op = f"{node.op_type} '{label}'"
    chain.notes.append(f"{label}: {node.op_type} dropped (it does not change the argmax; the "
                       "readout gives the scores before it)")


OpConverter = Callable[[Chain, Any, str, dict], None]
OPS: dict[str, OpConverter] = {
    "Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Conv": _conv,
    "BatchNormalization": _batch_norm, "Relu": _relu, "AveragePool": _average_pool,
    "MaxPool": _max_pool, "GlobalAveragePool": _global_average_pool, "Flatten": _flatten,
    "Reshape": _reshape, "Identity": _identity, "Dropout": _identity, "Softmax": _softmax,
    "LogSoftmax": _softmax,
}
RANDOM_OPS = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
              "Multinomial", "Bernoulli"}  # never folded: a constant must not be random
