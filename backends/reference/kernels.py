"""Stateless maps of the reference target, vectorized over any number of leading axes.

``apply(x)`` takes x shaped (..., *input_shape): the simulator passes a whole (steps, batch)
sequence at once, so a layer costs one matrix product over all timesteps.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from snnc.ir import nodes as n
from snnc.ir.shapes import conv_pads, flatten_range
from snnc.options import SimOptions


class Kernel:
    """A stateless node: ``apply`` maps inputs to outputs; no state to reset."""

    def __init__(self, node: n.Node, options: SimOptions, in_shape: tuple[int, ...]):
        self.dtype = np.dtype(options.dtype)
        self.in_shape = in_shape

    def cast(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(value, dtype=self.dtype)

    def apply(self, x: np.ndarray) -> np.ndarray:
        return x


class Matrix(Kernel):
    """Affine and Linear: y = x W^T (+ b)."""

    def __init__(self, node: n.Affine | n.Linear, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        self.weight_t = np.ascontiguousarray(self.cast(node.weight).T)
        bias = getattr(node, "bias", None)
        self.bias = None if bias is None or not bias.any() else self.cast(bias)

    def apply(self, x: np.ndarray) -> np.ndarray:
        # one 2-D product: numpy runs a 3-D (steps, batch, in) matmul as many small ones
        y = x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ self.weight_t
        if self.bias is not None:
            y += self.bias
        return y.reshape(*x.shape[:-1], y.shape[-1])


class DelayedMatrix(Matrix):
    """Per-synapse delays: y_i[t] = sum_j W_ij x_j[t - k_ij] + b_i, k = round(delay / dt) steps,
    as one matrix per distinct delay. Stateful: a step needs the last max(k) inputs."""

    def __init__(self, node: n.Affine | n.Linear, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        steps = np.rint(node.delay / options.dt).astype(np.int64)
        self.taps = [(int(k), np.ascontiguousarray(self.cast(np.where(steps == k, node.weight, 0)).T))
                     for k in np.unique(steps)]

    def sequence(self, x: np.ndarray) -> np.ndarray:
        """The whole (steps, batch, in) sequence: each tap is one product, shifted in time."""
        flat = x.reshape(len(x), -1, x.shape[-1])
        y = np.zeros((*flat.shape[:2], self.weight_t.shape[1]), dtype=self.dtype)
        for k, weight_t in self.taps:
            if k < len(x):
                shifted = flat[:len(x) - k]
                y[k:] += (shifted.reshape(-1, x.shape[-1]) @ weight_t).reshape(*shifted.shape[:2], -1)
        if self.bias is not None:
            y += self.bias
        return y.reshape(*x.shape[:-1], y.shape[-1])

    def init(self, batch: int) -> None:
        self.history = np.zeros((self.taps[-1][0] + 1, batch, self.weight_t.shape[0]), self.dtype)
        self.t = 0

    def state(self) -> dict[str, np.ndarray]:
        return {}

    def drive(self, x: np.ndarray) -> np.ndarray:
        return x

    def step(self, x: np.ndarray) -> np.ndarray:
        slots = len(self.history)
        self.history[self.t % slots] = x
        y = sum(self.history[(self.t - k) % slots] @ weight_t for k, weight_t in self.taps)
        self.t += 1
        return y if self.bias is None else y + self.bias


class Elementwise(Kernel):
    """Scale (y = s x) and Threshold (y = [x > theta])."""

    def __init__(self, node: n.Scale | n.Threshold, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        self.is_scale = isinstance(node, n.Scale)
        self.value = self.cast(node.scale if self.is_scale else node.threshold)

    def apply(self, x: np.ndarray) -> np.ndarray:
        return x * self.value if self.is_scale else (x > self.value).astype(self.dtype)


class Flatten(Kernel):
    def __init__(self, node: n.Flatten, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        start, end = flatten_range(node, len(in_shape))
        self.out_shape = (*in_shape[:start], math.prod(in_shape[start:end + 1]), *in_shape[end + 1:])

    def apply(self, x: np.ndarray) -> np.ndarray:
        lead = x.shape[:x.ndim - len(self.in_shape)]
        return x.reshape(*lead, *self.out_shape)


def windows(x: np.ndarray, kernel, stride, dilation, pads) -> np.ndarray:
    """View (N, C, *spatial) as (N, C, *out_spatial, *kernel) sliding windows (no copy).

    Built from numpy's bounds-checked ``sliding_window_view`` rather than ``as_strided``: a
    parameter that slipped past validation must fail, never read outside the buffer."""
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    dims = len(kernel)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    view = sliding_window_view(x, spans, axis=tuple(range(2, 2 + dims)))
    picks = (*(slice(None, None, s) for s in stride), *(slice(None, None, d) for d in dilation))
    return view[(slice(None), slice(None), *picks)]


class Conv(Kernel):
    """Conv1d / Conv2d with PyTorch semantics (cross-correlation, groups, dilation)."""

    def __init__(self, node: n._Conv, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        self.node = node
        self.pads = conv_pads(node)
        g, c_out = node.groups, node.weight.shape[0]
        # (G, C_out/G, C_in/G, *kernel)
        self.weight = self.cast(node.weight).reshape(g, c_out // g, *node.weight.shape[1:])
        self.bias = self.cast(node.bias)

    def apply(self, x: np.ndarray) -> np.ndarray:
        node, dims = self.node, self.node.spatial_dims
        lead = x.shape[:x.ndim - dims - 1]
        flat = x.reshape(-1, *x.shape[-dims - 1:])
        view = windows(flat, node.kernel_size, node.stride, node.dilation, self.pads)
        g = node.groups
        view = view.reshape(view.shape[0], g, view.shape[1] // g, *view.shape[2:])
        # contract channels-in and kernel: (N, G, Cg, *out, *k) x (G, Og, Cg, *k) -> (N, G, Og, *out)
        letters = "hwxyz"[:dims]
        kernel_letters = "klm"[:dims]
        spec = f"ngc{letters}{kernel_letters},goc{kernel_letters}->ngo{letters}"
        y = np.einsum(spec, view, self.weight, optimize=True)
        y = y.reshape(y.shape[0], -1, *y.shape[3:])
        y = y + self.bias.reshape(-1, *([1] * dims))
        return y.reshape(*lead, *y.shape[1:])


class Pool(Kernel):
    """SumPool2d / AvgPool2d over zero-padded windows (AvgPool divides by the window size)."""

    def __init__(self, node: n._Pool2d, options: SimOptions, in_shape):
        super().__init__(node, options, in_shape)
        self.node = node
        self.divisor = math.prod(node.kernel_size) if isinstance(node, n.AvgPool2d) else 1

    def apply(self, x: np.ndarray) -> np.ndarray:
        node = self.node
        lead = x.shape[:x.ndim - 3]
        flat = x.reshape(-1, *x.shape[-3:])
        view = windows(flat, node.kernel_size, node.stride, (1, 1), [(p, p) for p in node.padding])
        y = view.sum(axis=(-2, -1))
        if self.divisor != 1:
            y = y / self.dtype.type(self.divisor)
        return y.reshape(*lead, *y.shape[1:]).astype(self.dtype, copy=False)


STATELESS = {n.Affine: Matrix, n.Linear: Matrix, n.Scale: Elementwise, n.Threshold: Elementwise,
             n.Flatten: Flatten, n.Conv1d: Conv, n.Conv2d: Conv, n.SumPool2d: Pool,
             n.AvgPool2d: Pool, n.Input: Kernel, n.Output: Kernel}
