"""Shape inference: one rule per node type, ``rule(node, input_shape) -> output_shape``.

Shapes exclude the batch dimension. A rule raises ``GraphError`` (without the node's name;
the graph adds it) when the input shape does not fit the node.
"""
from __future__ import annotations

import functools
import math
import os
import re
from typing import Callable, Union

import numpy as np

from ..errors import GraphError, MemoryLimitError, OptionError
from . import nodes as n

Shape = n.Shape


def conv_output_length(length: int, kernel: int, stride: int, pads: tuple[int, int],
                       dilation: int = 1) -> int:
    """PyTorch's output length of a convolution or pooling along one dimension."""
    return (length + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """PyTorch's (left, right) padding for padding='same' (stride 1): extra goes right."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def conv_pads(node: n._Conv) -> list[tuple[int, int]]:
    """Explicit (left, right) padding per spatial dimension of a convolution."""
    if node.padding == "valid":
        return [(0, 0)] * node.spatial_dims
    if node.padding == "same":
        return [same_padding(k, d) for k, d in zip(node.kernel_size, node.dilation)]
    return [(p, p) for p in node.padding]


def _same(node: n.Node, shape: Shape) -> Shape:
    return shape


def _matrix(node: n.Affine | n.Linear, shape: Shape) -> Shape:
    out_features, in_features = node.weight.shape
    if shape != (in_features,):
        raise GraphError(f"expects input ({in_features},), got {shape}")
    return (out_features,)


def _elementwise(param: str) -> Callable[[n.Node, Shape], Shape]:
    def rule(node: n.Node, shape: Shape) -> Shape:
        value = getattr(node, param)
        try:
            broadcast = tuple(int(d) for d in np.broadcast_shapes(value.shape, shape))
        except ValueError:
            broadcast = None
        if broadcast != shape:
            raise GraphError(f"{param} of shape {value.shape} does not fit input {shape}")
        return shape
    return rule


def _neuron(node: n.Neuron, shape: Shape) -> Shape:
    if node.shape != shape:
        raise GraphError(f"population shape {node.shape} does not match input {shape}")
    return shape


def _conv(node: n._Conv, shape: Shape) -> Shape:
    channels_in = node.weight.shape[1] * node.groups
    if len(shape) != node.spatial_dims + 1 or shape[0] != channels_in:
        raise GraphError(f"expects input ({channels_in}, {'*, ' * node.spatial_dims}"
                         f"...) with {node.spatial_dims} spatial dims, got {shape}")
    if node.padding == "same" and any(s != 1 for s in node.stride):
        raise GraphError("padding='same' needs stride 1")
    spatial = tuple(
        conv_output_length(length, k, s, pads, d)
        for length, k, s, pads, d in zip(shape[1:], node.kernel_size, node.stride, conv_pads(node),
                                         node.dilation)
    )
    if min(spatial) < 1:
        raise GraphError(f"input {shape} is too small for kernel {node.kernel_size}")
    return (node.weight.shape[0], *spatial)


def _pool(node: n._Pool2d, shape: Shape) -> Shape:
    if len(shape) != 3:
        raise GraphError(f"expects a (C, H, W) input, got {shape}")
    spatial = tuple(
        conv_output_length(length, k, s, (p, p))
        for length, k, s, p in zip(shape[1:], node.kernel_size, node.stride, node.padding)
    )
    if min(spatial) < 1:
        raise GraphError(f"input {shape} is too small for kernel {node.kernel_size}")
    return (shape[0], *spatial)


def flatten_range(node: n.Flatten, ndim: int) -> tuple[int, int]:
    """The (start, end) dims, made non-negative, that a Flatten merges in an ndim-d input."""
    start = node.start_dim + ndim if node.start_dim < 0 else node.start_dim
    end = node.end_dim + ndim if node.end_dim < 0 else node.end_dim
    if not 0 <= start <= end < max(ndim, 1):
        raise GraphError(f"start_dim={node.start_dim}, end_dim={node.end_dim} do not fit a {ndim}-d input")
    return start, end


def _flatten(node: n.Flatten, shape: Shape) -> Shape:
    start, end = flatten_range(node, len(shape))
    return (*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])


def _output(node: n.Output, shape: Shape) -> Shape:
    if node.shape != shape:
        raise GraphError(f"declared shape {node.shape} does not match its input {shape}")
    return shape


SHAPE_RULES: dict[type, Callable] = {
    n.Output: _output,
    n.Affine: _matrix,
    n.Linear: _matrix,
    n.Scale: _elementwise("scale"),
    n.Threshold: _elementwise("threshold"),
    n.Delay: _elementwise("delay"),
    n.Conv1d: _conv,
    n.Conv2d: _conv,
    n.SumPool2d: _pool,
    n.AvgPool2d: _pool,
    n.Flatten: _flatten,
    n.I: _neuron,
    n.IF: _neuron,
    n.LI: _neuron,
    n.LIF: _neuron,
    n.CubaLI: _neuron,
    n.CubaLIF: _neuron,
}


def output_shape(node: n.Node, shape: Shape) -> Shape:
    """The output shape of ``node`` for an input of ``shape``."""
    return SHAPE_RULES.get(type(node), _same)(node, shape)


# -- memory limit: declared sizes are checked before anything of that size is allocated ------

MAX_MEMORY_VARIABLE = "SNNC_MAX_MEMORY"
MEMORY_FRACTION = 0.5  # of physical memory by default: leaves room for the OS and a copy
FALLBACK_MEMORY = 8 * 2**30  # where the machine's memory cannot be read
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
SIZE = re.compile(r"\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*([KMGT]?)(?:i?B)?\s*", re.IGNORECASE)


def memory_limit() -> int:
    """The most bytes one command may plan to allocate: ``SNNC_MAX_MEMORY`` (e.g. ``4G``,
    ``512M``, ``1e9``) if set, else half the machine's physical memory."""
    text = os.environ.get(MAX_MEMORY_VARIABLE, "").strip()
    return _parse_size(text) if text else int(_physical_memory() * MEMORY_FRACTION)


@functools.lru_cache(maxsize=8)  # checked for every node of every graph built
def _parse_size(text: str) -> int:
    match = SIZE.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise OptionError(f"{MAX_MEMORY_VARIABLE}={text!r}: expected a size such as 4G, "
                          f"512M or 1e9 (bytes)")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


@functools.lru_cache(maxsize=1)
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return FALLBACK_MEMORY


Described = Union[str, Callable[[], str]]  # a message, or a function that makes it when needed


def check_memory(what: Described, nbytes: int) -> None:
    """Raise ``MemoryLimitError`` naming ``what`` if ``nbytes`` exceed the memory limit."""
    limit = memory_limit()
    if nbytes > limit:
        what = what() if callable(what) else what
        raise MemoryLimitError(f"{what} needs {format_bytes(nbytes)}, over the memory limit "
                               f"{format_bytes(limit)} (--max-memory or {MAX_MEMORY_VARIABLE} changes it)")


def check_shape_memory(what: Described, shape: tuple[int, ...], arrays: int = 1) -> None:
    """``arrays`` float64 arrays of ``shape`` must fit in the memory limit."""
    count = math.prod(shape)

    def described() -> str:
        text = what() if callable(what) else what
        return f"{text} ({count:,} values{f' x {arrays} arrays' if arrays > 1 else ''})"

    check_memory(described, count * arrays * 8)


def format_bytes(nbytes: float) -> str:
    """1536 -> '1.5 KB' (binary units, as memory is sold)."""
    if nbytes < 1024:
        return f"{nbytes:.0f} B"
    if nbytes >= 1024 ** 6:  # declared sizes can be any integer, beyond what a float holds
        return f"more than {1024 ** 6 // 2**50:,} PB"
    power = min(int(math.log(nbytes, 1024)), 5)
    return f"{nbytes / 1024 ** power:.1f} {' KMGTP'[power]}B"
