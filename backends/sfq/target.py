"""The SFQ targets' simulator: a graph quantized for SFQ, lowered (``lower``) and run on the
engine with the pulse emulation of ``pulses`` and the cells of ``neurons``.

Device settings (``--device KEY=VALUE``; defaults from the chip model's ``[sfq]``):
``gates`` (stochastic | deterministic), ``serialize`` (true: synapse outputs released one
after another, no collisions), ``pulses_per_spike`` (stochastic gates). The stochastic gates
draw from ``options.seed``: ``--trials K --seed S`` runs seeds S .. S+K-1.
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from snnc.errors import InputError, OptionError
from snnc.hw_models import load_chip
from snnc.hw_models.schema_sfq import GATES
from snnc.options import SimOptions, device_settings

from .. import engine
from ..engine import Recording, view
from ..engine.inputs import graph_inputs
from . import lower
from .cells import cells

DEVICE_KEYS = {
    "gates": "synapses: stochastic pass gates (p = |w| / (pulses_per_spike * worth)) or "
             "deterministic multi-fluxon weights (|w| pulses per spike)",
    "serialize": "true: release synapse outputs one after another (no merger collisions, "
                 "longer timestep); false: pulses that meet within a merger window collide",
    "pulses_per_spike": "stochastic gates: pulses a spike sends, each passed with p",
    "bias_spread_ua": "stochastic gates: standard deviation (uA) of each gate's bias current "
                      "between circuit instances, drawn per seed (device spread)",
}


def settings(options: SimOptions, chip) -> lower.Settings:
    sfq = chip.sfq
    got = device_settings(options, lower.chip_defaults(sfq))
    if got["gates"] not in GATES:
        raise OptionError(f"device setting gates is one of {', '.join(GATES)}, "
                          f"got '{got['gates']}'")
    given = {key for key, _ in options.device} & {"pulses_per_spike", "bias_spread_ua"}
    if got["gates"] == "deterministic" and given:
        raise OptionError(f"device setting {sorted(given)[0]} applies to stochastic gates "
                          f"only; chip '{chip.name}' runs deterministic gates here (add "
                          "--device gates=stochastic)")
    if got["pulses_per_spike"] < 1:
        raise OptionError("device setting pulses_per_spike must be at least 1, got "
                          f"{got['pulses_per_spike']}")
    if got["bias_spread_ua"] < 0:
        raise OptionError("device setting bias_spread_ua must be >= 0, got "
                          f"{got['bias_spread_ua']}")
    if got["bias_spread_ua"] > 0 and not sfq.gate_bias_width:
        raise OptionError(f"chip '{chip.name}' gives no sfq.gate_bias_width, which a bias "
                          "spread needs")
    spread = got.pop("bias_spread_ua") * 1e-6 / (sfq.gate_bias_width or 1.0)
    return lower.Settings(**got, logit_spread=spread, seed=options.seed)


@view.lowered_once
def sfq_network(graph, options: SimOptions, chip: str) -> engine.Network:
    model = load_chip(chip)
    graph = lower.flat(graph)
    lower.check(graph, model.name)
    return lower.network(graph, options, cells(model), settings(options, model))


def simulate(graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = (), *,
             chip: str = "sfq") -> Recording:
    """Run ``graph`` on the SFQ emulator on inputs (steps, batch, *shape), step for step with
    the reference. outputs: per Output, its population's spikes (or a readout's state);
    ``record``: populations whose v is kept."""
    graph = lower.flat(graph)
    net = sfq_network(graph, options, chip)
    arrays, steps, batch = graph_inputs(graph, inputs)
    feeds = {name: _spikes(name, array) for name, array in arrays.items()}
    reads = {name: view.reads(graph, name) for name in graph.outputs}
    unknown = sorted(set(record) - {p.name for p in net.populations if not p.is_input})
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such population")
    readouts = {pop for pop in reads.values() if not graph.nodes[pop].spiking}
    run = engine.run(net, feeds, steps, batch=batch, seed=options.seed,
                     probe=[f"{name}.v" for name in sorted(set(record) | readouts)])
    dtype = np.dtype(options.dtype)
    def shaped(name: str, array: np.ndarray) -> np.ndarray:
        return array.reshape(steps, batch, *graph.nodes[name].shape)

    outputs = {name: shaped(name, run.states[f"{pop}.v"] if pop in readouts
                            else run.spikes[pop]).astype(dtype) for name, pop in reads.items()}
    states = {f"{name}.v": shaped(name, run.states[f"{name}.v"]).astype(dtype)
              for name in record}
    counts = {name: int(run.spikes[name].sum()) for name, node in graph.nodes.items()
              if name in net.by_name and not net.by_name[name].is_input and node.spiking}
    activity = {name: s.sum(axis=(0, 1)) for name, s in run.spikes.items()}
    return Recording(outputs=outputs, states=states, spike_counts=counts, steps=steps,
                     batch=batch, counters=run.counters, activity=activity)


def _spikes(name: str, array: np.ndarray) -> np.ndarray:
    graded = (array != 0) & (array != 1)
    if graded.any():
        raise InputError(f"input '{name}': SFQ inputs are pulses (0 or 1), found "
                         f"{array[graded].flat[0]:g}; encode analog input as spikes first")
    return array.reshape(*array.shape[:2], -1) != 0
