"""Shared by the torch-based frontends: plain torch layers -> IR nodes, and a sequence builder.

Torch layouts are batched; IR shapes are not, so Flatten's dims shift by one. Only what maps
exactly is accepted: zero padding, AvgPool counting padding, LPPool with p = 1 (a sum).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from snnc.errors import GraphError, ModelFileError, UnsupportedLayerError
from snnc.ir import Graph, Input, Output, output_shape
from snnc.ir import nodes as n


def values(x: Any) -> np.ndarray:
    """A numpy array from a tensor, parameter or number (float32 tensors stay float32)."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def input_shape_of(sample: Any) -> tuple[int, ...]:
    """The unbatched input shape of a sample shaped (batch, *shape); a 1-D sample is unbatched."""
    shape = tuple(int(d) for d in sample.shape)
    return shape if len(shape) == 1 else shape[1:]


def run_sample(module: Any, sample: Any, framework: str) -> None:
    """Run the module once on its sample: a model that cannot run is refused in one line."""
    import torch

    try:
        with torch.no_grad():
            module(sample)
    except Exception as error:  # any failure inside the user's model
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelFileError(f"the {framework} model does not run on its sample input of shape "
                             f"{tuple(sample.shape)}: {type(error).__name__}: {first_line}") from None


def _linear(layer: Any) -> n.Node:
    weight = values(layer.weight)
    if layer.bias is None:
        return n.Linear(weight=weight)
    return n.Affine(weight=weight, bias=values(layer.bias))


def _conv(layer: Any) -> n.Node:
    if layer.padding_mode != "zeros":
        raise UnsupportedLayerError(f"{type(layer).__name__} padding_mode '{layer.padding_mode}' "
                                    "is not supported (only 'zeros')")
    cls = n.Conv1d if type(layer).__name__ == "Conv1d" else n.Conv2d
    bias = values(layer.bias) if layer.bias is not None else np.zeros(layer.out_channels)
    return cls(weight=values(layer.weight), bias=bias, stride=layer.stride, padding=layer.padding,
               dilation=layer.dilation, groups=layer.groups)


def _avg_pool(layer: Any) -> n.Node:
    if layer.ceil_mode or not layer.count_include_pad or layer.divisor_override:
        raise UnsupportedLayerError("AvgPool2d with ceil_mode, count_include_pad=False or "
                                    "divisor_override is not supported")
    return n.AvgPool2d(kernel_size=layer.kernel_size, stride=layer.stride or layer.kernel_size,
                       padding=layer.padding)


def _lp_pool(layer: Any) -> n.Node:
    if float(layer.norm_type) != 1 or layer.ceil_mode:
        raise UnsupportedLayerError("LPPool2d is supported only with norm_type=1 (a sum pool)")
    return n.SumPool2d(kernel_size=layer.kernel_size, stride=layer.stride or layer.kernel_size,
                       padding=0)


def _flatten(layer: Any) -> n.Node:
    if layer.start_dim == 0:
        raise UnsupportedLayerError("Flatten(start_dim=0) would merge the batch dimension")
    end = layer.end_dim - 1 if layer.end_dim > 0 else layer.end_dim
    return n.Flatten(start_dim=layer.start_dim - 1, end_dim=end)


# torch class name -> converter (None: the layer is the identity at inference and is dropped)
TORCH_LAYERS: dict[str, Callable[[Any], n.Node] | None] = {
    "Linear": _linear, "Conv1d": _conv, "Conv2d": _conv, "AvgPool2d": _avg_pool,
    "LPPool2d": _lp_pool, "Flatten": _flatten, "Dropout": None, "Identity": None,
}


def max_pool(builder: SequenceBuilder, name: str, pool: Any, binary: bool) -> None:
    """max over a window of 0/1 spikes = [window sum > 0.5]; zero padding adds nothing to it."""
    if not binary:
        raise UnsupportedLayerError("MaxPool2d is supported only on spikes (after a neuron "
                                    "layer): the IR has no max of real values; move it after "
                                    "the neurons (Conv2d -> Leaky -> MaxPool2d is exact) or "
                                    "use AvgPool2d")
    if pool.ceil_mode or pool.return_indices or values(pool.dilation).max() != 1:
        raise UnsupportedLayerError("MaxPool2d with ceil_mode, return_indices or dilation is "
                                    "not supported")
    builder.add(f"{name}.sum", n.SumPool2d(kernel_size=pool.kernel_size,
                                           stride=pool.stride or pool.kernel_size,
                                           padding=pool.padding))
    builder.add(name, n.Threshold(threshold=np.full(builder.shape, 0.5)))


class SequenceBuilder:
    """Builds a chain input -> layers -> output, tracking the shape that flows along it."""

    def __init__(self, input_shape: tuple[int, ...]):
        self.nodes: dict[str, n.Node] = {"input": Input(shape=input_shape)}
        self.edges: list[tuple[str, str]] = []
        self.last, self.shape = "input", input_shape

    def add(self, name: str, node: n.Node | None) -> None:
        """Append a node fed by the previous one; None (an identity layer) adds nothing."""
        if node is None:
            return
        self._check(name, node, self.shape)
        self.nodes[name] = node
        self.edges.append((self.last, name))
        self.last, self.shape = name, output_shape(node, self.shape)

    def add_recurrent(self, name: str, node: n.Node, population: str) -> None:
        """A node fed by ``population`` that feeds back into it (one step of delay)."""
        self._check(name, node, self.shape)
        self.nodes[name] = node
        self.edges += [(population, name), (name, population)]

    def graph(self, metadata: dict) -> Graph:
        self.nodes["output"] = Output(shape=self.shape)
        return Graph(nodes=self.nodes, edges=(*self.edges, (self.last, "output")),
                     metadata=metadata)

    @staticmethod
    def _check(name: str, node: n.Node, shape: tuple[int, ...]) -> None:
        try:
            output_shape(node, shape)
        except GraphError as error:
            raise GraphError(f"layer '{name}' ({node.type_name}): {error}") from None
