"""The float reference simulator: the definition of what an IR graph computes.

Scheduling: the graph is cut into blocks in execution order. A node on no cycle runs over the
whole (steps, batch) sequence at once: one matrix product per layer, then a scan over time for
neurons. The nodes of a cycle run step by step together; a recurrent edge delivers the value its
source produced on the previous step (zeros at step 0). Both give identical results.
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from snnc.errors import InputError
from snnc.ir import Graph, flatten
from snnc.ir.graph import strongly_connected
from snnc.ir import nodes as n
from snnc.options import SimOptions

from ..engine.inputs import graph_inputs
from ..engine.recording import Recording
from .kernels import STATELESS, DelayedMatrix
from .neurons import STATEFUL


def make_kernel(node: n.Node, options: SimOptions, in_shape: tuple[int, ...]):
    if isinstance(node, (n.Affine, n.Linear)) and node.delay is not None and node.delay.any():
        return DelayedMatrix(node, options, in_shape)
    if type(node) in STATEFUL:
        return STATEFUL[type(node)](node, options)
    return STATELESS[type(node)](node, options, in_shape)


def blocks(graph: Graph) -> list[list[str]]:
    """Execution order grouped into blocks: one node, or all nodes of one cycle (a strongly
    connected component, or a node with an edge to itself), each met at its first node."""
    component = {}
    for members in strongly_connected(graph.order, {k: graph.successors(k) for k in graph.nodes}):
        component.update(dict.fromkeys(members, members))
    result, done = [], set()
    for name in graph.order:
        if name not in done:
            done.update(component[name])
            result.append(component[name])
    return result


def _cyclic(graph: Graph, block: list[str], self_loops: set[str]) -> bool:
    return len(block) > 1 or block[0] in self_loops


def simulate(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = ()) -> Recording:
    """Run ``graph`` on ``inputs`` shaped (steps, batch, *input_shape) per Input node.

    ``record`` names nodes whose state variables (v, i) are kept for every step.
    """
    flat = graph if graph.is_flat else flatten(graph)
    given, steps, batch = graph_inputs(flat, inputs)
    sequences = {name: x.astype(options.dtype, copy=False) for name, x in given.items()}
    shapes = flat.shapes
    in_shapes = {name: shapes[flat.predecessors(name)[0]] if flat.predecessors(name) else None
                 for name in flat.nodes}
    kernels = {name: make_kernel(node, options, in_shapes[name])
               for name, node in flat.nodes.items() if not isinstance(node, n.Input)}
    unknown = sorted(set(record) - set(flat.nodes))
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such node")
    states = {name: {} for name in record}
    self_loops = {s for s, d in flat.edges if s == d}
    for block in blocks(flat):
        if len(block) == 1 and block[0] in sequences:
            continue
        for name in block:
            if hasattr(kernels[name], "init"):
                kernels[name].init(batch)
        if not _cyclic(flat, block, self_loops):
            name = block[0]
            x = _summed_input(flat, name, sequences, (steps, batch, *in_shapes[name]), options)
            sequences[name] = _run_sequence(kernels[name], x, states.get(name))
        else:
            _run_steps(flat, block, kernels, sequences, states, (steps, batch), options)
    return Recording(
        outputs={name: sequences[name] for name in flat.outputs},
        states={f"{node}.{var}": np.stack(trace) for node, values in states.items()
                for var, trace in values.items()},
        spike_counts={name: int(sequences[name].sum()) for name, node in flat.nodes.items()
                      if getattr(node, "spiking", False)},
        steps=steps, batch=batch,
    )


def _summed_input(graph: Graph, name: str, sequences, shape, options) -> np.ndarray:
    sources = graph.predecessors(name)
    if not sources:
        return np.zeros(shape, dtype=options.dtype)
    total = sequences[sources[0]]
    for source in sources[1:]:
        total = total + sequences[source]
    return total


def _run_sequence(kernel, x: np.ndarray, trace: dict | None) -> np.ndarray:
    if not hasattr(kernel, "step"):
        return kernel.apply(x)
    if hasattr(kernel, "sequence"):  # a stateful kernel with a whole-sequence form
        return kernel.sequence(x)
    drive = kernel.drive(x)
    first = kernel.step(drive[0])
    out = np.empty((len(x), *first.shape), dtype=first.dtype)
    out[0] = first
    _keep(kernel, trace)
    for t in range(1, len(x)):
        out[t] = kernel.step(drive[t])
        _keep(kernel, trace)
    return out


def _keep(kernel, trace: dict | None) -> None:
    if trace is not None:
        for var, value in kernel.state().items():
            trace.setdefault(var, []).append(value.copy())


def _run_steps(graph, block, kernels, sequences, states, lead, options) -> None:
    """Step a cycle: recurrent edges read the previous step's output (zeros at step 0)."""
    shapes = graph.shapes
    current = {name: np.zeros((lead[1], *shapes[name]), dtype=options.dtype) for name in block}
    outputs = {name: np.empty((*lead, *shapes[name]), dtype=options.dtype) for name in block}
    recurrent = graph.recurrent_edges
    sources = {name: graph.predecessors(name) for name in block}
    for t in range(lead[0]):
        previous = dict(current)
        for name in block:
            total = None
            for src in sources[name]:
                value = (previous[src] if (src, name) in recurrent
                         else current[src] if src in current else sequences[src][t])
                total = value if total is None else total + value
            kernel = kernels[name]
            if hasattr(kernel, "step"):
                current[name] = kernel.step(kernel.drive(total))
                _keep(kernel, states.get(name))
            else:
                current[name] = kernel.apply(total)
            outputs[name][t] = current[name]
    sequences.update(outputs)
