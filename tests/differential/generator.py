"""Random valid graphs described by a small spec, so that a failing graph can be shrunk.

A ``Spec`` is a chain of layers (a synapse, an optional elementwise map, a population) behind an
optional convolutional front (Conv2d -> population -> pool -> Flatten), with optional skip
connections (fan-in), a side branch read by a second Output (fan-out), and a recurrent edge.
Every random draw of a layer comes from its own seed, so removing or simplifying one part of a
spec leaves the others as they were: that is what makes shrinking work (``simpler``).

Parameters span each family's range: per-neuron or shared (``shared``), time constants from
one step to a hundred, thresholds from 0.05 to 4, weights scaled so that neurons spike at
moderate rates on Bernoulli inputs (``gain``).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from snnc.ir import Graph
from snnc.ir import nodes as n

NEURONS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")
SPIKING = ("LIF", "CubaLIF", "IF")
DT = 1e-3  # the options the harness runs with; time constants are drawn in steps of it


@dataclass(frozen=True)
class Layer:
    kind: str  # a neuron type of NEURONS
    size: int
    seed: int
    affine: bool = False  # Affine (with bias) instead of Linear
    mapping: Optional[str] = None  # "Scale" or "Delay" between synapse and population
    skip_from: Optional[int] = None  # an earlier layer (index) summed in: fan-in


@dataclass(frozen=True)
class Spec:
    """A random graph; ``build`` turns it into a verified IR graph."""

    inputs: int
    layers: tuple[Layer, ...]
    conv: bool = False  # a Conv2d -> population -> pool front on a (2, 6, 6) input
    pool: str = "SumPool2d"
    recurrent: Optional[tuple[int, int]] = None  # (from layer, into layer), from <= ... spiking
    branch: Optional[int] = None  # a second Output reading this layer through its own Affine
    shared: bool = False
    gain: float = 4.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Spec":
        data = json.loads(text)
        data["layers"] = tuple(Layer(**layer) for layer in data["layers"])
        for key in ("recurrent",):
            data[key] = tuple(data[key]) if data[key] is not None else None
        return cls(**data)


def draw(seed: int, neurons: tuple[str, ...] = NEURONS, readouts: tuple[str, ...] = (),
         maps: tuple[str, ...] = ("Scale", "Delay"), conv: bool = True,
         shared: bool = False) -> Spec:
    """A random spec of what a target runs: hidden layers from ``neurons`` (spiking types feed
    on), the last also from ``readouts``; ``maps`` the elementwise maps it folds."""
    rng = np.random.default_rng(seed)
    hidden = tuple(k for k in neurons if k in SPIKING) or neurons
    count = int(rng.integers(1, 5))
    layers = []
    for index in range(count):
        kinds = (*neurons, *readouts) if index == count - 1 else hidden
        layers.append(Layer(
            kind=str(rng.choice(kinds)), size=int(rng.integers(2, 14)),
            seed=int(rng.integers(2 ** 31)), affine=bool(rng.random() < 0.5),
            mapping=str(rng.choice(maps)) if maps and rng.random() < 0.3 else None,
            skip_from=int(rng.integers(index)) if index and rng.random() < 0.3 else None))
    spiking = [i for i, layer in enumerate(layers[:-1]) if layer.kind in SPIKING]
    recurrent = None
    if spiking and rng.random() < 0.4:
        source = int(rng.choice(spiking))
        recurrent = (source, int(rng.integers(source + 1)))
    branch = int(rng.choice(spiking)) if spiking and rng.random() < 0.3 else None
    return Spec(inputs=int(rng.integers(2, 16)), layers=tuple(layers),
                conv=bool(conv and rng.random() < 0.25),
                pool=str(rng.choice(["SumPool2d", "AvgPool2d"])), recurrent=recurrent,
                branch=branch, shared=shared or bool(rng.random() < 0.3),
                gain=float(rng.uniform(2.0, 8.0)))


def build(spec: Spec) -> Graph:
    nodes: dict[str, n.Node] = {}
    edges: list[tuple[str, str]] = []
    previous, width = _front(spec, nodes, edges)
    names = []
    for index, layer in enumerate(spec.layers):
        rng = np.random.default_rng(layer.seed)
        syn, pop = f"syn{index}", f"pop{index}"
        nodes[syn] = _matrix(rng, width, layer.size, spec.gain, layer.affine)
        nodes[pop] = _neuron(rng, layer.kind, (layer.size,), spec.shared)
        edges.append((previous, syn))
        if layer.mapping:
            nodes[f"map{index}"] = _map(rng, layer.mapping, layer.size)
            edges += [(syn, f"map{index}"), (f"map{index}", pop)]
        else:
            edges.append((syn, pop))
        if layer.skip_from is not None and layer.skip_from < index:
            source = names[layer.skip_from]
            nodes[f"skip{index}"] = n.Linear(weight=rng.normal(
                0, spec.gain / 4, (layer.size, nodes[source].shape[0])))
            edges += [(source, f"skip{index}"), (f"skip{index}", pop)]
        names.append(pop)
        previous, width = pop, layer.size
    _extras(spec, names, nodes, edges)
    nodes["output"] = n.Output(shape=(width,))
    edges.append((previous, "output"))
    return Graph(nodes=nodes, edges=tuple(edges))


def simpler(spec: Spec) -> Iterator[Spec]:
    """Specs one step simpler than ``spec``, the biggest simplifications first."""
    layers = spec.layers
    for drop in range(len(layers)):  # a layer less (references to it dropped)
        if len(layers) > 1:
            yield _without_layer(spec, drop)
    for key, plain in (("conv", False), ("recurrent", None), ("branch", None),
                       ("shared", True)):
        if getattr(spec, key) != plain:
            yield dataclasses.replace(spec, **{key: plain})
    for index, layer in enumerate(layers):
        for change in ({"skip_from": None}, {"mapping": None}, {"affine": False},
                       {"kind": "IF"}, {"size": max(1, layer.size // 2)}):
            if any(getattr(layer, k) != v for k, v in change.items()):
                new = dataclasses.replace(layer, **change)
                yield dataclasses.replace(spec, layers=layers[:index] + (new,) + layers[index + 1:])
    if spec.inputs > 1:
        yield dataclasses.replace(spec, inputs=max(1, spec.inputs // 2))


def size(spec: Spec) -> int:
    """How big a spec is: shrinking only accepts smaller ones."""
    return (sum(1 + layer.size + (layer.skip_from is not None) + bool(layer.mapping)
                + layer.affine + (layer.kind != "IF") for layer in spec.layers)
            + spec.inputs + 8 * spec.conv + (spec.recurrent is not None)
            + (spec.branch is not None) + (not spec.shared))


# -- pieces -------------------------------------------------------------------------------------


def _front(spec: Spec, nodes: dict, edges: list) -> tuple[str, int]:
    if not spec.conv:
        nodes["input"] = n.Input(shape=(spec.inputs,))
        return "input", spec.inputs
    rng = np.random.default_rng(spec.inputs)
    nodes["input"] = n.Input(shape=(2, 6, 6))
    nodes["conv"] = n.Conv2d(weight=rng.normal(0, spec.gain / 4, (3, 2, 3, 3)),
                             bias=rng.normal(0, 0.1, 3), padding=1)
    nodes["conv_pop"] = _neuron(rng, "IF", (3, 6, 6), spec.shared)
    nodes["pool"] = getattr(n, spec.pool)(kernel_size=(2, 2), stride=(2, 2))
    nodes["flat"] = n.Flatten(start_dim=0, end_dim=-1)
    edges += [("input", "conv"), ("conv", "conv_pop"), ("conv_pop", "pool"), ("pool", "flat")]
    return "flat", 3 * 3 * 3


def _extras(spec: Spec, names: list, nodes: dict, edges: list) -> None:
    if spec.recurrent is not None:
        source, target = spec.recurrent
        if source < len(names) and target <= source and nodes[names[source]].spiking:
            rng = np.random.default_rng(source * 31 + target)
            nodes["rec"] = n.Linear(weight=rng.normal(0, spec.gain / 4, (
                nodes[names[target]].shape[0], nodes[names[source]].shape[0])))
            edges += [(names[source], "rec"), ("rec", names[target])]
    if spec.branch is not None and spec.branch < len(names) - 1:
        source = names[spec.branch]
        rng = np.random.default_rng(spec.branch + 7)
        nodes["branch_syn"] = _matrix(rng, nodes[source].shape[0], 3, spec.gain, True)
        nodes["branch_pop"] = _neuron(rng, "IF", (3,), spec.shared)
        nodes["branch_out"] = n.Output(shape=(3,))
        edges += [(source, "branch_syn"), ("branch_syn", "branch_pop"),
                  ("branch_pop", "branch_out")]


def _without_layer(spec: Spec, drop: int) -> Spec:
    kept = []
    for index, layer in enumerate(spec.layers):
        if index == drop:
            continue
        skip = layer.skip_from
        skip = None if skip is None or skip == drop or skip >= len(kept) else \
            skip - (skip > drop)
        kept.append(dataclasses.replace(layer, skip_from=skip))
    shift = lambda i: None if i is None or i == drop else i - (i > drop)  # noqa: E731
    recurrent = spec.recurrent
    if recurrent is not None:
        pair = (shift(recurrent[0]), shift(recurrent[1]))
        recurrent = pair if None not in pair else None
    return dataclasses.replace(spec, layers=tuple(kept), recurrent=recurrent,
                               branch=shift(spec.branch))


def _matrix(rng, n_in: int, n_out: int, gain: float, affine: bool) -> n.Node:
    weight = rng.normal(0.0, gain / np.sqrt(n_in), (n_out, n_in))
    if affine:
        return n.Affine(weight=weight, bias=rng.normal(0.0, 0.1, n_out))
    return n.Linear(weight=weight)


def _map(rng, kind: str, size: int) -> n.Node:
    if kind == "Scale":
        return n.Scale(scale=rng.uniform(0.5, 1.5, size))
    return n.Delay(delay=rng.integers(0, 4, size) * DT)


def _neuron(rng, kind: str, shape: tuple, shared: bool) -> n.Node:
    def param(lo, hi, log=False):
        value = (np.exp(rng.uniform(np.log(lo), np.log(hi), 1 if shared else shape))
                 if log else rng.uniform(lo, hi, 1 if shared else shape))
        return np.broadcast_to(value.reshape((1,) * len(shape)) if shared else value,
                               shape).copy()
    common = dict(r=param(0.5, 2.0))
    if kind in ("LIF", "LI"):
        common.update(tau=param(2 * DT, 100 * DT, log=True), v_leak=param(-0.1, 0.1))
    if kind in ("CubaLIF", "CubaLI"):
        common.update(tau_syn=param(DT, 50 * DT, log=True),
                      tau_mem=param(2 * DT, 100 * DT, log=True), v_leak=param(-0.1, 0.1),
                      w_in=param(1.0, 10.0))
    if kind in SPIKING:
        common.update(v_threshold=param(0.05, 4.0, log=True), v_reset=param(-0.2, 0.0))
    return getattr(n, kind)(**common)
