"""Random IR graphs that no one tuned by hand, for property and conformance tests.

A graph is a chain of layers (Affine/Linear/Scale/Delay into a random neuron type) with random
extra edges: skip connections summed into a later layer and, optionally, a recurrent Linear
edge from a spiking population back into itself or an earlier one. Parameters are drawn so that neurons spike at moderate
rates on Bernoulli inputs.
"""
from __future__ import annotations

import numpy as np

from snnc.ir import nodes as n
from snnc.ir import Graph

NEURONS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")


def neuron(rng: np.random.Generator, kind: str, size: int, shared: bool = False) -> n.Node:
    """A population of ``kind``; ``shared``: one value per parameter for all its neurons."""
    def draw(lo, hi):
        return np.full(size, rng.uniform(lo, hi)) if shared else rng.uniform(lo, hi, size)
    common = dict(r=draw(0.5, 2.0))
    if kind in ("LIF", "LI"):
        common.update(tau=draw(2e-3, 2e-2), v_leak=draw(-0.1, 0.1))
    if kind in ("CubaLIF", "CubaLI"):
        common.update(tau_syn=draw(1e-3, 1e-2), tau_mem=draw(2e-3, 2e-2), v_leak=draw(-0.1, 0.1),
                      w_in=draw(1.0, 10.0))
    if kind in ("LIF", "CubaLIF", "IF"):
        common.update(v_threshold=draw(0.2, 1.0), v_reset=draw(-0.2, 0.0))
    return getattr(n, kind)(**common)


def synapse(rng: np.random.Generator, n_in: int, n_out: int, gain: float) -> n.Node:
    weight = rng.normal(0.0, gain / np.sqrt(n_in), (n_out, n_in))
    if rng.random() < 0.5:
        return n.Affine(weight=weight, bias=rng.normal(0.0, 0.1, n_out))
    return n.Linear(weight=weight)


def random_graph(seed: int, layers: int = 3, recurrent: bool | None = None,
                 neurons: tuple[str, ...] = NEURONS, maps: tuple[str, ...] = ("Scale", "Delay"),
                 shared: bool = False, last: tuple[str, ...] = ()) -> Graph:
    """A random verified graph with one Input and one Output, its populations drawn from
    ``neurons`` (``last`` adds types for the last layer only, such as readouts that can feed no
    further; with per-population parameters if ``shared``) and its elementwise maps between
    synapse and population from ``maps``."""
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(3, 12, layers + 1)]
    nodes: dict[str, n.Node] = {"input": n.Input(shape=(sizes[0],))}
    edges: list[tuple[str, str]] = []
    previous = "input"
    populations = []
    for layer in range(1, layers + 1):
        syn, pop = f"syn{layer}", f"pop{layer}"
        nodes[syn] = synapse(rng, sizes[layer - 1], sizes[layer], gain=rng.uniform(2, 8))
        kinds = neurons + last if layer == layers else neurons
        nodes[pop] = neuron(rng, str(rng.choice(kinds)), sizes[layer], shared)
        edges += [(previous, syn), (syn, pop)]
        if rng.random() < 0.3 and maps:  # an elementwise map between synapse and population
            extra = f"map{layer}"
            kind = maps[0] if len(maps) == 1 else "Scale" if rng.random() < 0.5 else "Delay"
            nodes[extra] = (n.Scale(scale=rng.uniform(0.5, 1.5, sizes[layer]))
                            if kind == "Scale" else
                            n.Delay(delay=rng.integers(0, 4, sizes[layer]) * 1e-3))
            edges[-1:] = [(syn, extra), (extra, pop)]
        if populations and rng.random() < 0.4:  # a skip connection, summed into pop
            source = populations[int(rng.integers(len(populations)))]
            skip = f"skip{layer}"
            nodes[skip] = n.Linear(weight=rng.normal(0, 1, (sizes[layer], nodes[source].shape[0])))
            edges += [(source, skip), (skip, pop)]
        populations.append(pop)
        previous = pop
    spiking = [p for p in populations if nodes[p].spiking]  # bounded outputs: safe to feed back
    if spiking and (recurrent if recurrent is not None else rng.random() < 0.5):
        source = spiking[-1]
        target = populations[int(rng.integers(populations.index(source) + 1))]
        size = nodes[target].shape[0]
        nodes["rec"] = n.Linear(weight=rng.normal(0, 1, (size, nodes[source].shape[0])))
        edges += [(source, "rec"), ("rec", target)]
    nodes["output"] = n.Output(shape=(sizes[-1],))
    edges.append((previous, "output"))
    return Graph(nodes=nodes, edges=tuple(edges))
