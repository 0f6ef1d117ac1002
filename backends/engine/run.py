"""The step loop: run a ``Network`` on input spikes and record spikes, state and counters
(a ``Trace``).

Scheduling (``schedule="auto"``): the neuron populations are grouped into blocks (see
``Network.blocks``). A population on no cycle runs *layer by layer*: its senders' spike trains
are complete, so its input over a whole window of steps is one kernel call per connection, and
its process model scans the window. Windows hold about ``CHUNK`` numbers (all steps at once for
small batches): large batches then reuse warm buffers instead of touching fresh memory. The
members of a cycle run *step by step* together: each step every member reads its input,
updates, and sends its spikes into per-connection ring buffers. ``schedule="step"`` runs
the whole network step by step. Both give identical results on integer networks: every sum is
an exact integer and the process models' ``scan`` equals repeated ``step`` (float networks:
equal up to the rounding of sums taken in another order; see ``synapses``).

Either way a connection delivers its send steps in time order, so a stateful synapse model
(``models.SynapseRunner``) sees them as the chip would.

Ring buffers: a connection with arrival offsets latency + d (one per delay slot) keeps
``(max offset + 1, batch, n_out)`` slots; a spike sent at step t adds its delivered
partial sums into slot ``(t + offset) % size``, which the target reads and clears at that step.
"""
from __future__ import annotations

import zlib
from typing import Collection, Mapping

import numpy as np

from snnc.errors import InputError

from .inputs import network_inputs
from .models import model_counts
from .network import Connection, Network
from .recording import Counters, Trace

SCHEDULES = ("auto", "step")
CHUNK = 1 << 18  # numbers per window of a layer-by-layer population (2 MiB of int64)


def run(network: Network, inputs: Mapping[str, np.ndarray], steps: int | None = None, *,
        batch: int | None = None, probe: Collection[str] = (), schedule: str = "auto",
        kernel: str = "auto", seed: int = 0) -> Trace:
    """Run ``network`` for ``steps`` steps.

    inputs: per input population, spikes shaped (steps, batch, size) or (steps, size) for
        batch 1; any nonzero value is one spike.
    probe: "population.var" state variables to record every step.
    kernel: the synapse kernel, "auto", "dense" or "sparse" (see ``synapses``).
    seed: where the random source of every stateful synapse model comes from
        (``connection_rng``): the same seed gives the same run.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got '{schedule}'")
    spikes, steps, batch = network_inputs(network, inputs, steps, batch)
    probes = _probes(network, probe)
    pops, dtype = network.by_name, np.dtype(network.dtype)
    for p in network.populations:
        spikes.setdefault(p.name, np.zeros((steps, batch, p.size), bool))
    states = {f"{name}.{var}": np.zeros((steps, batch, pops[name].size), dtype)
              for name, names in probes.items() for var in names}
    live = _start_synapses(network, steps, batch, seed)
    flow = _Flow(network, spikes, live, kernel, {})
    blocks, started = network.blocks(), {}
    if schedule == "step":
        blocks = [[name for block in blocks for name in block]] if blocks else []
    for block in blocks:
        runners = {name: pops[name].model.start(pops[name].size, batch,
                                                network.input_bound(name)) for name in block}
        started.update(runners)
        if schedule == "auto" and not network.cyclic(block):
            _run_layer(flow, block[0], runners[block[0]], states, probes)
        else:
            outside = {name: _layer_input(flow, name, set(block)) for name in block}
            _run_steps(flow, block, runners, outside, states, probes)
    counters = _count(network, spikes, flow.events)
    _add_model_counts(counters, {**started, **live}, steps)
    return Trace(spikes=spikes, states=states, counters=counters, steps=steps, batch=batch)


def connection_rng(seed: int, connection: str) -> np.random.Generator:
    """The random source of one connection's synapse model: from the run's seed and the
    connection's name (CRC-32, stable across processes, unlike ``hash``)."""
    return np.random.default_rng([int(seed), zlib.crc32(connection.encode())])


def _start_synapses(net: Network, steps: int, batch: int, seed: int) -> dict:
    """The runners of the synapse models that keep state (those with ``start``)."""
    return {c.name: c.model.start(c.synapses, steps, batch, connection_rng(seed, c.name))
            for c in net.connections if hasattr(c.model, "start")}


class _Flow:
    """What a run's deliveries share: the network, the spike trains (complete for every
    population already run), the live synapse runners, the kernel choice and the synaptic
    events per connection (steps, batch), filled as connections are delivered."""

    def __init__(self, net: Network, spikes: dict, live: dict, kernel: str, events: dict):
        self.net, self.spikes, self.live, self.kernel, self.events = (net, spikes, live,
                                                                      kernel, events)
        self.dtype = np.dtype(net.dtype)

    def buffer(self, steps: int, name: str, batch: int) -> np.ndarray:
        """Zeroed input of ``name`` over ``steps``: (steps, [ports,] batch, size)."""
        ports = self.net.ports(name)
        lead = (len(ports),) if len(ports) > 1 else ()
        return np.zeros((steps, *lead, batch, self.net.by_name[name].size), self.dtype)

    def count_events(self, c: Connection) -> np.ndarray:
        sent = self.spikes[c.source]
        self.events[c.name] = c.synapses.events(
            sent.reshape(-1, sent.shape[-1])).reshape(sent.shape[:2])
        return self.events[c.name]


def _run_layer(flow: _Flow, name: str, runner, states: dict, probes: dict) -> None:
    """A population on no cycle, one window of steps at a time. ``pending`` holds the input
    of the window plus what earlier sends deliver up to the longest arrival offset beyond it."""
    steps, batch, size = flow.spikes[name].shape
    into = flow.net.incoming(name)
    reach = max((int(c.arrival_offsets()[-1]) for c in into), default=0)
    ports = max(1, len(flow.net.ports(name)))
    window = max(1, min(steps, CHUNK // (batch * size * ports)))
    pending = flow.buffer(window + reach, name, batch)
    for c in into:
        flow.count_events(c)
    for t0 in range(0, steps, window):
        n = min(window, steps - t0)
        for c in into:
            _add_delivered(flow, pending, c, t0, n)
        fired, traces = runner.scan(pending[:n], probes.get(name, ()))
        flow.spikes[name][t0:t0 + n] = fired
        for var, trace in traces.items():
            states[f"{name}.{var}"][t0:t0 + n] = trace
        if t0 + n < steps:  # carry what arrives after the window into the next one
            pending[:reach] = pending[n:n + reach].copy()
            pending[reach:] = 0


def _layer_input(flow: _Flow, name: str, inside: set[str]) -> np.ndarray:
    """Input (steps, [ports,] batch, size) of ``name`` from every connection whose source is
    not in the block: those sources' spike trains are complete, so all steps are computed at
    once."""
    steps, batch = flow.spikes[name].shape[:2]
    total = flow.buffer(steps, name, batch)
    for c in flow.net.incoming(name):
        if c.source not in inside:
            flow.count_events(c)
            _add_delivered(flow, total, c, 0, steps)
    return total


def _add_delivered(flow: _Flow, total: np.ndarray, c: Connection, first: int, rows: int
                   ) -> None:
    """Add what ``c``'s source sends at steps first .. first + rows - 1 delivers into
    ``total`` (its row r: step first + r + offset; arrivals past its end are dropped). A chunk
    of send steps at a time, to bound the partial sums held at once. A stateful synapse model
    gets every send step, even those that arrive past the end (see ``SynapseRunner``)."""
    sent = flow.spikes[c.source][first:first + rows]
    events = flow.events[c.name][first:first + rows]
    batch = sent.shape[1]
    offsets, runner = c.arrival_offsets(), flow.live.get(c.name)
    port = flow.net.port_index(c)
    into = total if port is None else total[:, port]
    last_send = rows if runner is not None else min(rows, len(total) - int(offsets[0]))
    width = batch * len(offsets) * c.synapses.n_out
    chunk = max(1, CHUNK // width)
    for t0 in range(0, max(last_send, 0), chunk):
        t1 = min(t0 + chunk, last_send)
        part = _delivered(c, runner, sent[t0:t1], first + t0, flow.kernel,
                          int(events[t0:t1].sum()))
        for k, offset in enumerate(offsets):
            lo, hi = t0 + int(offset), min(t1 + int(offset), len(total))
            if lo < hi:
                into[lo:hi] += part[:hi - lo, :, k]


def _delivered(c: Connection, runner, sent: np.ndarray, first: int, kernel: str,
               events: int | None = None) -> np.ndarray:
    """What spikes ``sent`` (rows, batch, n_in) deliver: (rows, batch, slots, n_out)."""
    rows, batch, n_in = sent.shape
    part = c.synapses.deliver(sent.reshape(-1, n_in), kernel, events)
    if runner is None:
        return c.model.apply(part).reshape(rows, batch, part.shape[1], -1)
    return runner.deliver(part.reshape(rows, batch, part.shape[1], -1), sent, first)


def _run_steps(flow: _Flow, block: list[str], runners: dict, outside: dict, states: dict,
               probes: dict) -> None:
    """Step the members of ``block`` together; connections inside it use ring buffers."""
    net, spikes, kernel = flow.net, flow.spikes, flow.kernel
    members = set(block)
    inner = [c for c in net.connections if c.source in members and c.target in members]
    batch = spikes[block[0]].shape[1]
    rings = {c.name: np.zeros((int(c.arrival_offsets()[-1]) + 1, batch, c.synapses.n_out),
                              flow.dtype) for c in inner}
    into = {name: [(rings[c.name], net.port_index(c)) for c in inner if c.target == name]
            for name in block}
    out_of = {name: [(rings[c.name], c, flow.live.get(c.name)) for c in inner
                     if c.source == name] for name in block}
    for t in range(len(spikes[block[0]])):
        for name in block:
            a_in = outside[name][t]  # this run's own buffer: safe to add into
            for ring, port in into[name]:
                slot = ring[t % len(ring)]
                if port is None:
                    a_in += slot
                else:
                    a_in[port] += slot
                slot[:] = 0
            spikes[name][t] = runners[name].step(a_in)
            for var in probes.get(name, ()):
                states[f"{name}.{var}"][t] = runners[name].state(var)
            for ring, c, runner in out_of[name]:
                _send(ring, c, runner, spikes[name][t], t, kernel)


def _send(ring: np.ndarray, c: Connection, runner, sent: np.ndarray, t: int, kernel: str
          ) -> None:
    """Add what one step's spikes deliver into the ring slots they arrive at."""
    if runner is None:
        if not sent.any():
            return
        part = c.model.apply(c.synapses.deliver(sent, kernel))  # (batch, slots, n_out)
    else:
        part = _delivered(c, runner, sent[None], t, kernel)[0]
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
        if c.name in events:
            sent = events[c.name]
        else:
            spiked = spikes[c.source]
            sent = c.synapses.events(spiked.reshape(-1, spiked.shape[-1])).reshape(
                spiked.shape[:2])
        counters.synaptic_events[c.name] = sent.sum(axis=1)
    return counters


def _add_model_counts(counters: Counters, runners: Mapping[str, object], steps: int) -> None:
    """The counters the runners keep themselves (see ``models``), under their names."""
    for name, runner in runners.items():
        for kind, per_step in model_counts(runner).items():
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
