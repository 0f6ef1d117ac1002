"""The fit report: what a graph needs of a chip, per population, beside the chip's limits.

Written by ``snnc compile`` whether or not the graph fits (``fit_report.json`` in the program,
or ``OUT.fit_report.json`` beside a program that could not be written), so a user whose model
is too large sees which population to shrink and by how much.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from snnc.hw_models import Chip
from snnc.ir import Graph, flatten
from snnc.ir import nodes as n

from .partition import Partition, _synapse_width, fan_in, incoming
from .place import cores_per_chip


def fit_report(graph: Graph, chip: Chip, part: Partition | None = None,
               chips: int | None = None, error: str | None = None) -> dict[str, Any]:
    """The report as plain JSON data; ``part`` is the partition when one was found."""
    graph = graph if graph.is_flat else flatten(graph)
    per_chip = cores_per_chip(chip)
    populations = [_population(graph, name, chip, part) for name in graph.order
                   if isinstance(graph.nodes[name], n.Neuron)]
    cores = len(part.cores) if part else None
    return {
        "chip": chip.name, "fits": error is None, "error": error,
        "cores": {"need": cores, "per_chip": per_chip},
        "chips": {"need": -(-cores // per_chip) if cores and per_chip else None,
                  "given": chips, "max": chip.topology.max_chips},
        "limits_per_core": {"neurons": chip.core.neurons_per_core,
                            "synapse_bits": chip.core.synapse_memory or chip.core.memory,
                            "input_axons": chip.core.input_axons,
                            "output_axons": chip.core.output_axons},
        "populations": populations,
    }


def _population(graph: Graph, name: str, chip: Chip, part: Partition | None) -> dict:
    size = math.prod(graph.shapes[name])
    synapses = np.zeros(size, np.int64)
    bits = np.zeros(size, np.int64)
    for matrix, _ in incoming(graph, name):
        count = fan_in(graph, matrix, size)
        synapses += count
        bits += count * _synapse_width(graph.nodes[matrix], chip)
    return {"name": name, "neurons": size, "synapses": int(synapses.sum()),
            "synapse_bits": int(bits.sum()), "max_fan_in": int(synapses.max(initial=0)),
            "max_neuron_synapse_bits": int(bits.max(initial=0)),
            "cores": len(part.of(name)) if part else None}
