"""The step loop: run a ``Network`` on input spikes and record spikes, state and counters (a ``Trace``).

Scheduling (``schedule="auto"``): the neuron populations are grouped into blocks (see
``Network.blocks``). A population on no cycle runs *layer by layer*: its senders' spike trains
are complete, so its input over a whole window of steps is one kernel call per connection, and
its process model scans the window. Windows hold about ``CHUNK`` numbers (all steps at once for
small batches): large batches then reuse warm buffers instead of touching fresh memory. The
members of a cycle run *step by step* together: each step every member reads its input,
updates, and sends its spikes into per-connection ring buffers. ``schedule="step"`` runs
the whole network step by step. Both give identical results: every sum is an exact integer and
the process models' ``scan`` equals repeated ``step``.

Ring buffers: a connection with arrival offsets latency + d (one per delay slot) keeps
``(max offset + 1, batch, n_out)`` int64 slots; a spike sent at step t adds its delivered
partial sums into slot ``(t + offset) % size``, which the target reads and clears at that step.
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from snnc.errors import InputError

from .inputs import network_inputs
from .network import Connection, Network
from .recording import Counters, Trace

SCHEDULES = ("auto", "step")
CHUNK = 1 << 18  # numbers per window of a layer-by-layer population (2 MiB of int64)


def run(network: Network, inputs: Mapping[str, np.ndarray], steps: int | None = None, *,
        batch: int | None = None, probe: Collection[str] = (), schedule: str = "auto",
        kernel: str = "auto") -> Trace:
    """Run ``network`` for ``steps`` steps.

    inputs: per input population, spikes shaped (steps, batch, size) or (steps, size) for
        batch 1; any nonzero value is one spike.
    probe: "population.var" state variables to record every step.
    kernel: the synapse kernel, "auto", "dense" or "sparse" (see ``synapses``).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got '{schedule}'")
    spikes, steps, batch = network_inputs(network, inputs, steps, batch)
    probes = _probes(network, probe)
    pops = network.by_name
    for p in network.populations:
        spikes.setdefault(p.name, np.zeros((steps, batch, p.size), bool))
    states = {f"{name}.{var}": np.zeros((steps, batch, pops[name].size), np.int64)
              for name, names in probes.items() for var in names}
    events: dict[str, np.ndarray] = {}  # per connection: synaptic events (steps, batch)
    blocks, started = network.blocks(), {}
    if schedule == "step":
        blocks = [[name for block in blocks for name in block]] if blocks else []
    for block in blocks:
        runners = {name: pops[name].model.start(pops[name].size, batch,
                                                network.input_bound(name)) for name in block}
        started.update(runners)
        if schedule == "auto" and not network.cyclic(block):
            _run_layer(network, block[0], runners[block[0]], spikes, states, probes, events,
                       kernel)
        else:
            members = set(block)
            outside = {name: _layer_input(network, name, spikes, members, events, kernel)
                       for name in block}
            _run_steps(network, block, runners, outside, spikes, states, probes, kernel)
    counters = _count(network, spikes, events)
    _add_model_counts(counters, started, steps)
    return Trace(spikes=spikes, states=states, counters=counters, steps=steps, batch=batch)


def _run_layer(net: Network, name: str, runner, spikes: dict, states: dict, probes: dict,
               events: dict, kernel: str) -> None:
    """A population on no cycle, one window of steps at a time. ``pending`` holds the input
    of the window plus what earlier sends deliver up to the longest arrival offset beyond it."""
    steps, batch, size = spikes[name].shape
    into = net.incoming(name)
    reach = max((int(c.arrival_offsets()[-1]) for c in into), default=0)
    window = max(1, min(steps, CHUNK // (batch * size)))
    pending = np.zeros((window + reach, batch, size), np.int64)
    for c in into:
        events[c.name] = _events(c, spikes[c.source])
    for t0 in range(0, steps, window):
        n = min(window, steps - t0)
        for c in into:
            _add_delivered(pending, c, spikes[c.source][t0:t0 + n], events[c.name][t0:t0 + n],
                           kernel)
        fired, traces = runner.scan(pending[:n], probes.get(name, ()))
        spikes[name][t0:t0 + n] = fired
        for var, trace in traces.items():
            states[f"{name}.{var}"][t0:t0 + n] = trace
        if t0 + n < steps:  # carry what arrives after the window into the next one
            pending[:reach] = pending[n:n + reach].copy()
            pending[reach:] = 0


def _layer_input(net: Network, name: str, spikes: dict, inside: set[str], events: dict,
                 kernel: str) -> np.ndarray:
    """int64 (steps, batch, size) input of ``name`` from every connection whose source is not
    in the block: those sources' spike trains are complete, so all steps are computed at once."""
    steps, batch = next(iter(spikes.values())).shape[:2]
    total = np.zeros((steps, batch, net.by_name[name].size), np.int64)
    for c in net.incoming(name):
        if c.source not in inside:
            events[c.name] = _events(c, spikes[c.source])
            _add_delivered(total, c, spikes[c.source], events[c.name], kernel)
    return total


def _events(c: Connection, sent: np.ndarray) -> np.ndarray:
    """Synaptic events (steps, batch): spikes sent x the sender's fan-out nonzeros."""
    return c.synapses.events(sent.reshape(-1, sent.shape[-1])).reshape(sent.shape[:2])


def _add_delivered(total: np.ndarray, c: Connection, sent: np.ndarray, events: np.ndarray,
                   kernel: str) -> None:
    """Add what ``sent`` (rows: consecutive send steps, batch, n_in) delivers through ``c``
    into ``total``: row r arrives at ``total[r + offset]``; arrivals past the end are dropped.
    A chunk of send steps at a time, to bound the partial sums held at once."""
    rows, batch, n_in = sent.shape
    offsets = c.arrival_offsets()
    last_send = min(rows, len(total) - int(offsets[0]))  # later sends arrive past the end
    width = batch * len(offsets) * c.synapses.n_out
    chunk = max(1, CHUNK // width)
    for t0 in range(0, max(last_send, 0), chunk):
        t1 = min(t0 + chunk, last_send)
        part = c.synapses.deliver(sent[t0:t1].reshape(-1, n_in), kernel,
                                  int(events[t0:t1].sum()))
        part = c.model.apply(part).reshape(t1 - t0, batch, len(offsets), -1)
        for k, offset in enumerate(offsets):
            lo, hi = t0 + int(offset), min(t1 + int(offset), len(total))
            if lo < hi:
                total[lo:hi] += part[:hi - lo, :, k]


def _run_steps(net: Network, block: list[str], runners: dict, outside: dict, spikes: dict,
               states: dict, probes: dict, kernel: str) -> None:
    """Step the members of ``block`` together; connections inside it use ring buffers."""
    members = set(block)
    inner = [c for c in net.connections if c.source in members and c.target in members]
    batch = outside[block[0]].shape[1]
    rings = {c.name: np.zeros((int(c.arrival_offsets()[-1]) + 1, batch, c.synapses.n_out),
                              np.int64) for c in inner}
    into = {name: [c for c in inner if c.target == name] for name in block}
    out_of = {name: [c for c in inner if c.source == name] for name in block}
    for t in range(len(outside[block[0]])):
        for name in block:
            a_in = outside[name][t]
            for c in into[name]:
                ring = rings[c.name][t % len(rings[c.name])]
                a_in += ring  # outside[name] is this run's own buffer: safe to add into
                ring[:] = 0
            spikes[name][t] = runners[name].step(a_in)
            for var in probes.get(name, ()):
                states[f"{name}.{var}"][t] = runners[name].state(var)
            for c in out_of[name]:
                _send(rings[c.name], c, spikes[name][t], t, kernel)


def _send(ring: np.ndarray, c: Connection, sent: np.ndarray, t: int, kernel: str) -> None:
    """Add the partial sums of one step's spikes into the ring slots they arrive at."""
    if not sent.any():
        return
    part = c.model.apply(c.synapses.deliver(sent, kernel))  # (batch, slots, n_out)
    slots = (t + c.arrival_offsets()) % len(ring)  # distinct: one per delay
    ring[slots] += part.transpose(1, 0, 2)


def _count(net: Network, spikes: dict, events: dict) -> Counters:
    counters = Counters()
    for p in net.populations:
        s = spikes[p.name]
        counters.spikes[p.name] = s.sum(axis=(1, 2), dtype=np.int64)
        if not p.is_input:
            counters.neuron_updates[p.name] = np.full(len(s), s.shape[1] * p.size, np.int64)
    for c in net.connections:
        sent = events[c.name] if c.name in events else _events(c, spikes[c.source])
        counters.synaptic_events[c.name] = sent.sum(axis=1)
    return counters


def _add_model_counts(counters: Counters, runners: Mapping[str, object], steps: int) -> None:
    """The counters a runner keeps itself (optional ``counts()``: kind -> (steps,))."""
    for name, runner in runners.items():
        for kind, per_step in (runner.counts() if hasattr(runner, "counts") else {}).items():
            if np.shape(per_step) != (steps,):
                raise ValueError(f"'{name}' counted {kind} over shape {np.shape(per_step)}, "
                                 f"not ({steps},)")
            counters.add(kind, name, per_step)


def _probes(net: Network, probe: Collection[str]) -> dict[str, list[str]]:
    pops, out = net.by_name, {}
    for item in probe:
        name, _, var = item.rpartition(".")
        if name not in pops or pops[name].is_input or var not in pops[name].model.state_vars:
            raise InputError(f"cannot probe '{item}': expected population.var with a neuron "
                             "population and one of its state variables")
        out.setdefault(name, []).append(var)
    return out
