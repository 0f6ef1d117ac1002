"""Fuzz the NIR reader: valid files with their HDF5 contents mutated (values replaced by edge
cases in the same shape, or by arrays of any dtype, shape and value; objects deleted, renamed,
turned into groups or datasets; type names and edges rewritten; links added) are either read or
refused with an ``SnncError``, never another exception. Bounded and derandomized, so CI runs
the same 200 examples every time (about 3 s)."""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snnc.errors import SnncError
from snnc.frontends.nir_import import read_nir
from snnc.ir import NODE_TYPES, Graph
from tests.conftest import DATA, copy_hdf5
from tests.reliability.corpus import valid_tree, write_tree

SOURCES = ["lif_norse", "two_lif_neurons", "cnn_sinabs", "braille_noDelay_bias_zero",
           "braille_noDelay_noBias_subtract_subgraph", "valid"]
EXAMPLES = 200
EDGE_VALUES = [0.0, -0.0, -1.0, 1e-3, 5e-324, 1e-40, np.nan, np.inf, -np.inf, 1e300, 2.0**31]
NAMES = ["input", "output", "0", "1", "lif", "fc", "lif1", "nodes", "type", "ghost", "a.b"]


VALID: dict[str, Path] = {}  # the corpus's valid model, written once per session


@pytest.fixture(scope="module", autouse=True)
def valid_source(tmp_path_factory):
    VALID["valid"] = write_tree(tmp_path_factory.mktemp("fuzz") / "valid.nir", valid_tree())


def source(name: str) -> Path:
    return VALID[name] if name == "valid" else DATA / f"{name}.nir"


@lru_cache(maxsize=None)
def objects(name: str) -> tuple[str, ...]:
    """Every group and dataset path of a source file, in a fixed order."""
    found: list[str] = []
    with h5py.File(source(name)) as file:
        file.visit(found.append)
    return tuple(sorted(found))


dtypes = st.sampled_from(["f8", "f4", "i8", "i1", "u1", "?", "c16", "S4"])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def arrays(draw) -> np.ndarray:
    dtype = np.dtype(draw(dtypes))
    shape = draw(shapes)
    if dtype.kind in "fc":
        with np.errstate(over="ignore"):  # 1e300 as float32 is inf: one more edge value
            array = np.full(shape, draw(st.sampled_from(EDGE_VALUES)), dtype=dtype)
            if array.size and draw(st.booleans()):
                array.flat[draw(st.integers(0, array.size - 1))] = draw(st.floats())
        return array
    return draw(hnp.arrays(dtype, shape))


texts = st.sampled_from([*NODE_TYPES, "NIRGraph", "Izhikevich", "", "same", "zero"])
values = st.one_of(arrays(), texts.map(str.encode), st.integers(-2**40, 2**40),
                   st.lists(st.sampled_from(NAMES), min_size=1, max_size=6)
                   .map(lambda names: np.array([n.encode() for n in names], dtype=object)))


@st.composite
def mutations(draw, name: str) -> list[tuple]:
    paths = objects(name)
    kinds = st.sampled_from(["values", "values", "values", "set", "set", "delete", "group", "add",
                             "move", "edges", "link", "shape"])
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(kinds)
        value = draw(st.lists(st.sampled_from([*EDGE_VALUES, 0.5, 3.0, -2.0]), min_size=1,
                              max_size=4) if kind == "values" else values)
        out.append((kind, draw(st.sampled_from(paths)), value, draw(st.sampled_from(NAMES))))
    return out


def apply(file: h5py.File, kind: str, path: str, value, name: str) -> None:
    if path not in file:  # moved or deleted by an earlier mutation
        return
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if kind == "values":  # same shape, new values: the parameters' semantics, not their form
        old = file[path]
        if isinstance(old, h5py.Dataset) and old.dtype.kind in "biuf":
            with np.errstate(over="ignore", invalid="ignore"):
                new = np.resize(np.array(value), old.shape).astype(
                    old.dtype if old.dtype.kind == "f" else "f8")
            del file[path]
            file[path] = new
        return
    if kind in ("set", "group", "edges", "shape"):
        del file[path]
    if kind == "set":
        file[path] = value
    elif kind == "group":
        file.create_group(path)
    elif kind == "add":
        target = file[path] if isinstance(file[path], h5py.Group) else file[parent or "/"]
        if name not in target:
            target[name] = value
    elif kind == "move" and f"{parent}/{name}" not in file:
        file.move(path, f"{parent}/{name}")
    elif kind == "edges":
        file[path] = np.array([[a.encode(), b.encode()] for a, b in zip(NAMES, NAMES[::-1])],
                              dtype=object)
    elif kind == "link" and f"{parent}/{name}" not in file:
        file[f"{parent}/{name}"] = h5py.SoftLink("/" + path)
    elif kind == "shape":
        file[path] = np.array([10**9, 3])


@pytest.fixture(autouse=True)
def memory_limit(monkeypatch):
    monkeypatch.setenv("SNNC_MAX_MEMORY", "64M")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_nir_files_are_read_or_refused(data):
    name = data.draw(st.sampled_from(SOURCES))
    edits = data.draw(mutations(name))
    with tempfile.TemporaryDirectory() as tmp:
        path = copy_hdf5(source(name), Path(tmp) / "m.nir",
                         lambda file: [apply(file, *edit) for edit in edits])
        try:
            graph = read_nir(path)
        except SnncError as error:
            message = str(error)
            assert message.startswith(str(path)) and "\n" not in message, message
        else:
            assert isinstance(graph, Graph)
