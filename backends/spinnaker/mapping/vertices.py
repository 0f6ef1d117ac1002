"""partition: PyNN populations -> machine vertices, one per core, as sPyNNaker 1!7.4.1 splits
them.

- A neuron population is cut into contiguous slices of ``core.neurons_per_core`` atoms (the
  last one shorter: ``SplitterPopulationVertex._get_fixed_slices``), one PopulationVertex core
  each. A SpikeSourceArray takes one core of its own whatever its size: its model sets no
  limit (``AbstractPyNNModel.absolute_max_atoms_per_core = sys.maxsize``, checked on a virtual
  board: 400 atoms on one core).
- On-core delay span (``population_vertex.py``): a population whose slices need
  ``atom_bits = n_bits(min(size, neurons_per_core))`` takes ``2**(ring_buffer_index_bits -
  atom_bits - n_bits(synapse_types))`` ring-buffer delay slots, and the span it uses is
  ``min(2**n_bits(longest incoming delay), slots)`` (``max_delay_steps_incoming``): 32 at 256
  neurons per core and 2 synapse types.
- DelayExtension (``DelaySupportAdder``, ``delay_extension_vertex.py``): a source with a
  projection longer than its target's span gets one DelayExtension application vertex, sliced as
  the source is (one core per source slice), with ``stages = ceil(longest / span) - 1`` of at
  most ``delays.extension_stages`` (8): delays up to ``span x 9`` (288 steps). All delayed
  targets of one source must share the span (sPyNNaker raises otherwise; so does snnc).
- Memory: DTCM per neuron core = ring buffers (``formats.input_bits`` per slot, 2**(atom bits +
  type bits + delay bits) slots) + ``arm.neuron_dtcm`` per neuron + ``arm.core_dtcm``, at most
  ``arm.dtcm_data``. SDRAM per core = its synaptic matrices (``synapse_row.h``): per source slice
  block with a synapse, one row per source atom (per atom and stage for delayed rows) of
  ``arm.row_header`` + (longest row in the block) x ``core.synapse_word_bits``; a core above one
  chip's SDRAM (``topology.chip_memory``) cannot be placed. Spike-source and DelayExtension cores
  are charged ``arm.core_dtcm`` and no SDRAM (spike times are not known at compile time).
  sPyNNaker does not shrink slices to fit memory (the user calls
  ``set_number_of_neurons_per_core``), and neither does this: it raises the fit error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnc.errors import MappingError, ResourceExceededError

from .netlist import Netlist, Proj


def n_bits(values: int) -> int:
    """PACMAN ``get_n_bits``: bits to tell ``values`` values apart (1 for one value)."""
    return 0 if values == 0 else 1 if values == 1 else int(math.ceil(math.log2(values)))


@dataclass(frozen=True)
class Vertex:
    """Atoms [start, stop) of application vertex ``app`` on core number ``core``; ``index``
    is the slice's machine index within its application vertex."""

    core: int
    app: str  # the PyNN population, or "<source>_delayed" for a DelayExtension
    kind: str  # "population", "source" or "delay"
    index: int
    start: int
    stop: int
    synapses: int
    dtcm: int  # bytes
    sdram: int  # bytes

    @property
    def atoms(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class DelayPlan:
    """The DelayExtension of ``source``: ``stages`` stages of ``span`` steps each."""

    source: str
    span: int
    stages: int

    @property
    def app(self) -> str:
        return f"{self.source}_delayed"  # sPyNNaker's label for it


@dataclass(frozen=True, eq=False)
class Blocks:
    """One projection's synapses grouped by (source slice, target slice): ``direct`` pairs
    deliver on-core (delay <= the target's span), ``delayed`` ones through the DelayExtension;
    each with the longest row of the block (``*_rows``: synapses of one atom (and stage))."""

    proj: Proj
    target_slice: np.ndarray  # per synapse
    direct: np.ndarray  # (k, 2) source slice, target slice
    direct_rows: np.ndarray
    delayed: np.ndarray
    delayed_rows: np.ndarray
    stages: int  # of the source's DelayExtension (0: none)


@dataclass(frozen=True, eq=False)
class Partition:
    vertices: tuple[Vertex, ...]
    spans: dict  # population -> on-core delay span (steps)
    delays: dict  # source -> DelayPlan
    blocks: tuple[Blocks, ...]
    atoms: dict  # application vertex -> atoms per core

    def of(self, app: str) -> list[Vertex]:
        return [v for v in self.vertices if v.app == app]


def partition(net: Netlist, chip) -> Partition:
    """The machine vertices of ``net`` on ``chip``, checked against its memory."""
    per_core = chip.core.neurons_per_core
    atoms = {p.name: max(1, p.size if p.source else min(p.size, per_core or p.size))
             for p in net.pops}
    spans = {p.name: _span(net, p.name, atoms[p.name], chip) for p in net.pops}
    delays = _delay_plans(net, spans, chip)
    blocks = tuple(_blocks(proj, atoms, spans, delays) for proj in net.projs)
    sdram = _sdram(net, blocks, atoms, chip)
    vertices: list[Vertex] = []
    for pop in net.pops:
        synapses = np.zeros(_n_slices(pop.size, atoms[pop.name]), np.int64)
        for b in blocks:
            if b.proj.target == pop.name:
                synapses += np.bincount(b.target_slice, minlength=len(synapses))
        for k, start in enumerate(range(0, pop.size, atoms[pop.name])):
            stop = min(pop.size, start + atoms[pop.name])
            dtcm = _dtcm(pop.source, stop - start, atoms[pop.name], spans[pop.name], chip)
            vertices.append(Vertex(len(vertices), pop.name, "source" if pop.source else
                                   "population", k, start, stop, int(synapses[k]), dtcm,
                                   int(sdram.get(pop.name, {}).get(k, 0))))
    for plan in delays.values():
        size = net.pop(plan.source).size
        for k, start in enumerate(range(0, size, atoms[plan.source])):
            stop = min(size, start + atoms[plan.source])
            vertices.append(Vertex(len(vertices), plan.app, "delay", k, start, stop, 0,
                                   chip.arm.core_dtcm // 8, 0))
        atoms[plan.app] = atoms[plan.source]
    _check_memory(vertices, chip)
    return Partition(tuple(vertices), spans, delays, blocks, atoms)


def _n_slices(size: int, atoms: int) -> int:
    return -(-size // atoms)


def _span(net: Netlist, name: str, atoms: int, chip) -> int:
    longest = max((int(p.delay.max(initial=0)) for p in net.projs if p.target == name),
                  default=0)
    slots = 2 ** (chip.delays.ring_buffer_index_bits - n_bits(atoms)
                  - n_bits(chip.formats.synapse_types))
    return min(2 ** n_bits(longest), slots)


def _delay_plans(net: Netlist, spans: dict, chip) -> dict:
    longest: dict[str, int] = {}
    span_of: dict[str, set] = {}
    for p in net.projs:
        d = int(p.delay.max(initial=0))
        if d > spans[p.target]:
            longest[p.source] = max(longest.get(p.source, 0), d)
            span_of.setdefault(p.source, set()).add(spans[p.target])
    plans = {}
    # DelaySupportAdder makes them in partition order: sources by their first projection
    for source in dict.fromkeys(p.source for p in net.projs):
        if source not in longest:
            continue
        d = longest[source]
        if len(span_of[source]) > 1:
            raise MappingError(
                f"node '{source}': its long-delay projections go to populations with on-core "
                f"delay spans {sorted(span_of[source])} steps; one DelayExtension serves one "
                "span (sPyNNaker raises DelayExtensionException)", node=source)
        span = span_of[source].pop()
        stages = -(-d // span) - 1
        limit = chip.delays.extension_stages
        if stages > limit:
            raise ResourceExceededError(
                f"node '{source}': a delay of {d} steps needs {stages} DelayExtension stages of "
                f"{span} steps, more than {chip.name}'s {limit} (longest delay "
                f"{span * (limit + 1)} steps; run map-delays)", resource="delay steps",
                need=d, limit=span * (limit + 1), node=source)
        plans[source] = DelayPlan(source, span, stages)
    return plans


def _blocks(proj: Proj, atoms: dict, spans: dict, delays: dict) -> Blocks:
    a_src, a_tgt = atoms[proj.source], atoms[proj.target]
    span = spans[proj.target]
    tk, sk = proj.post // a_tgt, proj.pre // a_src
    late = proj.delay > span
    stages = delays[proj.source].stages if proj.source in delays else 0
    direct, direct_rows = _longest_rows(proj.pre[~late], sk[~late], tk[~late])
    stage = (proj.delay[late] - 1) // span - 1  # 0: the first DelayExtension stage
    delayed, delayed_rows = _longest_rows(proj.pre[late] * max(stages, 1) + stage, sk[late],
                                          tk[late])
    return Blocks(proj, tk, direct, direct_rows, delayed, delayed_rows, stages)


def _longest_rows(row: np.ndarray, sk: np.ndarray, tk: np.ndarray):
    """Distinct (source slice, target slice) blocks, and each one's longest row (synapses of
    one ``row`` id into one target slice)."""
    if not len(row):
        return np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    n_t = int(tk.max()) + 1
    pair = row * n_t + tk
    order = np.argsort(pair, kind="stable")
    sorted_pair = pair[order]
    starts = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
    length = np.diff(np.r_[starts, len(pair)])
    first = order[starts]
    blocks, inverse = np.unique(sk[first] * n_t + tk[first], return_inverse=True)
    longest = np.zeros(len(blocks), np.int64)
    np.maximum.at(longest, inverse, length)
    return np.stack([blocks // n_t, blocks % n_t], axis=1), longest


def _sdram(net: Netlist, blocks, atoms: dict, chip) -> dict:
    """Bytes of synaptic matrix per target population and slice: per block, one row per
    source atom (per atom and stage for the delayed matrix)."""
    header, word = chip.arm.row_header, chip.core.synapse_word_bits
    bits: dict[str, dict[int, int]] = {}
    for b in blocks:
        a_src, size = atoms[b.proj.source], net.pop(b.proj.source).size
        per = bits.setdefault(b.proj.target, {})
        for pairs, longest, per_atom in ((b.direct, b.direct_rows, 1),
                                         (b.delayed, b.delayed_rows, b.stages)):
            rows = np.minimum(a_src, size - pairs[:, 0] * a_src) * per_atom
            need = np.bincount(pairs[:, 1], weights=rows * (header + longest * word))
            for k in np.flatnonzero(need):
                per[int(k)] = per.get(int(k), 0) + int(need[k])
    return {t: {k: -(-v // 8) for k, v in per.items()} for t, per in bits.items()}


def _dtcm(source: bool, n: int, atoms: int, span: int, chip) -> int:
    """Bytes of DTCM one core of ``n`` neurons needs (a source's: its fixed part only)."""
    fixed = chip.arm.core_dtcm // 8
    if source:
        return fixed
    slots = 2 ** (n_bits(atoms) + n_bits(chip.formats.synapse_types) + n_bits(span))
    return slots * chip.formats.input_bits // 8 + n * chip.arm.neuron_dtcm // 8 + fixed


def _check_memory(vertices: list[Vertex], chip) -> None:
    dtcm_limit, sdram_limit = chip.arm.dtcm_data // 8, chip.topology.chip_memory // 8
    for v in vertices:
        for what, need, limit in (("DTCM bytes per core", v.dtcm, dtcm_limit),
                                  ("SDRAM bytes per core", v.sdram, sdram_limit)):
            if need > limit:
                raise ResourceExceededError(
                    f"node '{v.app}': core {v.core} (atoms {v.start}..{v.stop - 1}) needs "
                    f"{need} {what}, more than {chip.name}'s {limit}; use fewer neurons per "
                    "core", resource=what, need=need, limit=limit, node=v.app)
