"""Traffic and load of a SpiNNaker mapping: what the run's spikes make the routers and the ARM
cores do.

Per sending core: packets = spikes of its atoms (one multicast packet per spike, whatever the
fan-out; a DelayExtension core re-sends each spike of its source slice once per stage used);
router hops = packets x the links of its tree; table look-ups = packets x the chips of its tree
(every router on the way looks the key up; default-routed chips miss). Per receiving core:
packets in (every packet its routes deliver, empty rows included: the core looks each one up in
its master population table) and synaptic events (synapses of the spiking atoms into it).

ARM cycles per core and step (``[arm]`` of the chip model): ``timer_overhead`` +
``neuron_update`` x neurons + ``packet_received`` x packets in + ``synaptic_event`` x
synaptic events + ``spike_sent`` x spikes sent. A step at ``timing.clock`` lasts ``clock x
timestep`` cycles (200,000 at 200 MHz and 1 ms); a core above that overruns, and the least
integer ``time_scale_factor`` that fits is ceil(most cycles / budget). Per-step counts come
from the run's counters (per population, summed over the batch: a core's share of its
population's spikes is its atoms' share of the run's per-neuron totals), divided by the batch,
so a step's load is the batch mean.
"""
from __future__ import annotations

import math

import numpy as np

CORE_KINDS = ("population", "source", "delay")


def spike_shares(mapping, activity) -> dict[int, float]:
    """Vertex -> its share of its (source) population's spikes over the run."""
    out = {}
    for v in mapping.part.vertices:
        pop = v.app[:-len("_delayed")] if v.kind == "delay" else v.app
        size = mapping.net.pop(pop).size
        counts = np.asarray(activity.get(pop, ()), np.float64).reshape(-1) if activity else ()
        total = float(np.sum(counts)) if len(counts) == size else 0.0
        out[v.core] = (float(counts[v.start:v.stop].sum()) / total if total
                       else v.atoms / size)
    return out


def synapse_shares(mapping, activity) -> dict[tuple, np.ndarray]:
    """(source population, target population) -> per target vertex, the synaptic events one
    spike of the source population makes there on average (weighted by the run's per-neuron
    spike totals; uniform without them)."""
    out: dict[tuple, np.ndarray] = {}
    for b in mapping.part.blocks:
        src, tgt = b.proj.source, b.proj.target
        size = mapping.net.pop(src).size
        counts = np.asarray(activity.get(src, ()), np.float64).reshape(-1) if activity else ()
        weight = (counts / counts.sum() if len(counts) == size and counts.sum()
                  else np.full(size, 1.0 / size))
        n_t = len(mapping.part.of(tgt))
        per = np.bincount(b.target_slice, weights=weight[b.proj.pre], minlength=n_t)
        out[src, tgt] = out.get((src, tgt), 0) + per
    return out


def totals(mapping, activity) -> dict:
    """Run totals: packets, router hops, table look-ups, synaptic events."""
    shares = spike_shares(mapping, activity)
    spikes = {p.name: float(np.sum(activity.get(p.name, 0))) if activity else 0.0
              for p in mapping.net.pops}
    packets = hops = lookups = 0.0
    for core, grown in mapping.trees.items():
        sent = _sent(mapping, core, spikes, shares)
        packets += sent
        hops += sent * sum(len(links) for _, links in grown.values())
        lookups += sent * len(grown)
    events = sum(float(per.sum()) * spikes[src]
                 for (src, _), per in synapse_shares(mapping, activity).items())
    return {"packets": int(round(packets)), "router_hops": int(round(hops)),
            "table_lookups": int(round(lookups)), "synaptic_events": int(round(events))}


def _sent(mapping, core: int, spikes: dict, shares: dict) -> float:
    v = mapping.part.vertices[core]
    if v.kind == "delay":
        plan = mapping.part.delays[v.app[:-len("_delayed")]]
        return spikes[plan.source] * shares[core] * plan.stages
    return spikes[v.app] * shares[core]


def cycles(mapping, chip, counters, activity, batch: int) -> np.ndarray:
    """ARM cycles per vertex and step (vertices, steps), batch mean."""
    arm = chip.arm
    steps = len(next(iter(counters.spikes.values())))
    per_pop = {name: np.asarray(counters.spikes.get(name, np.zeros(steps)), np.float64) / batch
               for name in (p.name for p in mapping.net.pops)}
    shares = spike_shares(mapping, activity)
    sent = np.zeros((len(mapping.part.vertices), steps))
    for v in mapping.part.vertices:
        pop = v.app[:-len("_delayed")] if v.kind == "delay" else v.app
        stages = mapping.part.delays[pop].stages if v.kind == "delay" else 1
        sent[v.core] = per_pop[pop] * shares[v.core] * stages
    received = np.zeros_like(sent)
    for core, dests in mapping.dests.items():
        for d in dests:
            received[d] += sent[core]
    events = np.zeros_like(sent)
    for (src, tgt), per in synapse_shares(mapping, activity).items():
        for v, share in zip(mapping.part.of(tgt), per):
            events[v.core] += per_pop[src] * share
    neurons = np.array([v.atoms if v.kind == "population" else 0
                        for v in mapping.part.vertices], np.float64)
    return (arm.timer_overhead + arm.neuron_update * neurons[:, None]
            + arm.packet_received * received + arm.synaptic_event * events
            + arm.spike_sent * sent)


def load(mapping, chip, counters, activity, batch: int) -> dict:
    """The per-step ARM load: budget, busiest core and step, each core's most cycles in a step
    (by vertex id), overruns, time_scale_factor."""
    budget = chip.timing.clock * chip.timing.timestep
    work = cycles(mapping, chip, counters, activity, batch)
    if not work.size:
        return {"budget_cycles": budget, "overruns": [], "time_scale_factor": 1}
    core, step = np.unravel_index(int(np.argmax(work)), work.shape)
    overruns = []
    for v in mapping.part.vertices:
        over = np.flatnonzero(work[v.core] > budget)
        if len(over):
            overruns.append({"core": v.core, "population": v.app, "atoms": [v.start, v.stop],
                             "steps": len(over), "first_step": int(over[0]),
                             "most_cycles": float(work[v.core].max()),
                             "over_by": float(work[v.core].max() / budget - 1)})
    most = float(work.max())
    return {"budget_cycles": float(budget), "most_cycles": most,
            "busiest_core": int(core), "busiest_population": mapping.part.vertices[core].app,
            "busiest_step": int(step), "mean_cycles": float(work.mean()),
            "utilisation": most / budget, "overruns": overruns,
            "per_core_most_cycles": [round(float(c), 1) for c in work.max(axis=1)],
            "time_scale_factor": max(1, math.ceil(most / budget))}


def load_lines(info: dict) -> list[str]:
    """The load as report lines."""
    lines = [f"  ARM load: busiest core {info.get('busiest_core')} "
             f"({info.get('busiest_population')}) {info.get('most_cycles', 0):.0f} of "
             f"{info['budget_cycles']:.0f} cycles per step "
             f"({100 * info.get('utilisation', 0):.1f} %) at step {info.get('busiest_step')}"]
    for o in info["overruns"][:5]:
        lines.append(f"  overrun: core {o['core']} ({o['population']} atoms "
                     f"{o['atoms'][0]}..{o['atoms'][1] - 1}) over the step in {o['steps']} "
                     f"step(s), by {100 * o['over_by']:.1f} % at most")
    if len(info["overruns"]) > 5:
        lines.append(f"  overrun: {len(info['overruns']) - 5} more core(s)")
    if info["overruns"]:
        lines.append(f"  real time needs time_scale_factor = {info['time_scale_factor']}")
    return lines
