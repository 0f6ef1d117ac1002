"""Crossbar tiling: each weight matrix of a graph quantized for RRAM onto the chip's arrays.

A matrix with several synaptic delays is one *layer* per distinct delay (as the reference's
taps): a crossbar column sums its rows in one read, so the periphery can delay a layer's
input rows, not single synapses. A layer keeps only the rows and columns that hold a
nonzero weight (pruned rows and columns need no cells). Its signed weights are differential
pairs: each logical column takes two physical bit lines (G+ and G-), so an array of R rows
and C bit lines holds R x C/2 weights. The layer's rows are cut into row tiles of R (each
read on its own, its columns converted by its own ADCs, the digital periphery adding the
tiles' partial sums) and its columns into column tiles of C/2. ``tile_graph`` returns the
``Tiling`` artefact (``fit``, ``summary``, ``write`` -> tiles.json); a graph needing more
arrays than the chip has fails with the fit report.

Each layer also keeps, per row, the conductance its read pulse drives (``row_siemens``: the
cost model's V^2 G t). Given the run's ``options``, those are the device instance's drawn
conductances (programming error, faults, drift, IR drop: ``device.program`` with the run's
seed and settings, the same draws the run reads), else the nominal target conductances;
``Layer.conductances`` says which.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from snnc.errors import GraphError, ResourceExceededError
from snnc.ir import Graph, flatten
from snnc.ir import nodes as n

from ..engine import view
from .device import nominal, program, settings

VERSION = 1
FORMAT = "snnc.rram.tiles"


@dataclass(frozen=True)
class Layer:
    """One matrix's synapses of one delay on crossbars: its input rows and output columns
    (indices into the source and target populations), its delay in steps, and its tiles."""

    name: str
    matrix: str
    source: str
    target: str
    delay: float
    """Seconds (the reference's delay of these synapses; steps = rint(delay / dt))."""
    rows: tuple[int, ...]
    columns: tuple[int, ...]
    row_tiles: int
    column_tiles: int
    cells: int
    """Programmed weights (nonzero), each a pair of devices."""
    row_siemens: tuple[float, ...]
    """Per row, its devices' conductances summed (G+ + G- over its columns): a read pulse on
    the row costs V_read^2 x this x t_pulse."""
    conductances: str = "nominal"
    """Where ``row_siemens`` comes from: "nominal" (target values) or "drawn (seed S)"."""

    @property
    def tiles(self) -> int:
        return self.row_tiles * self.column_tiles


@dataclass(frozen=True)
class Tiling:
    """The tiling artefact of one graph on one chip (see the module docstring)."""

    chip: str
    rows: int
    columns: int
    arrays: int | None
    layers: tuple[Layer, ...]
    fit: dict

    def summary(self) -> str:
        f = self.fit
        return (f"{f['tiles']['need']} crossbar arrays of {self.rows}x{self.columns} "
                f"(limit {f['tiles']['limit']}) for {len(self.layers)} layer(s) of "
                f"{len({lay.matrix for lay in self.layers})} matri(ces) on {self.chip}; "
                f"mean utilisation {100 * f['utilisation']['mean']:.1f} %")

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "chip": self.chip,
                           "rows": self.rows, "columns": self.columns, "arrays": self.arrays,
                           "layers": [asdict(lay) for lay in self.layers], "fit": self.fit},
                          indent=1)

    def write(self, directory: str | Path) -> list[str]:
        (Path(directory) / "tiles.json").write_text(self.to_json() + "\n")
        return ["tiles.json"]


def tile_graph(graph: Graph, chip, chips=None, activity=None, family=None, options=None
               ) -> Tiling:
    """The ``Family.mapping`` of the RRAM family: every matrix's layers on arrays."""
    graph = graph if graph.is_flat else flatten(graph)
    rows, columns = _array_shape(chip)
    run = None if options is None else settings(options, chip)
    found = []
    for name, node in graph.nodes.items():
        if isinstance(node, n.MATRICES):
            found += matrix_layers(graph, name, chip, rows, columns, run)
    fit = _fit(chip, found, rows, columns)
    return Tiling(chip.name, rows, columns, chip.crossbar.arrays, tuple(found), fit)


def matrix_layers(graph: Graph, name: str, chip, rows: int, columns: int, run=None
                  ) -> list[Layer]:
    """The layers (one per distinct delay) of one matrix; ``run``: the run's device
    ``Settings`` (its drawn conductances priced), None for the nominal ones."""
    node = graph.nodes[name]
    source, target = view.ends(graph, name, "RRAM")
    weight = np.asarray(node.weight)
    delays = synapse_delays(node)
    distinct = np.unique(delays[weight != 0])
    out = []
    for delay in distinct:
        used = (weight != 0) & (delays == delay)
        row_idx = np.flatnonzero(used.any(axis=0))
        col_idx = np.flatnonzero(used.any(axis=1))
        label = f"{name}@{delay:g}s" if len(distinct) > 1 else name
        compact = np.where(used, weight, 0.0)[np.ix_(col_idx, row_idx)].T
        siemens, kind = _row_siemens(compact, node, chip, run, label, rows, columns)
        out.append(Layer(label, name, source, target, float(delay),
                         tuple(int(i) for i in row_idx), tuple(int(i) for i in col_idx),
                         math.ceil(len(row_idx) / rows), math.ceil(len(col_idx) / (columns // 2)),
                         int(used.sum()), siemens, kind))
    return out


def _row_siemens(compact, node, chip, run, label, rows, columns):
    """Per row, G+ + G- over its columns: the run's drawn instance (as ``lower`` programs it,
    float64, same seed stream) where the run has one, else the nominal conductances."""
    if run is None or run.exact:
        g_plus, g_minus = nominal(compact, w_max(node), chip, int(node.hw.get("levels", 0)))
        kind = "nominal"
    else:
        inst = program(np.asarray(compact, np.float64), w_max(node), chip, run, label, rows,
                       columns // 2)
        g_plus, g_minus, kind = inst.g_plus, inst.g_minus, f"drawn (seed {run.seed})"
    return tuple(float(g) for g in (g_plus + g_minus).sum(1)), kind


def w_max(node) -> float:
    """The largest weight the matrix's levels reach (its |max| if it has no RRAM levels)."""
    hw = node.hw
    if "levels" in hw and "weight_step" in hw:
        return (int(hw["levels"]) - 1) * float(hw["weight_step"])
    return float(np.abs(node.weight).max(initial=0.0))


def synapse_delays(node) -> np.ndarray:
    """Per synapse (n_out, n_in), its delay in seconds (0 without delays)."""
    if node.delay is None:
        return np.zeros(np.shape(node.weight))
    return np.broadcast_to(np.asarray(node.delay, np.float64), np.shape(node.weight))


def utilisation(layer: Layer, rows: int, columns: int) -> list[float]:
    """Share of each tile's cells in use (weights x 2 devices over rows x columns), tile by
    tile in row-major order of (row tile, column tile); the tile's cells are the used rows
    and columns that fall in it (a layer's zeros inside them still take devices)."""
    pairs = columns // 2
    n_rows, n_cols = len(layer.rows), len(layer.columns)
    out = []
    for r in range(layer.row_tiles):
        tile_rows = min(rows, n_rows - r * rows)
        for c in range(layer.column_tiles):
            tile_cols = min(pairs, n_cols - c * pairs)
            out.append(tile_rows * tile_cols * 2 / (rows * columns))
    return out


def _array_shape(chip) -> tuple[int, int]:
    bar = chip.crossbar
    if not bar.rows or not bar.columns:
        raise GraphError(f"chip '{chip.name}' gives no crossbar.rows / crossbar.columns")
    if bar.columns < 2:
        raise GraphError(f"chip '{chip.name}': crossbar.columns must hold a differential pair")
    return bar.rows, bar.columns


def _fit(chip, layers: list[Layer], rows: int, columns: int) -> dict:
    need = sum(lay.tiles for lay in layers)
    limit = chip.crossbar.arrays
    per_layer = [{"layer": lay.name, "matrix": lay.matrix, "delay": lay.delay,
                  "rows": len(lay.rows), "columns": len(lay.columns),
                  "row_tiles": lay.row_tiles, "column_tiles": lay.column_tiles,
                  "tiles": lay.tiles, "utilisation": utilisation(lay, rows, columns)}
                 for lay in layers]
    shares = [u for entry in per_layer for u in entry["utilisation"]]
    fit = {"chip": chip.name, "fits": limit is None or need <= limit,  # else raised below
           "tiles": {"need": need, "limit": limit},
           "rows": {"need": max([len(lay.rows) for lay in layers], default=0),
                    "limit": rows},
           "columns": {"need": max([2 * len(lay.columns) for lay in layers], default=0),
                       "limit": columns},
           "utilisation": {"mean": float(np.mean(shares)) if shares else 0.0,
                           "min": float(min(shares, default=0.0))},
           "layers": per_layer}
    if limit is not None and need > limit:
        largest = max(layers, key=lambda lay: lay.tiles)
        raise ResourceExceededError(
            f"chip '{chip.name}': the graph needs {need} crossbar arrays of {rows}x{columns}, "
            f"over the chip's {limit} (crossbar.arrays); largest: matrix '{largest.matrix}' "
            f"({len(largest.rows)}x{len(largest.columns)} weights, {largest.tiles} arrays)",
            resource="crossbar arrays", need=need, limit=limit, node=largest.matrix)
    return fit
