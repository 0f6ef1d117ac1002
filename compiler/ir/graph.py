"""The graph: named nodes and directed edges, itself a node so that graphs nest.

Edges that fan into one node are summed. An edge that closes a cycle (a "recurrent" edge)
carries the previous step's output, as nirtorch does: see ``execution_order``.
An edge may address a node inside a nested graph with a dotted name, ``"sub.node"``;
an edge to or from the nested graph itself goes through its Input / Output node.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Iterator, Mapping

import numpy as np

from ..errors import GraphError
from . import nodes as n
from .shapes import Shape, check_shape_memory, output_shape

Edge = tuple[str, str]


@dataclass(frozen=True, kw_only=True, eq=False)
class Graph(n.Node):
    """A graph of nodes. Construction verifies it (see ``verify``)."""

    nodes: Mapping[str, n.Node]
    edges: tuple[Edge, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", dict(self.nodes))
        object.__setattr__(self, "edges", tuple((str(a), str(b)) for a, b in self.edges))
        self.verify()

    def params(self) -> dict:
        return {"nodes": self.nodes, "edges": tuple(sorted(self.edges))}

    # -- structure ------------------------------------------------------------------------

    @property
    def inputs(self) -> list[str]:
        return [name for name, node in self.nodes.items() if isinstance(node, n.Input)]

    @property
    def outputs(self) -> list[str]:
        return [name for name, node in self.nodes.items() if isinstance(node, n.Output)]

    def predecessors(self, name: str) -> list[str]:
        return self._adjacency[0].get(name, [])

    def successors(self, name: str) -> list[str]:
        return self._adjacency[1].get(name, [])

    @cached_property
    def _adjacency(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for src, dst in self.edges:
            incoming.setdefault(dst, []).append(src)
            outgoing.setdefault(src, []).append(dst)
        return incoming, outgoing

    def walk(self, prefix: str = "") -> Iterator[tuple[str, n.Node]]:
        """All (dotted name, node) pairs, nested graphs included."""
        for name, node in self.nodes.items():
            yield prefix + name, node
            if isinstance(node, Graph):
                yield from node.walk(prefix + name + ".")

    # -- verification -----------------------------------------------------------------------

    def verify(self) -> None:
        """Raise ``GraphError`` naming the node or edge unless the graph is well formed."""
        if not self.nodes:
            raise GraphError("graph has no nodes")
        for src, dst in self.edges:
            for end, role in ((src, "source"), (dst, "destination")):
                if not self._has(end):
                    raise GraphError(f"edge ('{src}', '{dst}'): {role} node '{end}' does not exist")
            if isinstance(self.nodes.get(dst), n.Input):
                raise GraphError(f"edge ('{src}', '{dst}'): Input node '{dst}' cannot receive edges")
            if isinstance(self.nodes.get(src), n.Output):
                raise GraphError(f"edge ('{src}', '{dst}'): Output node '{src}' cannot send edges")
        if len(set(self.edges)) != len(self.edges):
            raise GraphError("graph has duplicate edges")
        if not self.inputs:
            raise GraphError("graph has no Input node")
        flat = self if self.is_flat else flatten(self)
        _ = flat.shapes  # shape inference checks every node against its inputs

    def _has(self, name: str) -> bool:
        head, _, rest = name.partition(".")
        if name in self.nodes:
            return True
        node = self.nodes.get(head)
        return isinstance(node, Graph) and bool(rest) and node._has(rest)

    @property
    def is_flat(self) -> bool:
        return not any(isinstance(node, Graph) for node in self.nodes.values())

    # -- derived facts, computed once (the graph is immutable) -----------------------------------

    @cached_property
    def shapes(self) -> dict[str, Shape]:
        """Output shape of every node of a flat graph, inferred from the Input shapes."""
        if not self.is_flat:
            return flatten(self).shapes
        shapes: dict[str, Shape] = {}
        in_shapes: dict[str, Shape] = {}
        for name in self.order:
            node = self.nodes[name]
            if isinstance(node, n.Input):
                shapes[name] = node.shape
                _check_memory(name, node, node.shape)
                continue
            incoming = {shapes[src] for src in self.predecessors(name) if src in shapes}
            if not incoming:
                incoming = self._recurrent_only_shape(name)
            if len(incoming) > 1:
                raise GraphError(f"node '{name}': inputs summed here have different shapes "
                                 f"{sorted(incoming)}")
            in_shapes[name] = incoming.pop()
            try:
                shapes[name] = output_shape(node, in_shapes[name])
            except GraphError as error:
                raise GraphError(f"node '{name}' ({node.type_name}): {error}") from None
            _check_memory(name, node, shapes[name])
        for src, dst in self.recurrent_edges:
            if shapes[src] != in_shapes[dst]:
                raise GraphError(f"recurrent edge ('{src}', '{dst}'): shape {shapes[src]} "
                                 f"does not match {in_shapes[dst]}")
        return shapes

    def _recurrent_only_shape(self, name: str) -> set[Shape]:
        node = self.nodes[name]
        if isinstance(node, n.Neuron):
            return {node.shape}
        raise GraphError(f"node '{name}' ({node.type_name}) is not reachable from any Input")

    @cached_property
    def order(self) -> list[str]:
        """Execution order of a flat graph; see ``execution_order``."""
        return execution_order(self.nodes, self.edges)

    @cached_property
    def recurrent_edges(self) -> frozenset[Edge]:
        """Edges that carry the previous step's value: those that go back in ``order``."""
        position = {name: i for i, name in enumerate(self.order)}
        return frozenset((s, d) for s, d in self.edges if position[s] >= position[d])


def _check_memory(name: str, node: n.Node, shape: Shape) -> None:
    """One step of one batch row of a node's output must fit in memory: a declared shape is
    refused before any simulation allocates (steps, batch, *shape) of it."""
    check_shape_memory(lambda: f"node '{name}' ({node.type_name}): output shape {shape}", shape)


def execution_order(nodes: Mapping[str, n.Node], edges: tuple[Edge, ...]) -> list[str]:
    """Reverse post-order of a depth-first search from the Input nodes.

    Every edge goes forward in this order except DFS back edges, which close cycles; those are
    the recurrent edges (one step of delay). Nodes not reachable from an Input come last.
    """
    successors: dict[str, list[str]] = {name: [] for name in nodes}
    for src, dst in edges:
        successors[src].append(dst)
    visited: set[str] = set()
    finished: list[str] = []
    roots = [name for name, node in nodes.items() if isinstance(node, n.Input)]
    for root in roots + list(nodes):
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(successors[root]))]
        while stack:  # iterative DFS: deep graphs must not hit the recursion limit
            name, children = stack[-1]
            child = next((c for c in children if c not in visited), None)
            if child is None:
                finished.append(name)
                stack.pop()
            else:
                visited.add(child)
                stack.append((child, iter(successors[child])))
    return finished[::-1]


def strongly_connected(nodes: list[str], succ: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components in topological order, each ordered as ``nodes`` (Tarjan's
    algorithm emits them in reverse topological order; iterative, so deep chains do not hit
    the recursion limit; linear in nodes and edges). The engine's and the reference's
    schedulers both cut their work into these blocks."""
    position = {name: i for i, name in enumerate(nodes)}
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    out.append(sorted(comp, key=position.get))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(succ[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out[::-1]


def flatten(graph: Graph) -> Graph:
    """Inline nested graphs: their nodes become "sub.node"; their Input/Output ports vanish."""
    nodes: dict[str, n.Node] = {}
    edges: list[Edge] = []
    entries: dict[str, list[str]] = {}  # nested graph name -> nodes its Input feeds
    exits: dict[str, list[str]] = {}  # nested graph name -> nodes feeding its Output
    for name, node in graph.nodes.items():
        if not isinstance(node, Graph):
            nodes[name] = node
            continue
        inner = flatten(node)
        ports = set(inner.inputs) | set(inner.outputs)
        if len(inner.inputs) != 1 or len(inner.outputs) != 1:
            raise GraphError(f"nested graph '{name}' needs exactly one Input and one Output node")
        nodes.update({f"{name}.{k}": v for k, v in inner.nodes.items() if k not in ports})
        edges.extend((f"{name}.{s}", f"{name}.{d}") for s, d in inner.edges
                     if s not in ports and d not in ports)
        entries[name] = [f"{name}.{d}" for d in inner.successors(inner.inputs[0])]
        exits[name] = [f"{name}.{s}" for s in inner.predecessors(inner.outputs[0])]
    for src, dst in graph.edges:
        edges.extend((s, d) for s in exits.get(src, [src]) for d in entries.get(dst, [dst]))
    return Graph(nodes=nodes, edges=tuple(dict.fromkeys(edges)), metadata=graph.metadata)


def upstream(graph: Graph, name: str) -> list[str]:
    """The node's predecessors, looking through Flatten nodes (index maps in C order, so
    lowered targets and mappers treat them as no node at all)."""
    found = []
    for pred in graph.predecessors(name):
        found += upstream(graph, pred) if isinstance(graph.nodes[pred], n.Flatten) else [pred]
    return found


def downstream(graph: Graph, name: str) -> list[str]:
    """The node's successors, looking through Flatten nodes."""
    found = []
    for succ in graph.successors(name):
        found += downstream(graph, succ) if isinstance(graph.nodes[succ], n.Flatten) else [succ]
    return found


def population_count(graph: Graph) -> int:
    """Number of neurons (elements of every neuron population) in the graph."""
    return sum(math.prod(node.shape) for _, node in graph.walk() if isinstance(node, n.Neuron))


def synapse_count(graph: Graph) -> int:
    """Number of non-zero weights (a convolution counts each kernel weight once per use)."""
    flat = flatten(graph) if not graph.is_flat else graph
    return sum(_synapses(node, flat.shapes[name]) for name, node in flat.nodes.items())


def _synapses(node: n.Node, out_shape: Shape) -> int:
    if isinstance(node, (n.Affine, n.Linear)):
        return int(np.count_nonzero(node.weight))
    if isinstance(node, n._Conv):
        per_output = np.count_nonzero(node.weight) // node.weight.shape[0]
        return int(per_output * np.prod(out_shape))
    return 0


__all__ = ["Graph", "Edge", "execution_order", "flatten", "population_count", "synapse_count"]
