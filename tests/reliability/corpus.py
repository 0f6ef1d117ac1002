"""A corpus of bad model files, written on demand into a directory.

Each case builds one ``.nir`` file with one thing wrong and names a fragment that snnc's error
message must contain (the node, the field or the problem). Files are built from a small valid
model written here as plain HDF5 (``write_tree``), or from the bundled paper files with one
edit (``copy_hdf5``), so the corpus needs no data of its own.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np

from tests.conftest import DATA, copy_hdf5

STEPS = 20
INPUT_SIZE, HIDDEN = 2, 3


def write_tree(path: Path, tree: dict[str, Any]) -> Path:
    """Write a nested dict as HDF5: a dict is a group, h5py link objects are links, anything
    else a dataset. Lets a test write what nir's own writer never would."""
    with h5py.File(path, "w") as file:
        _write_group(file, tree)
    return path


def _write_group(group: h5py.Group, tree: dict[str, Any]) -> None:
    for key, value in tree.items():
        if isinstance(value, dict):
            _write_group(group.create_group(key), value)
        else:
            group[key] = value


def edges_array(edges: list[tuple[str, str]]) -> np.ndarray:
    return np.array([[a.encode(), b.encode()] for a, b in edges], dtype=object)


def valid_tree() -> dict[str, Any]:
    """input (2) -> fc Affine (3x2) -> lif LIF (3) -> output: valid, as nir writes it."""
    ones, zeros = np.ones(HIDDEN), np.zeros(HIDDEN)
    nodes = {
        "input": {"type": b"Input", "shape": np.array([INPUT_SIZE])},
        "fc": {"type": b"Affine", "weight": np.full((HIDDEN, INPUT_SIZE), 0.6),
               "bias": np.zeros(HIDDEN)},
        "lif": {"type": b"LIF", "tau": np.full(HIDDEN, 1e-3), "r": ones, "v_leak": zeros,
                "v_threshold": ones, "v_reset": zeros},
        "output": {"type": b"Output", "shape": np.array([HIDDEN])},
    }
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    return {"version": b"0.2.0",
            "node": {"type": b"NIRGraph", "nodes": nodes, "edges": edges_array(edges),
                     "metadata": {}}}


def valid_input(path: Path) -> Path:
    """Spikes that fit ``valid_tree``: (steps, batch 1, 2)."""
    rng = np.random.default_rng(0)
    np.savez(path, spikes=(rng.random((STEPS, 1, INPUT_SIZE)) < 0.5).astype(np.float32))
    return path


# -- edits of the valid tree ---------------------------------------------------------------------


def edited(edit: Callable[[dict], Any]) -> Callable[[Path], Path]:
    """A case: the valid tree with ``edit(tree["node"])`` applied."""
    def build(path: Path) -> Path:
        tree = copy.deepcopy(valid_tree())
        edit(tree["node"])
        return write_tree(path, tree)
    return build


def set_field(node: str, field: str, value: Any) -> Callable[[Path], Path]:
    def edit(graph: dict) -> None:
        graph["nodes"][node][field] = value
    return edited(edit)


def set_edges(edges: Any) -> Callable[[Path], Path]:
    def edit(graph: dict) -> None:
        graph["edges"] = edges
    return edited(edit)


def only_input(graph: dict) -> None:
    graph["nodes"] = {"input": graph["nodes"]["input"]}
    graph["edges"] = np.zeros((0, 2), dtype="S1")


def no_output(graph: dict) -> None:
    del graph["nodes"]["output"]
    graph["edges"] = edges_array([("input", "fc"), ("fc", "lif")])


def broadcast_population(size: int) -> Callable[[dict], None]:
    """Input and Output declare ``size`` neurons; the LIF's parameters are scalars that the
    importer broadcasts to that size."""
    def edit(graph: dict) -> None:
        lif = graph["nodes"]["lif"]
        for key in ("tau", "r", "v_leak", "v_threshold", "v_reset"):
            lif[key] = lif[key][:1]
        graph["nodes"] = {"input": {"type": b"Input", "shape": np.array([size])}, "lif": lif,
                          "output": {"type": b"Output", "shape": np.array([size])}}
        graph["edges"] = edges_array([("input", "lif"), ("lif", "output")])
    return edit


def nested(depth: int) -> Callable[[Path], Path]:
    """``depth`` graphs inside each other, each wrapping the next as its node 'g'."""
    def build(path: Path) -> Path:
        with h5py.File(path, "w") as file:
            group = file.create_group("node")
            for _ in range(depth):
                _port_graph(group, inner=True)
                group = group.create_group("nodes/g")
            _port_graph(group, inner=False)
        return path
    return build


def _port_graph(group: h5py.Group, inner: bool) -> None:
    group["type"] = b"NIRGraph"
    for port in ("input", "output"):
        group[f"nodes/{port}/type"] = port.capitalize().encode()
        group[f"nodes/{port}/shape"] = np.array([1])
    path = [("input", "g"), ("g", "output")] if inner else [("input", "output")]
    group["edges"] = edges_array(path)


# -- HDF5 tricks: links, lazy datasets, files that are not HDF5 ------------------------------------


def with_file(edit: Callable[[h5py.File, Path], Any]) -> Callable[[Path], Path]:
    """The valid tree written, then ``edit(file, path)`` applied to the open file."""
    def build(path: Path) -> Path:
        write_tree(path, valid_tree())
        with h5py.File(path, "r+") as file:
            edit(file, path)
        return path
    return build


def replace(file: h5py.File, name: str, value: Any) -> None:
    """Set ``name`` to ``value`` (a dataset, a link), whether or not it exists."""
    if name in file or file.get(name, getlink=True) is not None:
        del file[name]
    file[name] = value


def declared(name: str, shape: tuple[int, ...], fill: bool = False) -> Callable[[Path], Path]:
    """Dataset ``name`` declared with ``shape``, chunked and gzip compressed: the file stays
    small whatever the shape. ``fill`` writes zeros (a compression bomb: a small file that
    expands to the declared size); otherwise no chunk is written."""
    def edit(file: h5py.File, path: Path) -> None:
        del file[name]
        chunks = tuple(min(d, 1024) for d in shape)
        dataset = file.create_dataset(name, shape=shape, dtype="f8", chunks=chunks,
                                      compression="gzip", compression_opts=9)
        if fill:  # row blocks: h5py broadcasting one scalar over a large selection is slow
            block = np.zeros((chunks[0], *shape[1:]))
            for start in range(0, shape[0], chunks[0]):
                dataset[start:start + chunks[0]] = block[: shape[0] - start]
    return with_file(edit)


def external_link(file: h5py.File, path: Path) -> None:
    other = write_tree(path.with_name(path.stem + ".other.h5"), valid_tree())
    replace(file, "node/nodes/lif", h5py.ExternalLink(other.name, "/node/nodes/lif"))


def external_storage(file: h5py.File, path: Path) -> None:
    raw = path.with_name(path.stem + ".raw")
    np.full(HIDDEN, 1e-3).tofile(raw)
    del file["node/nodes/lif/tau"]
    file.create_dataset("node/nodes/lif/tau", shape=(HIDDEN,), dtype="f8",
                        external=[(raw.name, 0, HIDDEN * 8)])


def virtual_dataset(file: h5py.File, path: Path) -> None:
    other = write_tree(path.with_name(path.stem + ".other.h5"), valid_tree())
    layout = h5py.VirtualLayout(shape=(HIDDEN,), dtype="f8")
    layout[:] = h5py.VirtualSource(other.name, "node/nodes/lif/tau", shape=(HIDDEN,))
    del file["node/nodes/lif/tau"]
    file.create_virtual_dataset("node/nodes/lif/tau", layout)


def named_datatype(file: h5py.File, path: Path) -> None:
    del file["node/nodes/fc"]
    file["node/nodes/fc"] = np.dtype("f8")  # a committed datatype, neither group nor dataset


def raw_bytes(data: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return build


def truncated(source: Path) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        whole = source.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
        return path
    return build


def paper(name: str, edit: Callable[[h5py.File], Any]) -> Callable[[Path], Path]:
    """A bundled paper file with ``edit(file)`` applied to a copy."""
    return lambda path: copy_hdf5(DATA / f"{name}.nir", path, edit)


def garbage_after_signature(path: Path) -> Path:
    rng = np.random.default_rng(1)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + rng.bytes(4096))
    return path


def subnormal() -> np.ndarray:
    return np.full(HIDDEN, np.finfo(np.float64).tiny / 4)


# name -> (build(path) -> path, a fragment the error message must contain)
BAD_MODELS: dict[str, tuple[Callable[[Path], Path], str]] = {
    # files that are not NIR
    "empty file": (raw_bytes(b""), "not a NIR file"),
    "text": (raw_bytes(b"hello, I am not HDF5\n"), "not a NIR file"),
    "garbage after HDF5 signature": (garbage_after_signature, "HDF5"),
    "truncated HDF5": (truncated(DATA / "braille_noDelay_bias_zero.nir"), "HDF5"),
    "non-NIR HDF5": (lambda p: write_tree(p, {"x": np.arange(3)}), "no 'node' group"),
    "node is a dataset": (lambda p: write_tree(p, {"node": np.arange(3)}), "'node'"),
    "top level not a graph": (edited(lambda g: g.__setitem__("type", b"LIF")), "NIRGraph"),
    # structure
    "node stored as a dataset": (edited(lambda g: g["nodes"].__setitem__("lif", np.ones(3))),
                                 "node 'lif'"),
    "node without type": (edited(lambda g: g["nodes"]["lif"].pop("type")), "node 'lif'"),
    "numeric type": (set_field("lif", "type", np.int64(3)), "node 'lif'"),
    "unknown node type": (set_field("lif", "type", b"Izhikevich"), "unknown node type"),
    "empty graph": (edited(lambda g: (g.__setitem__("nodes", {}),
                                      g.__setitem__("edges", np.zeros((0, 2), "S1")))), "no nodes"),
    "only an Input": (edited(only_input), "no Output"),
    "no Output": (edited(no_output), "no Output"),
    "no edges": (edited(lambda g: g.pop("edges")), "not reachable"),
    "edges with 3 columns": (set_edges(np.array([[b"input", b"fc", b"lif"]] * 2, dtype=object)),
                             "edges"),
    "edges of odd length": (set_edges(np.array([b"input", b"fc", b"lif"], dtype=object)), "edges"),
    "numeric edges": (set_edges(np.arange(6).reshape(3, 2)), "edges"),
    "edges as a group": (set_edges({"a": b"input"}), "edges"),
    "dangling edge": (set_edges(edges_array([("input", "fc"), ("fc", "ghost"), ("fc", "lif"),
                                             ("lif", "output")])), "ghost"),
    "edge into Input": (set_edges(edges_array([("input", "fc"), ("fc", "lif"), ("lif", "input"),
                                               ("lif", "output")])), "Input node 'input'"),
    "metadata is a dataset": (edited(lambda g: g.__setitem__("metadata", np.ones(2))),
                              "metadata"),
    "dt is a string": (edited(lambda g: g["metadata"].__setitem__("dt", b"fast")), "dt"),
    "dt is zero": (edited(lambda g: g["metadata"].__setitem__("dt", 0.0)), "dt"),
    "dt is negative": (edited(lambda g: g["metadata"].__setitem__("dt", -1e-3)), "dt"),
    "dt is NaN": (edited(lambda g: g["metadata"].__setitem__("dt", np.nan)), "dt"),
    "dt is an array": (edited(lambda g: g["metadata"].__setitem__("dt", np.ones(3))), "dt"),
    # values
    "tau zero": (set_field("lif", "tau", np.zeros(HIDDEN)), "tau"),
    "tau negative": (set_field("lif", "tau", np.full(HIDDEN, -1e-3)), "tau"),
    "tau subnormal": (set_field("lif", "tau", subnormal()), "tau"),
    "tau NaN": (set_field("lif", "tau", np.full(HIDDEN, np.nan)), "tau"),
    "tau infinite": (set_field("lif", "tau", np.full(HIDDEN, np.inf)), "tau"),
    "tau a string": (set_field("lif", "tau", b"slow"), "tau"),
    "v_threshold infinite": (set_field("lif", "v_threshold", np.full(HIDDEN, -np.inf)),
                             "v_threshold"),
    "weight NaN": (set_field("fc", "weight", np.full((HIDDEN, INPUT_SIZE), np.nan)), "weight"),
    "weight beyond float32": (set_field("fc", "weight", np.full((HIDDEN, INPUT_SIZE), 1e300)),
                              "weight"),
    "complex weight": (set_field("fc", "weight", np.full((HIDDEN, INPUT_SIZE), 1 + 1j)),
                       "weight"),
    "boolean weight": (set_field("fc", "weight", np.ones((HIDDEN, INPUT_SIZE), bool)), "weight"),
    "compound weight": (set_field("fc", "weight", np.zeros(
        (HIDDEN, INPUT_SIZE), dtype=[("a", "f8"), ("b", "i4")])), "weight"),
    "empty dataspace": (set_field("fc", "bias", h5py.Empty("f8")), "bias"),
    "missing parameter": (edited(lambda g: g["nodes"]["lif"].pop("r")), "'r'"),
    "tau_mem zero": (paper("braille_noDelay_bias_zero", lambda f: f["node/nodes/lif1.lif/tau_mem"]
                           .__setitem__(0, 0.0)), "tau_mem"),
    "tau_syn zero": (paper("braille_noDelay_bias_zero", lambda f: f["node/nodes/lif2/tau_syn"]
                           .__setitem__(slice(None), 0.0)), "tau_syn"),
    "tau_syn subnormal in a nested graph": (paper(
        "braille_noDelay_bias_zero_subgraph",
        lambda f: f["node/nodes/lif1/nodes/lif1/tau_syn"].__setitem__(0, 5e-324)), "tau_syn"),
    "delay negative": (edited(lambda g: (g["nodes"].__setitem__(
        "delay", {"type": b"Delay", "delay": np.full(INPUT_SIZE, -1.0)}),
        g.__setitem__("edges", edges_array([("input", "delay"), ("delay", "fc"), ("fc", "lif"),
                                            ("lif", "output")])))), "delay"),
    # shapes
    "bias does not match weight": (set_field("fc", "bias", np.zeros(HIDDEN + 1)), "bias"),
    "weight does not fit the input": (set_field("fc", "weight", np.ones((HIDDEN, 5))), "fc"),
    "weight with 3 dims": (set_field("fc", "weight", np.ones((HIDDEN, INPUT_SIZE, 1))), "weight"),
    "population does not fit": (set_field("lif", "tau", np.full(HIDDEN + 2, 1e-3)), "lif"),
    "Output shape wrong": (set_field("output", "shape", np.array([7])), "output"),
    "Input shape zero": (set_field("input", "shape", np.array([0])), "shape"),
    "Input shape negative": (set_field("input", "shape", np.array([-2])), "shape"),
    "Input shape fractional": (set_field("input", "shape", np.array([1.5])), "shape"),
    "conv stride zero": (paper("cnn_sinabs", lambda f: f["node/nodes/0/stride"]
                               .__setitem__(slice(None), 0)), "stride"),
    "conv dilation negative": (paper("cnn_sinabs", lambda f: f["node/nodes/2/dilation"]
                                     .__setitem__(slice(None), -3)), "dilation"),
    "pool kernel zero": (paper("cnn_sinabs", lambda f: f["node/nodes/4/kernel_size"]
                               .__setitem__(slice(None), 0)), "kernel_size"),
    "conv groups zero": (paper("cnn_sinabs", lambda f: replace(f, "node/nodes/0/groups", 0)),
                         "groups"),
    "conv padding word": (paper("cnn_sinabs", lambda f: replace(f, "node/nodes/0/padding",
                                                                b"lots")), "padding"),
    "conv padding 1e300": (paper("cnn_sinabs", lambda f: replace(f, "node/nodes/0/padding",
                                                                 np.array([1e300, 1e300]))),
                           "padding"),
    "flatten dims out of range": (paper("cnn_sinabs", lambda f: replace(
        f, "node/nodes/8/end_dim", 7)), "end_dim"),
    # absurd sizes, declared before any data is read
    "1e6 x 1e6 Affine": (declared("node/nodes/fc/weight", (10**6, 10**6)), "'fc'"),
    "1e9-neuron LIF": (declared("node/nodes/lif/tau", (10**9,)), "'lif'"),
    "compression bomb": (declared("node/nodes/fc/weight", (2048, 2048), fill=True), "'fc'"),
    "1e8 broadcast parameter": (edited(broadcast_population(10**8)), "lif"),
    "1e12-neuron Input": (set_field("input", "shape", np.array([10**6, 10**6])), "input"),
    # links and nesting
    "soft link cycle": (with_file(lambda f, p: replace(f, "node/nodes/loop",
                                                       h5py.SoftLink("/node"))), "link"),
    "dangling soft link": (with_file(lambda f, p: replace(f, "node/nodes/lif",
                                                          h5py.SoftLink("/nowhere"))), "link"),
    "hard link cycle": (with_file(lambda f, p: f["node/nodes"].__setitem__("loop", f["node"])),
                        "loop"),
    "hard link shared": (with_file(lambda f, p: f["node/nodes"].__setitem__(
        "lif2", f["node/nodes/lif"])), "lif"),
    "external link": (with_file(external_link), "external"),
    "external raw storage": (with_file(external_storage), "tau"),
    "virtual dataset": (with_file(virtual_dataset), "tau"),
    "named datatype as a node": (with_file(named_datatype), "fc"),
    "nested 100 deep": (nested(100), "nested"),
    "nested 1200 deep": (nested(1200), "nested"),
}


def build_corpus(directory: Path) -> dict[str, Path]:
    """Every bad model of ``BAD_MODELS`` written into ``directory``: name -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    return {name: build(directory / f"{slug(name)}.nir")
            for name, (build, _) in BAD_MODELS.items()}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)
