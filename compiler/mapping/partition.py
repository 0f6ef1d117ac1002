"""partition: split every neuron population into core-sized slices.

A core holds a contiguous slice of one population and the synapses into it (synapses are
stored with their target, as on Loihi). A slice grows neuron by neuron until the next neuron
would exceed one of the chip model's per-core limits:

- ``core.neurons_per_core``: neurons (Loihi: compartments);
- synapse memory (``core.synapse_memory``, else all of ``core.memory``, an upper bound where
  neurons and synapses share it): each non-zero incoming synapse takes its weight width (the
  matrix's ``num_weight_bits``, else the chip's ``weight_bits``) plus ``delays.delay_bits`` when
  the matrix has delays; packed without index overhead, so this is a lower bound on the need;
- ``core.input_axons``: distinct presynaptic neurons that reach any neuron of the slice.

A limit the chip model leaves out (None) is not checked. A single neuron that alone exceeds a
limit cannot be placed anywhere: ``ResourceExceededError`` names it, the resource, the need and
the limit. Input nodes are not partitioned: their spikes come from the host (Loihi: through the
embedded x86 cores), which ``route`` counts as I/O.

Needs a lowered graph (matrices and populations: run ``lower`` first for convolutions).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from snnc.errors import HINTS, GraphError, ResourceExceededError
from snnc.hw_models import Chip
from snnc.ir import Graph, flatten
from snnc.ir.graph import upstream
from snnc.ir import nodes as n

from . import artefacts

MATRICES = n.MATRICES
PASSIVE = (n.Input, n.Output, n.Flatten, *MATRICES)  # what may sit between populations


@dataclass(frozen=True)
class CoreSlice:
    """Neurons [start, stop) of ``population`` on core ``core``, with what they use there."""

    core: int
    population: str
    start: int
    stop: int
    synapses: int
    synapse_bits: int
    input_axons: int

    @property
    def neurons(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Partition:
    """Every population's slices, numbered densely from core 0 in execution order."""

    chip: str
    cores: tuple[CoreSlice, ...]

    def of(self, population: str) -> list[CoreSlice]:
        return list(self._by_population.get(population, ()))

    @cached_property
    def _by_population(self) -> dict[str, list[CoreSlice]]:
        """Slices per population, built once: ``of`` is asked once per population, and a scan
        of every core each time made mapping quadratic (8.5 s of 11 at 1e6 neurons)."""
        index: dict[str, list[CoreSlice]] = {}
        for c in self.cores:
            index.setdefault(c.population, []).append(c)
        return index

    def to_json(self) -> str:
        return artefacts.dump("partition", {"chip": self.chip,
                                            "cores": [asdict(c) for c in self.cores]})

    @classmethod
    def from_json(cls, text: str, origin: str = "partition.json") -> "Partition":
        data = artefacts.load("partition", text, origin)
        return cls(artefacts.field(data, "chip", str, origin),
                   artefacts.records(CoreSlice, data.get("cores"), origin, "cores"))


def partition(graph: Graph, chip: Chip, sources: bool = False) -> Partition:
    """Slices of every population of ``graph`` under ``chip``'s per-core limits; with
    ``sources`` (a family whose spike sources take cores, as sPyNNaker's SpikeSourceArray
    vertices do) the Input nodes too, ``core.neurons_per_core`` a core, without synapses."""
    graph = graph if graph.is_flat else flatten(graph)
    _require_lowered(graph)
    cores: list[CoreSlice] = []
    for name in graph.order:
        node = graph.nodes[name]
        if isinstance(node, n.Neuron):
            for start, stop, syn, bits, axons in _slices(graph, name, chip):
                cores.append(CoreSlice(len(cores), name, start, stop, syn, bits, axons))
        elif sources and isinstance(node, n.Input):
            size = math.prod(graph.shapes[name])
            step = chip.core.neurons_per_core or size
            for start in range(0, size, step):
                cores.append(CoreSlice(len(cores), name, start, min(size, start + step), 0, 0, 0))
    return Partition(chip.name, tuple(cores))


def incoming(graph: Graph, population: str) -> list[tuple[str, str]]:
    """(matrix, source) pairs that feed ``population``: sources are Inputs or populations.
    Flatten nodes are index maps (C order on both sides) and are looked through."""
    pairs = []
    for pred in upstream(graph, population):
        if isinstance(graph.nodes[pred], MATRICES):
            pairs += [(pred, src) for src in upstream(graph, pred)]
        else:  # a population or Input wired straight in: a one-to-one identity
            pairs.append((pred, pred))
    return pairs



def connectivity(graph: Graph, matrix: str, target_size: int) -> np.ndarray:
    """bool (target_size, n_source): which synapses exist from a matrix (or identity) edge."""
    node = graph.nodes[matrix]
    if isinstance(node, MATRICES):
        return np.asarray(node.weight).reshape(target_size, -1) != 0
    return np.eye(target_size, dtype=bool)


def fan_in(graph: Graph, matrix: str, target_size: int) -> np.ndarray:
    """int64 (target_size,): synapses per target neuron from one matrix (or identity) edge;
    ``count_nonzero`` along rows, without the bool matrix ``connectivity`` builds."""
    node = graph.nodes[matrix]
    if isinstance(node, MATRICES):
        weight = np.asarray(node.weight).reshape(target_size, -1)
        return np.count_nonzero(weight, axis=1).astype(np.int64)
    return np.ones(target_size, np.int64)


# -- slicing ------------------------------------------------------------------------------------


def _slices(graph: Graph, name: str, chip: Chip):
    size = math.prod(graph.shapes[name])
    masks = [connectivity(graph, m, size) for m, _ in incoming(graph, name)]
    widths = [_synapse_width(graph.nodes[m], chip) for m, _ in incoming(graph, name)]
    counts = [np.count_nonzero(m, axis=1) for m in masks]  # once: every limit reads them
    synapses = sum(counts, np.zeros(size, np.int64))
    bits = sum((c * w for c, w in zip(counts, widths)), np.zeros(size, np.int64))
    npc = chip.core.neurons_per_core or size
    memory = chip.core.synapse_memory or chip.core.memory
    axon_limit = chip.core.input_axons
    _single_neuron_fits(name, bits, synapses, memory, axon_limit, chip)
    start = 0
    while start < size:
        stop = min(size, start + npc)
        if memory is not None:  # the longest prefix whose synapse bits fit
            fits = np.searchsorted(np.cumsum(bits[start:stop]), memory, side="right")
            stop = start + max(1, int(fits))
        while axon_limit is not None and _axons(masks, start, stop) > axon_limit:
            stop = start + max(1, (stop - start) // 2)
        yield (start, stop, int(synapses[start:stop].sum()), int(bits[start:stop].sum()),
               _axons(masks, start, stop))
        start = stop


def _axons(masks: list[np.ndarray], start: int, stop: int) -> int:
    """Distinct presynaptic neurons of rows [start, stop): one input axon each."""
    return sum(int(np.any(m[start:stop], axis=0).sum()) for m in masks)


def _single_neuron_fits(name, bits, fan_in, memory, axon_limit, chip) -> None:
    if memory is not None and bits.size and bits.max() > memory:
        raise ResourceExceededError(
            f"node '{name}': one neuron's incoming synapses need {int(bits.max())} bits of "
            f"synapse memory, more than {chip.name}'s {memory} bits per core",
            resource="synapse bits per core", need=int(bits.max()), limit=memory, node=name)
    if axon_limit is not None and fan_in.size and fan_in.max() > axon_limit:
        raise ResourceExceededError(
            f"node '{name}': one neuron receives from {int(fan_in.max())} presynaptic neurons, "
            f"more than {chip.name}'s {axon_limit} input axons per core",
            resource="input axons per core", need=int(fan_in.max()), limit=axon_limit, node=name)


def _synapse_width(node: n.Node, chip: Chip) -> int:
    width = node.hw.get("num_weight_bits", node.hw.get("weight_bits", chip.formats.weight_bits))
    width = int(width or 0)
    if getattr(node, "delay", None) is not None and np.any(node.delay):
        width += chip.delays.delay_bits or 0
    return width


def _require_lowered(graph: Graph) -> None:
    for name, node in graph.nodes.items():
        if not isinstance(node, (*PASSIVE, n.Neuron)):
            why = HINTS.get(node.type_name, "; run the lower pass first")
            raise GraphError(f"node '{name}' ({node.type_name}): partitioning needs populations "
                             f"and matrices only{why}")
