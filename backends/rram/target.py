"""The RRAM targets' simulator: a graph quantized for RRAM, tiled onto the chip's crossbars
and run on the engine with the device and periphery emulation of ``crossbar`` and ``device``.

Device settings (``--device KEY=VALUE``, ``device.DEVICE_KEYS``; defaults from the chip
model's ``[crossbar]``). The device instance (programming error, faults) is drawn from
``options.seed`` and read noise from the run's seed too, so ``--trials K --seed S`` runs K
device instances, seeds S .. S+K-1. ``ideal=true`` gives the reference exactly.
"""
from __future__ import annotations

from typing import Collection, Mapping

import numpy as np

from snnc.errors import InputError
from snnc.hw_models import load_chip
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions

from .. import engine
from ..engine import Recording, view
from ..engine.inputs import graph_inputs
from . import lower
from .device import settings as device_settings

READOUTS = (n.LI, n.CubaLI, n.I)


@view.lowered_once
def rram_network(graph: Graph, options: SimOptions, chip: str) -> engine.Network:
    """The engine network of a graph quantized for RRAM on ``chip`` (see ``lower``)."""
    graph = lower.flat(graph)
    lower.check(graph, chip)
    model = load_chip(chip)
    return lower.network(graph, options, model, device_settings(options, model))[0]


def simulate(graph: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
             options: SimOptions = SimOptions(), record: Collection[str] = (), *,
             chip: str = "rram") -> Recording:
    """Run ``graph`` on the emulated crossbars, step for step with the reference. outputs:
    per Output node, its population's spikes, or a readout's v; ``record``: populations
    whose v is kept."""
    graph = lower.flat(graph)
    net = rram_network(graph, options, chip)
    feeds, steps, batch = _feeds(graph, inputs)
    reads = {name: view.reads(graph, name) for name in graph.outputs}
    unknown = sorted(set(record) - {p.name for p in net.populations if not p.is_input})
    if unknown:
        raise InputError(f"cannot record {', '.join(unknown)}: no such population")
    readouts = {pop for pop in reads.values() if isinstance(graph.nodes[pop], READOUTS)}
    run = engine.run(net, feeds, steps, batch=batch, seed=options.seed,
                     probe=[f"{name}.v" for name in sorted(set(record) | readouts)])
    dtype = np.dtype(options.dtype)
    outputs = {name: (run.states[f"{pop}.v"] if pop in readouts else run.spikes[pop])
               .reshape(steps, batch, *graph.nodes[name].shape).astype(dtype)
               for name, pop in reads.items()}
    states = {f"{name}.v": run.states[f"{name}.v"].reshape(steps, batch,
                                                           *graph.nodes[name].shape)
              .astype(dtype) for name in record}
    counts = {name: int(run.spikes[name].sum()) for name, node in graph.nodes.items()
              if isinstance(node, n.Neuron) and node.spiking}
    activity = {name: spikes.sum(axis=(0, 1)) for name, spikes in run.spikes.items()}
    return Recording(outputs=outputs, states=states, spike_counts=counts, steps=steps,
                     batch=batch, counters=run.counters, activity=activity)


def _feeds(graph: Graph, inputs) -> tuple[dict[str, np.ndarray], int, int]:
    """Per Input, its spikes as bool (steps, batch, size): a spike is one read pulse."""
    arrays, steps, batch = graph_inputs(graph, inputs)
    feeds = {}
    for name, array in arrays.items():
        graded = (array != 0) & (array != 1)
        if graded.any():
            raise InputError(f"input '{name}': RRAM rows take spikes (0 or 1) as read pulses, "
                             f"found {array[graded].flat[0]:g}; encode analog input as spikes "
                             "first (or run it on the reference target)")
        feeds[name] = array.reshape(*array.shape[:2], -1) != 0
    return feeds, steps, batch
