"""NIR -> IR: read ``.nir`` files (nir 1.0.x HDF5) and in-memory ``nir.NIRGraph`` objects.

Both go through one plain-dict form (``{"type": ..., field: value}``), so the HDF5 reader needs
neither nir's dataclasses nor its checks, which reject files in circulation. Repairs of what
real exporters write, each recorded in ``graph.metadata["repairs"]``:

- torch tensors and 0-d / size-1 neuron parameters (Norse 1.1.0's ``to_nir``): become numpy
  arrays broadcast to the population shape the graph feeds the node;
- a missing ``v_reset`` (files before 2025) or ``w_in``: zeros / ones, as nir's reader does;
- an Output whose declared shape has the right size but another layout (``lif_rockpool.nir``);
- a nested graph whose edges name one node that does not exist while exactly one node has no
  edges (``*_subgraph.nir`` from snnTorch): the edges meant that node. Otherwise the dangling
  edge is an error that names it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from snnc.errors import GraphError, ModelFileError
from snnc.ir import NODE_TYPES, Graph, Input, Neuron, Node, Output, execution_order, output_shape

DEFAULTS = {"v_reset": 0.0, "w_in": 1.0}  # what nir's own reader fills in when absent


def read_nir(path: str | Path) -> Graph:
    """Load a ``.nir`` file into a verified graph. Errors name the file."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise ModelFileError(f"{path}: not a NIR file (NIR files are HDF5)")
    with h5py.File(path, "r") as file:
        if "node" not in file:
            raise ModelFileError(f"{path}: HDF5 file without a NIR graph (no 'node' group)")
        raw = _hdf5_to_dict(file["node"])
    if _decode(raw.get("type")) != "NIRGraph":
        raise ModelFileError(f"{path}: the top-level NIR node is not a NIRGraph")
    try:
        return graph_from_dict(raw)
    except GraphError as error:
        raise GraphError(f"{path}: {error}") from None


def from_nir(graph: Any) -> Graph:
    """Convert an in-memory ``nir.NIRGraph`` (torch tensors allowed) into a verified graph."""
    return graph_from_dict(_nir_to_dict(graph))


# -- plain-dict form --------------------------------------------------------------------------


def _hdf5_to_dict(group: Any) -> dict[str, Any]:
    import h5py

    out: dict[str, Any] = {}
    for key, item in group.items():
        out[key] = _hdf5_to_dict(item) if isinstance(item, h5py.Group) else item[()]
    return out


def _nir_to_dict(node: Any) -> dict[str, Any]:
    kind = type(node).__name__
    if kind == "NIRGraph":
        return {"type": kind, "edges": list(node.edges), "metadata": dict(node.metadata),
                "nodes": {name: _nir_to_dict(child) for name, child in node.nodes.items()}}
    raw = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
    raw["type"] = kind
    if kind in ("Input", "Output"):
        types = raw["input_type"] if kind == "Input" else raw["output_type"]
        raw["shape"] = next(iter(types.values()))
    return raw


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO" and value.ndim == 0:
        return _decode(value.item())
    return value


# -- dict -> IR --------------------------------------------------------------------------------


def graph_from_dict(raw: dict[str, Any]) -> Graph:
    """Build a verified graph from the plain-dict form, repairing known exporter quirks."""
    repairs: list[str] = []
    nodes_raw = {str(k): v for k, v in raw.get("nodes", {}).items()}
    edges = [(str(_decode(a)), str(_decode(b))) for a, b in np.asarray(raw.get("edges", []))
             .reshape(-1, 2)]
    edges = _repair_dangling_edges(nodes_raw, edges, repairs)
    nodes = {name: _node_from_dict(name, r) for name, r in nodes_raw.items()}
    nodes = _fit_to_inputs(nodes, edges, repairs)
    repairs += [f"{name}: {note}" for name, r in nodes_raw.items() for note in _defaults_used(r)]
    metadata = {k: _decode(v) for k, v in dict(raw.get("metadata", {})).items()}
    if repairs:
        metadata["repairs"] = tuple(repairs)
    return Graph(nodes=nodes, edges=tuple(dict.fromkeys(edges)), metadata=metadata)


def _node_from_dict(name: str, raw: dict[str, Any]) -> Node:
    kind = _decode(raw.get("type"))
    if kind == "NIRGraph":
        try:
            return graph_from_dict(raw)
        except GraphError as error:
            raise GraphError(f"in nested graph '{name}': {error}") from None
    cls = NODE_TYPES.get(kind)
    if cls is None:
        raise GraphError(f"node '{name}': unknown node type '{kind}' "
                         f"(known: {', '.join(sorted(NODE_TYPES))}, NIRGraph)")
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name in raw and field.name != "metadata":
            kwargs[field.name] = _decode(raw[field.name])
        elif field.name in DEFAULTS or field.name == "bias":
            kwargs[field.name] = _default(field.name, raw)
    kwargs["metadata"] = {k: _decode(v) for k, v in dict(raw.get("metadata", {})).items()}
    metadata = kwargs["metadata"]
    kwargs["hw"] = {k[len("snnc.hw."):]: metadata.pop(k) for k in list(metadata)
                    if k.startswith("snnc.hw.")}
    for key in [k for k in metadata if k.startswith("snnc.")]:  # see nir_export
        kwargs[key[len("snnc."):]] = metadata.pop(key)
    try:
        return cls(**kwargs)
    except TypeError as error:  # a required field is missing
        missing = str(error).split("argument")[-1].strip(": ")
        raise GraphError(f"node '{name}' ({kind}): missing parameter {missing}") from None
    except GraphError as error:
        raise GraphError(f"node '{name}' ({kind}): {error}") from None


def _default(field: str, raw: dict[str, Any]) -> Any:
    if field == "bias":  # Affine / Conv without bias: zeros of the output size
        weight = raw.get("weight")
        return np.zeros(np.shape(weight)[:1]) if weight is not None else None
    return DEFAULTS[field]


def _defaults_used(raw: dict[str, Any]) -> list[str]:
    cls = NODE_TYPES.get(_decode(raw.get("type")))
    names = {f.name for f in dataclasses.fields(cls)} if cls else set()
    return [f"missing {field} set to {DEFAULTS[field]:g}" for field in DEFAULTS
            if field in names and field not in raw]


def _repair_dangling_edges(nodes: dict[str, Any], edges: list[tuple[str, str]],
                           repairs: list[str]) -> list[tuple[str, str]]:
    def exists(name: str) -> bool:
        head, _, rest = name.partition(".")
        return name in nodes or (bool(rest) and _decode(nodes.get(head, {}).get("type")) == "NIRGraph")

    dangling = sorted({end for edge in edges for end in edge if not exists(end)})
    if not dangling:
        return edges
    used = {end for edge in edges for end in edge}
    unused = [name for name in nodes if name not in used]
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
    shapes: dict[str, tuple[int, ...]] = {}
    for name in execution_order(nodes, tuple(edges)):
        node = nodes[name]
        incoming = [shapes[s] for s, d in edges if d == name and s in shapes]
        if isinstance(node, Graph):
            shapes[name] = nodes[name].shapes[node.outputs[0]] if node.outputs else ()
            continue
        if isinstance(node, Input) or not incoming:
            shapes[name] = getattr(node, "shape", None)
            continue
        fitted = _fit(node, incoming[0])
        if fitted is not node:
            repairs.append(f"{name}: shape {node.shape} fitted to its input {incoming[0]}")
            nodes[name] = fitted
        try:
            shapes[name] = output_shape(fitted, incoming[0])
        except GraphError:
            break  # the graph's own verification reports it, with the node's name
    return nodes


def _fit(node: Node, shape: tuple[int, ...]) -> Node:
    if isinstance(node, Neuron) and node.shape != shape:
        try:
            fits = np.broadcast_shapes(node.shape, shape) == shape
        except ValueError:
            fits = False
        if fits:
            return dataclasses.replace(node, **{
                k: np.broadcast_to(getattr(node, k), shape) for k in node.arrays})
    if isinstance(node, Output) and node.shape != shape and np.prod(node.shape) == np.prod(shape):
        return dataclasses.replace(node, shape=shape)
    return node
