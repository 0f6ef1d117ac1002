"""Synapses with per-synapse delays, and the two kernels that deliver spikes: integer weights
(exact, the default) or float64 weights (``dtype=np.float64``, for float process models).

``Synapses`` stores the nonzero weights of one connection as fan-out lists: CSR over the *input*
neurons, so one input's outgoing synapses are contiguous, as an event-driven chip reads them
when a spike arrives. Each synapse has a delay; the distinct delays are the connection's *slots*.

``deliver(spikes)`` maps bool spikes (N, n_in) to int64 partial sums (N, slots, n_out):
``partial[r, k, i] = sum_j W[i, j] * spikes[r, j]`` over the synapses j -> i of slot k. Two
kernels compute it, with identical results (both are exact integer sums):

- ``dense``: one matrix product with the (n_in, slots * n_out) weight matrix. It runs in float32
  BLAS when every partial sum is an integer below 2**24 in magnitude (max over targets of
  sum_j |W_ij| < 2**24), in float64 below 2**53, else in int64; below those bounds every
  intermediate sum, in any order, is an exactly representable integer, so the float result
  is exact.
- ``sparse``: gather the fan-out lists of the active inputs and add them with ``np.bincount``
  (float64, exact below 2**53; int64 ``np.add.at`` above).

Rule (``auto``): a product costs N * n_in * slots * n_out multiply-adds at BLAS speed; an event
(one active input times one of its synapses) costs about ``EVENT_COST`` of them. The sparse
kernel runs when ``events * EVENT_COST < N * n_in * slots * n_out``, i.e. when
activity x density < 1 / EVENT_COST (about 0.4%). The dense matrix is never built when the
density alone already rules it out, or when it would exceed ``DENSE_LIMIT`` entries.

Float weights: the same two kernels in float64 (the product in float64 BLAS, the sparse sums
with ``np.bincount``). Their sums are rounded, so dense and sparse may differ in the last bits;
the sparse kernel adds each row's terms in one fixed order (by input), so ``kernel="sparse"``
gives the same bits however the rows are grouped into calls.
"""
from __future__ import annotations

import numpy as np

from snnc.errors import GraphError

# Cost of one event in the sparse kernel, in float32 BLAS multiply-adds: measured 250-400 on a
# 512 x 512 connection over 200 steps (2 cores, numpy 1.26 / OpenBLAS), at densities 0.02-1.
EVENT_COST = 256
DENSE_LIMIT = 1 << 25  # entries of the dense (n_in, slots * n_out) matrix: 128 MiB at float32
KERNELS = ("auto", "dense", "sparse")


class Synapses:
    """Nonzero weights W[i, j] (target i, source j) with delays, int64 or float64 (``dtype``).

    Two storages, each built from the other on first use: the fan-out lists of
    ``fanout_lists`` and the dense stack (slots, n_out, n_in) of ``to_dense``.
    ``fanout`` (nonzeros per input), ``delays`` (the distinct delays, ascending) and
    ``max_abs_row_sum`` are always there.
    """

    def __init__(self, n_out: int, n_in: int, target: np.ndarray, source: np.ndarray,
                 weight: np.ndarray, delay: np.ndarray | int = 0, dtype=np.int64):
        """From coordinate lists (any order; zeros are dropped)."""
        target, source = np.asarray(target, np.int64), np.asarray(source, np.int64)
        self.dtype = _weight_dtype(dtype)
        weight = np.asarray(weight, self.dtype)
        delay = np.broadcast_to(np.asarray(delay, np.int64), weight.shape)
        _check_coo(n_out, n_in, target, source, weight, delay)
        keep = weight != 0
        if not keep.all():
            target, source, weight, delay = (a[keep] for a in (target, source, weight, delay))
        self.n_out, self.n_in = int(n_out), int(n_in)
        self.delays, slot = _slots(delay)
        # fan-out lists: by input, then delay slot, then target (one int64 sort key)
        key = (source * len(self.delays) + slot) * self.n_out + target
        if len(key) > 1 and (np.diff(key) < 0).any():
            order = np.argsort(key, kind="stable")
            source, target, weight, slot = (a[order] for a in (source, target, weight, slot))
        self._set_lists(target, weight, slot, np.bincount(source, minlength=n_in))
        self.max_abs_row_sum = self._bound(np.bincount(target, np.abs(weight), n_out))
        self._stack = None

    @classmethod
    def from_dense(cls, weights: np.ndarray, delays: np.ndarray | int = 0,
                   dtype=np.int64) -> "Synapses":
        """From a matrix (n_out, n_in) of ``dtype`` and a delay per synapse (matrix or one
        int)."""
        dtype = _weight_dtype(dtype)
        weights = np.asarray(weights, dtype)
        if weights.ndim != 2:
            raise GraphError(f"weights must be a 2-D (n_out, n_in) matrix, got {weights.shape}")
        delays = np.asarray(delays, np.int64)
        nonzero = weights != 0
        if delays.ndim and delays.shape != weights.shape:
            raise GraphError(f"delays must be one int or shaped {weights.shape}, "
                             f"got {delays.shape}")
        if delays.size and delays.min() < 0:
            raise GraphError(f"synapse delays must be >= 0, got {int(delays.min())}")
        if dtype.kind == "f" and not np.all(np.isfinite(weights)):
            raise GraphError("synapse weights must be finite")
        self = cls.__new__(cls)
        self.dtype = dtype
        self.n_out, self.n_in = weights.shape
        if delays.ndim:
            self.delays, _ = _slots(delays[nonzero])
            # one delay shared by every synapse (the usual case): the matrix is its only slot,
            # as it is for a scalar delay; a per-slot copy took 38 % of SpiNNaker's mapping
            # memory at 1e5 neurons (benchmarks/scale.py)
            self._stack = weights[None] if len(self.delays) == 1 else np.stack(
                [np.where(delays == d, weights, 0) for d in self.delays])
        else:
            self.delays, self._stack = delays.reshape(1), weights[None]
        self._set_counts(nonzero.sum(axis=0))
        self.max_abs_row_sum = self._bound(np.abs(weights).sum(axis=1))
        self._lists = None
        return self

    def _bound(self, abs_row_sums: np.ndarray) -> int | float:
        """max over targets of sum_j |W_ij|: an int for integer weights (exactness proofs)."""
        top = abs_row_sums.max(initial=0)
        return int(top) if self.dtype.kind == "i" else float(top)

    def _set_counts(self, fanout: np.ndarray) -> None:
        self.fanout = fanout.astype(np.int64)
        self._fanout_f = self.fanout.astype(np.float64)
        self._dense = None  # the float kernel matrix, built on first use

    def _set_lists(self, target, weight, slot, fanout) -> None:
        self._set_counts(fanout)
        self._indptr = np.concatenate([[0], np.cumsum(self.fanout)])
        self._target, self._weight, self._slot = target, weight, slot
        self._key = slot * self.n_out + target  # flat (slot, target) index
        self._lists = True

    def _ensure_lists(self) -> None:
        if self._lists is None:  # from the dense stack, source-major: already in CSR order
            by_source = self._stack.transpose(2, 0, 1)  # (n_in, slots, n_out)
            mask = by_source != 0
            _, slot, target = np.nonzero(mask)
            self._set_lists(target, by_source[mask], slot, self.fanout)

    def fanout_lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """CSR over the inputs: (indptr (n_in + 1,), target, weight, slot), one entry per
        synapse, grouped by input, then delay slot (index into ``delays``), then target."""
        self._ensure_lists()
        return self._indptr, self._target, self._weight, self._slot

    @property
    def nnz(self) -> int:
        return int(self.fanout.sum())

    @property
    def density(self) -> float:
        return self.nnz / (self.n_in * self.n_out)

    def to_dense(self) -> np.ndarray:
        """The weights as (slots, n_out, n_in) of ``dtype``."""
        if self._stack is not None:
            return self._stack
        dense = np.zeros((len(self.delays), self.n_out, self.n_in), self.dtype)
        source = np.repeat(np.arange(self.n_in), self.fanout)
        dense[self._slot, self._target, source] = self._weight
        return dense

    def events(self, spikes: np.ndarray) -> np.ndarray:
        """Synaptic events per row of bool spikes (N, n_in): active inputs x their fan-out
        (float64 BLAS: exact, as every row's count is below n_in * n_out < 2**53)."""
        return (spikes.astype(np.float64) @ self._fanout_f).astype(np.int64)

    def deliver(self, spikes: np.ndarray, kernel: str = "auto",
                events: int | None = None) -> np.ndarray:
        """Partial sums (N, slots, n_out) of bool spikes (N, n_in), of ``dtype``; see the
        module doc."""
        n = spikes.shape[0]
        if kernel == "auto":
            if events is None:
                events = int(self.events(spikes).sum())
            kernel = "sparse" if events * EVENT_COST < n * self.dense_size else "dense"
            if kernel == "dense" and not self._dense_allowed():
                kernel = "sparse"
        if kernel == "dense":
            return self._deliver_dense(spikes)
        if kernel == "sparse":
            return self._deliver_sparse(spikes)
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got '{kernel}'")

    @property
    def dense_size(self) -> int:
        return self.n_in * len(self.delays) * self.n_out

    def _dense_allowed(self) -> bool:
        return self.dense_size <= DENSE_LIMIT and self.density * EVENT_COST >= 1

    def _dense_matrix(self) -> np.ndarray:
        if self._dense is None:
            dtype = (_exact_float(self.max_abs_row_sum, np.float32) if self.dtype.kind == "i"
                     else np.float64)
            slots = self.to_dense()  # (slots, n_out, n_in)
            self._dense = np.ascontiguousarray(
                slots.transpose(2, 0, 1).reshape(self.n_in, -1)).astype(dtype)
        return self._dense

    def _deliver_dense(self, spikes: np.ndarray) -> np.ndarray:
        matrix = self._dense_matrix()
        product = spikes.astype(matrix.dtype) @ matrix
        return product.astype(self.dtype, copy=False).reshape(len(spikes), -1, self.n_out)

    def _deliver_sparse(self, spikes: np.ndarray) -> np.ndarray:
        self._ensure_lists()
        n, width = len(spikes), len(self.delays) * self.n_out
        rows, cols = np.nonzero(spikes)
        counts = self.fanout[cols]
        total = int(counts.sum())
        # positions of every event's synapses in the fan-out lists
        first = np.cumsum(counts) - counts
        pos = np.arange(total) + np.repeat(self._indptr[cols] - first, counts)
        flat = np.repeat(rows * width, counts) + self._key[pos]
        if self.dtype.kind == "f":
            out = np.bincount(flat, self._weight[pos], n * width)
        elif _exact_float(self.max_abs_row_sum, np.float64) == np.float64:
            out = np.bincount(flat, self._weight[pos].astype(np.float64), n * width)
            out = out.astype(np.int64)
        else:
            out = np.zeros(n * width, np.int64)
            np.add.at(out, flat, self._weight[pos])
        return out.reshape(n, len(self.delays), self.n_out)


def _weight_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.int64), np.dtype(np.float64)):
        raise GraphError(f"synapse weights are int64 or float64, not {dtype}")
    return dtype


def _slots(delay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct delays (ascending; [0] when there are no synapses) and each synapse's
    index into them."""
    if not len(delay):
        return np.zeros(1, np.int64), np.zeros(0, np.int64)
    low = int(delay.min())
    if low == int(delay.max()):
        return np.array([low], np.int64), np.zeros(len(delay), np.int64)
    values, slot = np.unique(delay, return_inverse=True)
    return values.astype(np.int64), slot.reshape(-1).astype(np.int64)


def _exact_float(bound: int, widest_float):
    """The narrowest dtype in which sums of magnitude <= bound are exact integers."""
    if bound < 2 ** 24 and widest_float == np.float32:
        return np.float32
    return np.float64 if bound < 2 ** 53 else np.int64


def _check_coo(n_out, n_in, target, source, weight, delay) -> None:
    if not (target.shape == source.shape == weight.shape) or weight.ndim != 1:
        raise GraphError("synapse target, source and weight must be 1-D arrays of one length")
    if n_out < 1 or n_in < 1:
        raise GraphError(f"synapses need n_out, n_in >= 1, got {n_out}, {n_in}")
    if len(weight) and (target.min() < 0 or target.max() >= n_out
                        or source.min() < 0 or source.max() >= n_in):
        raise GraphError("synapse indices out of range")
    if len(delay) and delay.min() < 0:
        raise GraphError(f"synapse delays must be >= 0, got {int(delay.min())}")
    if weight.dtype.kind == "f":
        if not np.all(np.isfinite(weight)):
            raise GraphError("synapse weights must be finite")
    elif np.abs(weight).max(initial=0) >= 2 ** 40:
        raise GraphError("synapse weights must be below 2**40 in magnitude")
