"""A toy target written outside snnc: a float LIF chip with its own chip TOML.

It shows what a new target is: a ``Family`` (what it runs), a ``Target`` (its chip, pipeline
and simulator) and one ``register`` call, with no edit to snnc. Its simulator is a plain
step-by-step float64 loop over the graph (Input, Affine, Linear, LIF, Output; recurrent edges
carry the previous step), written from the IR's docstrings rather than from the reference, so
the conformance suite compares two independent implementations.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from snnc.backends import register
from snnc.backends.engine import Counters
from snnc.backends.reference import Recording
from snnc.errors import InputError
from snnc.ir import flatten
from snnc.ir import nodes as n
from snnc.target import NATIVE, Family, Target

CHIP = str(Path(__file__).with_name("toy_chip.toml"))
FAMILY = Family(kind="toyfloat", supported={t: NATIVE for t in (n.Input, n.Output, n.Affine,
                                                                 n.Linear, n.LIF)})


def simulate(graph, inputs, options, record=()):
    """Run ``graph`` on inputs (steps, batch, *shape) per Input, in float64."""
    graph = graph if graph.is_flat else flatten(graph)
    if not isinstance(inputs, dict):
        inputs = {graph.inputs[0]: inputs}
    steps, batch = next(iter(inputs.values())).shape[:2]
    back = set(graph.recurrent_edges)
    state = {k: np.broadcast_to(v.v_leak, (batch, *v.shape)).astype(np.float64)
             for k, v in graph.nodes.items() if isinstance(v, n.LIF)}
    previous = {k: np.zeros((batch, *graph.shapes[k])) for k in graph.nodes}
    outputs = {k: np.zeros((steps, batch, *graph.shapes[k])) for k in graph.outputs}
    spikes = {k: np.zeros((steps, batch, *graph.shapes[k]), bool) for k in state}
    for t in range(steps):
        now = {}
        for name in graph.order:
            node = graph.nodes[name]
            feed = sum((previous[p] if (p, name) in back else now[p])
                       for p in graph.predecessors(name)) if graph.predecessors(name) else 0
            now[name] = _apply(node, name, feed, inputs, t, state, options)
            if isinstance(node, n.LIF):
                spikes[name][t] = now[name]
            if name in outputs:
                outputs[name][t] = now[name]
        previous = now
    sent = {**{k: np.asarray(v) != 0 for k, v in inputs.items()}, **spikes}
    dtype = np.dtype(options.dtype)
    return Recording(outputs={k: v.astype(dtype) for k, v in outputs.items()},
                     spike_counts={k: int(v.sum()) for k, v in spikes.items()},
                     steps=steps, batch=batch, counters=_counters(graph, sent, spikes),
                     activity={k: v.sum(axis=(0, 1)).reshape(-1) for k, v in sent.items()})


def _apply(node, name, feed, inputs, t, state, options):
    if isinstance(node, n.Input):
        return np.asarray(inputs[name][t], np.float64)
    if isinstance(node, (n.Affine, n.Linear)):
        if node.delay is not None and np.any(node.delay):
            raise InputError(f"node '{name}': the toy target has no synaptic delays")
        y = feed @ node.weight.T.astype(np.float64)
        return y + node.bias if isinstance(node, n.Affine) else y
    if isinstance(node, n.LIF):  # Norse's LIFBoxCell: leak toward v_leak + r i, then fire
        v = state[name] + options.dt / node.tau * (node.v_leak - state[name] + node.r * feed)
        fired = v > node.v_threshold
        state[name] = np.where(fired, node.v_reset, v)
        return fired.astype(np.float64)
    return feed  # Output


def _counters(graph, sent, spikes) -> Counters:
    """Spikes, neuron updates and synaptic events per step, as the cost model reads them."""
    counters = Counters()
    for name, fired in sent.items():
        counters.spikes[name] = fired.reshape(len(fired), -1).sum(axis=1)
        if name in spikes:
            counters.neuron_updates[name] = np.full(len(fired), fired[0].size)
    for name, node in graph.nodes.items():
        if isinstance(node, (n.Affine, n.Linear)):
            source, = graph.predecessors(name)
            target, = graph.successors(name)
            fanout = np.count_nonzero(node.weight, axis=0)
            per_step = sent[source].reshape(*sent[source].shape[:2], -1) @ fanout
            counters.synaptic_events[f"{source}->{target}"] = per_step.sum(axis=1)
    return counters


TOY = Target(name="toy", description="a float LIF chip (a test's toy target)", family=FAMILY,
             simulate=simulate, chip=CHIP, pipeline="normalize",
             # float64 here, float32 in the reference by default: a membrane within float32
             # rounding of its threshold may fire in one only
             agreement=0.999)


@contextmanager
def installed():
    """The toy target registered for the duration of a block (the registry is global)."""
    from snnc import backends

    before = dict(backends._TARGETS), dict(backends._FAMILIES)
    register(TOY)
    try:
        yield TOY
    finally:
        backends._TARGETS.clear()
        backends._TARGETS.update(before[0])
        backends._FAMILIES.clear()
        backends._FAMILIES.update(before[1])
