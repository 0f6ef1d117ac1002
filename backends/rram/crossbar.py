"""The crossbar reads of one matrix: the synapse model its engine connection runs.

Every step, the spikes of the matrix's source are the read pulses of its rows (binary, no
DAC). Each layer (one delay, see ``tiling``) reads the spikes of ``delay`` steps ago from the
periphery's row buffer. Exact devices (``Settings.exact``) give the reference's arithmetic
itself: per layer x @ W^T in the simulation dtype, layers added in ascending delay, then the
bias, so ``ideal=true`` reproduces the reference bit for bit. Otherwise, per layer, the row
tiles are read at once, vectorized over (tiles, steps x batch, rows): the column currents of
the programmed pairs I+ - I- (in siemens x V_read), read noise sqrt(sum_active (G+^2 + G-^2))
sigma N(0, 1) redrawn every read, then each tile's ADC (signed, ``adc_bits``, range
``adc_full_scale`` x the tile's strongest column with every row on), unless the neurons
integrate the current themselves; the tiles' partial sums are added digitally and scaled back
to weight units. The bias is added by the periphery.

The engine delivers through the runner's output at the connection's own latency (1 over a
back edge); it computes no partial sums for these connections (``lower.UnreadSynapses``).
Non-exact reads compute in float32 (see ``_Stack``). Counters: ``crossbar_reads`` (tile reads: a
tile is read when a spike reaches one of its rows), ``adc_conversions`` (column pairs
converted; ``column_integrations`` instead where the neurons integrate the currents),
``row_activations`` (rows pulsed, per tile) and ``cell_reads`` (devices read).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .device import Instance, Settings


@dataclass(frozen=True)
class LayerReads:
    """One layer of a matrix: its delay (steps), rows and columns (indices into the source
    and target), the array shape, its weights (dense, transposed (n_in, n_out) in the
    simulation dtype: exact reads compute as the reference) and its device instance
    (compact, (rows, columns))."""

    delay: int
    rows: np.ndarray
    columns: np.ndarray
    array_rows: int
    pairs: int
    weight_t: np.ndarray
    instance: Instance | None

    @property
    def row_tiles(self) -> int:
        return -(-len(self.rows) // self.array_rows)


class CrossbarReads:
    """Synapse model of one matrix (``n_out`` target neurons): its layers and bias."""

    def __init__(self, layers: list[LayerReads], bias: np.ndarray | None, n_out: int,
                 settings: Settings, dtype):
        self.layers, self.settings, self.n_out = layers, settings, n_out
        self.dtype = np.dtype(dtype)
        self.bias = None if bias is None or not np.any(bias) else np.asarray(bias, self.dtype)
        self.history = max((lay.delay for lay in layers), default=0)
        self._stacks = [_stack(lay, settings) for lay in layers] if not settings.exact else None

    def apply(self, partial: np.ndarray) -> np.ndarray:  # never used: the model has start()
        raise NotImplementedError

    def bound(self, magnitude, slots: int):
        return magnitude

    def start(self, synapses, steps: int, batch: int, rng: np.random.Generator) -> "_Reads":
        return _Reads(self, steps, batch, rng)


@dataclass(frozen=True)
class _Stack:
    """A layer's tiles stacked for one batched product, in float32 (a non-ideal read is
    noisier than float32 rounding by orders of magnitude: 1e-7 against 1e-2 read noise or a
    5-8 bit ADC): conductances (row tiles, array rows, columns), G+ - G- then, with read
    noise, G+^2 + G-^2 beside it (one product gives both); the ADC's step per tile and
    column (row tiles, 1, columns) and its inverse (0 where a column is empty), or None."""

    g: np.ndarray
    columns: int
    adc_step: np.ndarray | None
    adc_inverse: np.ndarray | None
    adc_top: int
    weight_per_siemens: float


def _stack(layer: LayerReads, settings: Settings) -> _Stack:
    inst, tiles, rows = layer.instance, layer.row_tiles, layer.array_rows
    pad = tiles * rows - len(layer.rows)

    def tiled(a):
        return np.pad(a, ((0, pad), (0, 0))).reshape(tiles, rows, a.shape[1])

    diff = tiled(inst.g_plus - inst.g_minus)
    cols = diff.shape[2]
    g = diff
    if settings.read_noise:
        g = np.concatenate([diff, tiled(inst.g_plus ** 2 + inst.g_minus ** 2)], axis=2)
    step = inverse = None
    top = 2 ** (settings.adc_bits - 1) - 1 if settings.adc_bits else 0
    if not settings.neuron_as_adc and settings.adc_bits:
        step = (settings.adc_full_scale * _full_scale(diff, layer.pairs) / top)[:, None, :]
        inverse = np.divide(1.0, step, out=np.zeros_like(step), where=step > 0)
        step, inverse = step.astype(np.float32), inverse.astype(np.float32)
    return _Stack(np.ascontiguousarray(g, np.float32), cols, step, inverse, top,
                  inst.weight_per_siemens)


def _full_scale(diff: np.ndarray, pairs: int) -> np.ndarray:
    """Per tile and column (row tiles, columns), its ADC's no-clipping bound: the strongest
    column of its column tile with every row on (siemens)."""
    strongest = np.abs(diff).sum(axis=1)
    groups = np.arange(strongest.shape[1]) // pairs  # column tile of each column
    bound = np.zeros_like(strongest)
    for g in np.unique(groups):
        bound[:, groups == g] = strongest[:, groups == g].max(axis=1, keepdims=True)
    return bound


class _Reads:
    """One run's reads: the row buffer of past spikes, read noise, counters."""

    def __init__(self, model: CrossbarReads, steps: int, batch: int, rng):
        self.model, self.rng, self.batch = model, rng, batch
        self.past = None  # (history, batch, n_in) spikes of the last steps
        self._counts = {k: np.zeros(steps, np.int64) for k in
                       ("crossbar_reads", "adc_conversions", "column_integrations",
                        "row_activations", "cell_reads")}

    def counts(self) -> dict[str, np.ndarray]:
        return self._counts

    def deliver(self, partial: np.ndarray, sent: np.ndarray, first_step: int) -> np.ndarray:
        model = self.model
        rows, batch, n_in = sent.shape
        spikes = self._with_past(sent)
        out = np.zeros((rows, batch, model.n_out), model.dtype)
        for k, layer in enumerate(model.layers):
            x = spikes[model.history - layer.delay:model.history - layer.delay + rows]
            self._count(layer, x, first_step)
            if model._stacks is None:
                out += (x.reshape(rows * batch, n_in).astype(model.dtype)
                        @ layer.weight_t).reshape(rows, batch, -1)
            else:
                out[..., layer.columns] += self._read(layer, model._stacks[k], x
                                                      ).astype(model.dtype)
        if model.bias is not None:
            out += model.bias
        return out.astype(np.float64, copy=False)[:, :, None, :]

    def _with_past(self, sent: np.ndarray) -> np.ndarray:
        h = self.model.history
        if h == 0:
            return sent
        if self.past is None:
            self.past = np.zeros((h, *sent.shape[1:]), bool)
        spikes = np.concatenate([self.past, sent])
        self.past = spikes[-h:]
        return spikes

    def _read(self, layer: LayerReads, stack: _Stack, x: np.ndarray) -> np.ndarray:
        """Column sums (rows, batch, columns) in weight units, through the devices and ADC;
        in place on one float32 array per read (the products are the cost of a read)."""
        rows, batch = x.shape[:2]
        tiles, size = layer.row_tiles, layer.array_rows
        active = np.zeros((rows * batch, tiles * size), np.float32)
        active[:, :len(layer.rows)] = x[..., layer.rows].reshape(rows * batch, -1)
        per_tile = active.reshape(-1, tiles, size).transpose(1, 0, 2)  # (tiles, N, rows)
        both = per_tile @ stack.g  # (tiles, N, columns [+ columns]), siemens (x V_read)
        current = both[..., :stack.columns]
        noise_sigma = self.model.settings.read_noise
        if noise_sigma:
            spread = np.sqrt(both[..., stack.columns:])
            spread *= self.rng.standard_normal(spread.shape, dtype=np.float32)
            spread *= noise_sigma
            current += spread
        if stack.adc_step is not None:
            current *= stack.adc_inverse
            np.rint(current, out=current)
            np.clip(current, -stack.adc_top, stack.adc_top, out=current)
            current *= stack.adc_step
        total = current.sum(axis=0, dtype=np.float64) * stack.weight_per_siemens
        return total.reshape(rows, batch, -1)

    def _count(self, layer: LayerReads, x: np.ndarray, first: int) -> None:
        """Tile reads, conversions, row pulses and cell reads of these steps."""
        rows = len(x)
        size, tiles = layer.array_rows, layer.row_tiles
        active = x[..., layer.rows]
        pad = tiles * size - active.shape[-1]
        per_tile = np.pad(active, ((0, 0), (0, 0), (0, pad))).reshape(rows, -1, tiles, size)
        pulses = per_tile.sum(axis=3)  # (steps, batch, row tiles)
        read = pulses > 0
        n_cols = len(layer.columns)
        col_tiles = -(-n_cols // layer.pairs)
        window = slice(first, first + rows)
        self._counts["crossbar_reads"][window] += read.sum(axis=(1, 2)) * col_tiles
        self._counts["row_activations"][window] += pulses.sum(axis=(1, 2)) * col_tiles
        self._counts["cell_reads"][window] += pulses.sum(axis=(1, 2)) * 2 * n_cols
        kind = "column_integrations" if self.model.settings.neuron_as_adc else "adc_conversions"
        self._counts[kind][window] += read.sum(axis=(1, 2)) * n_cols
