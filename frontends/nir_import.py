"""NIR -> IR: read ``.nir`` files (nir 1.0.x HDF5) and in-memory ``nir.NIRGraph`` objects.

Both go through one plain-dict form (``{"type": ..., field: value}``), so the HDF5 reader needs
neither nir's dataclasses nor its checks, which reject files in circulation. Repairs of what
real exporters write, each recorded in ``graph.metadata["repairs"]``:

- torch tensors and 0-d / size-1 neuron parameters (Norse 1.1.0's ``to_nir``): become numpy
  arrays broadcast to the population shape the graph feeds the node;
- a missing ``v_reset`` (files before 2025) or ``w_in``: zeros / ones, as nir's reader does;
- an Output whose declared shape has the right size but another layout (``lif_rockpool.nir``);
- a leading batch dimension of 1 (``norse.torch.to_nir`` and nirtorch-based exporters given a
  sample shaped (1, N), as their docs show): dropped from an Input whose successors accept the
  shape without it, and from neuron parameters shaped (1, *population);
- a nested graph whose edges name one node that does not exist while exactly one node has no
  edges (``*_subgraph.nir`` from snnTorch): the edges meant that node. Otherwise the dangling
  edge is an error that names it.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from snnc.errors import GraphError, MemoryLimitError, ModelFileError
from snnc.ir import NODE_TYPES, Graph, Input, Neuron, Node, Output, execution_order, output_shape
from snnc.ir.shapes import check_shape_memory

from .nir_checks import (MAX_NESTING, decode, edge_list, graph_metadata, graph_nodes, is_graph,
                         node_fields, node_type, require_output)

DEFAULTS = {"v_reset": 0.0, "w_in": 1.0}  # what nir's own reader fills in when absent
NAMED_ERRORS = (GraphError, MemoryLimitError, ModelFileError)  # messages that gain the file


def read_nir(path: str | Path) -> Graph:
    """Load a ``.nir`` file into a verified graph. Errors name the file, node and field."""
    path = Path(path)
    try:
        raw = _read_tree(path)
        if not is_graph(raw):
            raise ModelFileError("the top-level NIR node is not a NIRGraph")
        return graph_from_dict(raw)
    except NAMED_ERRORS as error:
        raise type(error)(f"{path}: {error}") from None


def _read_tree(path: Path) -> dict[str, Any]:
    import h5py

    from .hdf5_tree import read_model_tree

    if not path.is_file():
        raise ModelFileError("no such file")
    if not h5py.is_hdf5(path):
        raise ModelFileError("not a NIR file (NIR files are HDF5)")
    try:
        with h5py.File(path, "r") as file:
            return read_model_tree(file)
    except (OSError, RuntimeError) as error:  # h5py on truncated or damaged files
        message = " ".join(str(error).split())
        raise ModelFileError(f"damaged or truncated HDF5 file ({message})") from None


def from_nir(graph: Any) -> Graph:
    """Convert an in-memory ``nir.NIRGraph`` (torch tensors allowed) into a verified graph."""
    return graph_from_dict(_nir_to_dict(graph))


# -- plain-dict form --------------------------------------------------------------------------


def _nir_to_dict(node: Any) -> dict[str, Any]:
    kind = type(node).__name__
    if kind == "NIRGraph":
        return {"type": kind, "edges": list(node.edges), "metadata": dict(node.metadata),
                "nodes": {name: _nir_to_dict(child) for name, child in node.nodes.items()}}
    raw = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
    raw["type"] = kind
    if kind in ("Input", "Output"):
        types = raw["input_type"] if kind == "Input" else raw["output_type"]
        if types:
            raw["shape"] = next(iter(types.values()))
    return raw


# -- dict -> IR --------------------------------------------------------------------------------


def graph_from_dict(raw: dict[str, Any], within: tuple[str, ...] = ()) -> Graph:
    """Build a verified graph from the plain-dict form, repairing known exporter quirks.
    ``within`` names the graphs this one is nested in; errors name nodes by dotted path."""
    label = f"in nested graph '{'.'.join(within)}': " if within else ""
    if len(within) > MAX_NESTING:
        raise GraphError(f"{label}graphs nested deeper than {MAX_NESTING} levels")
    repairs: list[str] = []
    try:
        nodes_raw = graph_nodes(raw)
        kinds = {name: node_type(".".join((*within, name)), r) for name, r in nodes_raw.items()}
        require_output(kinds)
        edges = _repair_dangling_edges(kinds, edge_list(raw.get("edges")), repairs)
        metadata = graph_metadata(raw)
    except GraphError as error:
        raise GraphError(f"{label}{error}") from None
    nodes = {name: _node_from_dict(name, r, within) for name, r in nodes_raw.items()}
    try:
        nodes = _fit_to_inputs(nodes, edges, repairs)
        repairs += [f"{name}: {note}" for name, r in nodes_raw.items()
                    for note in _defaults_used(kinds[name], r)]
        if repairs:
            metadata["repairs"] = tuple(repairs)
        return Graph(nodes=nodes, edges=tuple(dict.fromkeys(edges)), metadata=metadata)
    except (GraphError, MemoryLimitError) as error:
        raise type(error)(f"{label}{error}") from None


def _node_from_dict(name: str, raw: dict[str, Any], within: tuple[str, ...]) -> Node:
    full = ".".join((*within, name))
    kind = decode(raw["type"])
    if kind == "NIRGraph":
        return graph_from_dict(raw, (*within, name))
    cls = NODE_TYPES.get(kind)
    if cls is None:
        raise GraphError(f"node '{full}': unknown node type '{kind}' "
                         f"(known: {', '.join(sorted(NODE_TYPES))}, NIRGraph)")
    node_fields(full, kind, raw, {f.name for f in dataclasses.fields(cls)} - {"metadata", "hw"})
    try:
        return cls(**_node_kwargs(cls, raw))
    except TypeError as error:  # a required field is missing, or a value of no usable type
        if "required keyword-only argument" not in str(error):
            raise GraphError(f"node '{full}' ({kind}): a parameter of the wrong kind "
                             f"({error})") from None
        missing = str(error).split("argument")[-1].strip(": ")
        raise GraphError(f"node '{full}' ({kind}): missing parameter {missing}") from None
    except (GraphError, MemoryLimitError) as error:
        raise type(error)(f"node '{full}' ({kind}): {error}") from None


def _node_kwargs(cls: type[Node], raw: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments: the node's fields, defaults, metadata and snnc's own fields."""
    names = {f.name for f in dataclasses.fields(cls)} - {"metadata", "hw"}
    kwargs = {}
    for field in names:
        if field in raw:
            kwargs[field] = decode(raw[field])
        elif field in DEFAULTS or field == "bias":
            kwargs[field] = _default(field, raw)
    metadata = {k: decode(v) for k, v in raw.get("metadata", {}).items()}
    kwargs["hw"] = {k[len("snnc.hw."):]: metadata.pop(k) for k in list(metadata)
                    if k.startswith("snnc.hw.")}
    for field in names:  # fields NIR lacks, kept in metadata by nir_export
        if f"snnc.{field}" in metadata:
            kwargs[field] = metadata.pop(f"snnc.{field}")
    kwargs["metadata"] = metadata
    return kwargs


def _default(field: str, raw: dict[str, Any]) -> Any:
    if field == "bias":  # Affine / Conv without bias: zeros of the output size
        weight = raw.get("weight")
        return np.zeros(np.shape(weight)[:1]) if weight is not None else None
    return DEFAULTS[field]


def _defaults_used(kind: str, raw: dict[str, Any]) -> list[str]:
    cls = NODE_TYPES.get(kind)
    names = {f.name for f in dataclasses.fields(cls)} if cls else set()
    return [f"missing {field} set to {DEFAULTS[field]:g}" for field in DEFAULTS
            if field in names and field not in raw]


def _repair_dangling_edges(kinds: dict[str, str], edges: list[tuple[str, str]],
                           repairs: list[str]) -> list[tuple[str, str]]:
    def exists(name: str) -> bool:
        head, _, rest = name.partition(".")
        return name in kinds or (bool(rest) and kinds.get(head) == "NIRGraph")

    dangling = sorted({end for edge in edges for end in edge if not exists(end)})
    if not dangling:
        return edges
    used = {end for edge in edges for end in edge}
    unused = [name for name in kinds if name not in used]
    if len(dangling) == 1 and len(unused) == 1:
        missing, actual = dangling[0], unused[0]
        repairs.append(f"edges name '{missing}', which does not exist; "
                       f"connected the only unconnected node '{actual}' instead")
        return [tuple(actual if end == missing else end for end in edge) for edge in edges]
    edge = next(e for e in edges if dangling[0] in e)
    raise GraphError(f"edge {edge} references node '{dangling[0]}', which does not exist")


def _fit_to_inputs(nodes: dict[str, Node], edges: list[tuple[str, str]],
                   repairs: list[str]) -> dict[str, Node]:
    """Broadcast scalar neuron parameters and fix Output layouts to the shapes fed to them."""
    nodes = dict(nodes)
    sources = defaultdict(list)  # destination -> sources, so that this pass stays linear
    for src, dst in edges:
        sources[dst].append(src)
    shapes: dict[str, tuple[int, ...]] = {}
    for name in execution_order(nodes, tuple(edges)):
        node = nodes[name]
        incoming = [shapes[s] for s in sources[name] if s in shapes]
        if isinstance(node, Graph):
            shapes[name] = nodes[name].shapes[node.outputs[0]] if node.outputs else ()
            continue
        if isinstance(node, Input):
            node = nodes[name] = _unbatched_input(name, node, nodes, edges, repairs)
        if isinstance(node, Input) or not incoming:
            shapes[name] = getattr(node, "shape", None)
            continue
        fitted = _fit(name, node, incoming[0])
        if fitted is not node:
            repairs.append(f"{name}: shape {node.shape} fitted to its input {incoming[0]}")
            nodes[name] = fitted
        try:
            shapes[name] = output_shape(fitted, incoming[0])
        except GraphError:
            break  # the graph's own verification reports it, with the node's name
    return nodes


def _unbatched_input(name: str, node: Input, nodes: dict[str, Node],
                     edges: list[tuple[str, str]], repairs: list[str]) -> Input:
    """An Input typed (1, *shape) whose successors all take ``shape`` and not (1, *shape)."""
    shape = node.shape
    following = [nodes[dst] for src, dst in edges if src == name and dst in nodes]
    if len(shape) < 2 or shape[0] != 1 or not following:
        return node
    if all(_accepts(f, shape[1:]) and not _accepts(f, shape) for f in following):
        repairs.append(f"{name}: batch dimension dropped from its type {shape} -> {shape[1:]}")
        return dataclasses.replace(node, shape=shape[1:])
    return node


def _accepts(node: Node, shape: tuple[int, ...]) -> bool:
    if isinstance(node, (Neuron, Output, Graph)):
        return not isinstance(node, Neuron) or _broadcasts(node.shape, shape)
    try:
        output_shape(node, shape)
        return True
    except GraphError:
        return False


def _broadcasts(params: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(params, shape) == shape
    except ValueError:
        return False


def _drop_batch(name: str, node: Neuron, shape: tuple[int, ...]) -> Neuron:
    """Neuron parameters shaped (1, *shape) (an exporter's batch dim): drop the leading 1."""
    if len(node.shape) == len(shape) + 1 and node.shape[0] == 1 and node.shape[1:] == shape:
        return dataclasses.replace(node, **{k: getattr(node, k)[0] for k in node.arrays})
    return node


def _fit(name: str, node: Node, shape: tuple[int, ...]) -> Node:
    if isinstance(node, Neuron):
        node = _drop_batch(name, node, shape)
    if isinstance(node, Neuron) and node.shape != shape:
        try:
            fits = np.broadcast_shapes(node.shape, shape) == shape
        except ValueError:
            fits = False
        if fits:
            check_shape_memory(f"node '{name}' ({node.type_name}): parameters broadcast to its "
                               f"input shape {shape}", shape, len(node.arrays))
            return dataclasses.replace(node, **{
                k: np.broadcast_to(getattr(node, k), shape) for k in node.arrays})
    if isinstance(node, Output) and node.shape != shape and np.prod(node.shape) == np.prod(shape):
        return dataclasses.replace(node, shape=shape)
    return node
