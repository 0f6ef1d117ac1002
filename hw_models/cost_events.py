"""The event terms of ``snnc.hw_models.cost``: each counted event at its per-event energy,
per inference, per layer and per core.

Synaptic events are priced by the kind of their connection where the model separates them
(SANA-FE's Loihi set: dense 35.5, sparse 33.6, conv 24.0 pJ; energy_cases.md section 3):
``synapse_kinds`` maps a connection to "dense" (the default), "sparse" or "conv", and each
kind the model prices apart is a term of its own (``synaptic_ops``, ``synaptic_ops_sparse``,
``synaptic_ops_conv``); a kind the model has no figure for falls back on the dense one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .cost_report import CoreCost, LayerCost, Term

SYNAPSE_KINDS = ("dense", "sparse", "conv")


@dataclass(frozen=True)
class _Price:
    """Joules per event (None: the model gives no figure), with evidence and source key."""

    unit: Optional[float]
    evidence: str = ""
    key: str = ""

    def of(self, count: float) -> float:
        return 0.0 if self.unit is None else self.unit * count


def prices(figures) -> dict[str, _Price]:
    """The price of each event term. ``spiking`` is the extra of an active (spiking) neuron's
    update over an inactive one, where the model tells them apart."""
    get = lambda field: _Price(*figures.get(field))  # noqa: E731
    active, inactive = get("neuron_update"), get("neuron_update_inactive")
    if active.unit is not None and inactive.unit is not None:
        update, spiking = inactive, _Price(active.unit - inactive.unit)
    else:  # one figure per update, plus the state access where the model splits it out
        access = get("neuron_access")
        parts = [x for x in (active, access) if x.unit is not None]
        update = _Price(sum(x.unit for x in parts), "/".join(sorted({x.evidence for x in parts})),
                        ",".join(x.key for x in parts)) if parts else _Price(None)
        spiking = _Price(0.0)
    message = _first(get("message_out"), get("spike_local"), get("packet"))
    hops = [x for x in (get("hop_ew"), get("hop_ns")) if x.unit is not None]
    hop = _Price(sum(x.unit for x in hops) / len(hops),  # routes give no direction: the mean
                 "/".join(sorted({x.evidence for x in hops})), ",".join(x.key for x in hops)) \
        if hops else get("packet")  # SpiNNaker: a packet's energy per router it crosses
    dense = get("synaptic_op")
    kinds = {f"synaptic_ops_{k}": _first(get(f"synaptic_op_{k}"), dense)
             for k in SYNAPSE_KINDS[1:]}
    return {"synaptic_ops": dense, **kinds, "neuron_updates": update, "spiking": spiking,
            "spikes_out": get("spike_out"), "messages": message, "hops": hop}


def _first(*prices: _Price) -> _Price:
    """The first price the model gives."""
    return next((p for p in prices if p.unit is not None), prices[-1])


def synapse_term(name: str, synapse_kinds) -> str:
    """The term a connection's synaptic events belong to (see the module doc)."""
    kind = (synapse_kinds or {}).get(name, "dense")
    return "synaptic_ops" if kind == "dense" else f"synaptic_ops_{kind}"


def event_terms(prices, counters, ends, placement, hops, inferences, synapse_kinds=None):
    """The event terms per inference, the per-layer split and the unpriced term names."""
    per_inference = lambda a: float(np.sum(a)) / inferences  # noqa: E731
    spikes = {k: per_inference(v) for k, v in counters.spikes.items()}
    layers = []
    for pop, updates in counters.neuron_updates.items():
        counts = {"neuron_updates": per_inference(updates), "spikes_out": spikes[pop]}
        energy = {"neuron_updates": prices["neuron_updates"].of(counts["neuron_updates"])
                  + prices["spiking"].of(spikes[pop]),
                  "spikes_out": prices["spikes_out"].of(spikes[pop])}
        layers.append(LayerCost(pop, "population", len(placement[pop]), counts, energy))
    messaged = set()  # (source, target) pairs whose messages are counted
    for name, (source, target) in ends.items():
        first = (source, target) not in messaged
        messaged.add((source, target))
        counts = {"synaptic_ops": per_inference(counters.synaptic_events[name]),
                  "messages": spikes.get(source, 0.0) * len(placement.get(target, ()))
                  if first else 0.0,
                  "hops": per_inference(hops[name]) if hops and name in hops else 0.0}
        energy = {k: prices[k].of(v) for k, v in counts.items()}
        kind = synapse_term(name, synapse_kinds)
        energy["synaptic_ops"] = prices[kind].of(counts["synaptic_ops"])
        layers.append(LayerCost(name, "connection", len(placement.get(target, ())), counts,
                                energy))
    terms, unpriced = [], []
    kinds = {synapse_term(name, synapse_kinds) for name in ends} or {"synaptic_ops"}
    for name in ("synaptic_ops", "synaptic_ops_sparse", "synaptic_ops_conv", "neuron_updates",
                 "spikes_out", "messages", "hops"):
        price = prices[name]
        if name.startswith("synaptic_ops") and name not in kinds:
            if name == "synaptic_ops" and price.unit is None:
                unpriced.append(name)
            continue
        if name == "hops" and not hops:
            unpriced.append("hops (no routes given)")
        elif price.unit is None:
            unpriced.append(name)
        elif name.startswith("synaptic_ops"):
            found = [lay for lay in layers if lay.kind == "connection"
                     and synapse_term(lay.name, synapse_kinds) == name]
            terms.append(Term(name, sum(lay.energy["synaptic_ops"] for lay in found),
                              sum(lay.events["synaptic_ops"] for lay in found), price.unit,
                              price.evidence, price.key))
        else:
            found = [lay for lay in layers if name in lay.events]
            terms.append(Term(name, sum(lay.energy[name] for lay in found),
                              sum(lay.events[name] for lay in found), price.unit,
                              price.evidence, price.key))
    return terms, layers, unpriced


def core_costs(prices, rows, work, inferences, batch) -> list[CoreCost]:
    """Each core's events and their energy per inference (messages and hops, which belong to
    links, excluded), and its busy time; its synaptic ops at the dense figure (a core's
    share of each connection kind is not kept)."""
    out = []
    for r, busy in zip(rows, work):
        ops, updates, spikes = (float(np.sum(r[k])) / inferences
                                for k in ("synaptic_ops", "neuron_updates", "spikes"))
        energy = (prices["synaptic_ops"].of(ops) + prices["neuron_updates"].of(updates)
                  + prices["spiking"].of(spikes) + prices["spikes_out"].of(spikes))
        out.append(CoreCost(r["core"], r["chip"], r["population"], r["neurons"], ops, updates,
                            spikes, energy, float(busy.sum()) * batch / inferences))
    return out
