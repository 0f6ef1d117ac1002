"""Read a NIR file's HDF5 tree into plain dicts, refusing what a model file must not do.

A NIR file is groups (nodes, graphs, metadata) of small datasets (parameters). Anything else is
refused before it is followed or read, with the node and field it sits at:

- links other than plain hard links: soft links (they can form cycles or dangle) and external
  links, external raw-data files and virtual datasets (a model file must never make snnc read
  another file);
- an object reached twice (a hard-link cycle, or a subtree shared to blow up the work);
- groups nested deeper than ``MAX_GROUP_DEPTH``;
- datatypes that are neither numbers nor strings (compound, opaque, references, committed
  types);
- datasets whose declared size, alone or together, exceeds the memory limit: checked from the
  declared shape before reading, so a compression bomb is refused unread.
"""
from __future__ import annotations

import math
from typing import Any

from snnc.errors import ModelFileError
from snnc.ir.shapes import check_memory

from .nir_checks import MAX_NESTING

# Each nested graph adds two groups (``nodes/<name>``); a node's metadata may add two more.
MAX_GROUP_DEPTH = 2 * MAX_NESTING + 4
OBJECT_BYTES = 64  # what a variable-length string costs in memory once read, about
NO_OTHER_FILES = "snnc reads no file that refers to other files"
READABLE_KINDS = "biufc"  # numbers; complex ones pass so that the node can name the field


def read_model_tree(file: Any) -> dict[str, Any]:
    """The ``/node`` group of an open ``h5py.File`` as nested dicts of numpy values."""
    import h5py

    if file.get("node", getlink=True) is None:
        raise ModelFileError("HDF5 file without a NIR graph (no 'node' group)")
    reader = _Reader()
    _check_link(file, "node", "/node")
    node = _open(file, "node", "/node")
    if not isinstance(node, h5py.Group):
        raise ModelFileError("'node' is not a group: not a NIR file")
    return reader.group(node, "/node", depth=0)


def check_data_file(file: Any) -> None:
    """Walk a whole HDF5 file (a NIR data file given as simulation input) without reading it:
    the same refusals of links, nesting and declared sizes as for model files, so that a
    reader that follows links (``nir.read_data``) is only given files without them."""
    _Reader(read=False).group(file["/"], "", depth=0)


def describe(path: str) -> str:
    """An HDF5 path as the node and field it holds: '/node/nodes/a/nodes/b/tau' ->
    "node 'a.b', field 'tau'". Paths outside '/node' are named as they are."""
    parts = path.strip("/").split("/")
    if parts[0] != "node":
        return f"HDF5 object '{path or '/'}'"
    parts, names = parts[1:], []
    while len(parts) >= 2 and parts[0] == "nodes":
        names.append(parts[1])
        parts = parts[2:]
    if len(names) > 6:  # deep nesting: the path's ends say enough
        names = [*names[:3], f"...({len(names) - 5} more)...", *names[-2:]]
    where = f"node '{'.'.join(names)}'" if names else "the graph"
    return f"{where}, field '{'/'.join(parts)}'" if parts else where


class _Reader:
    """One walk over the tree: remembers what it visited and the bytes it will read."""

    def __init__(self, read: bool = True) -> None:
        self.read = read  # False: check links and declared sizes only
        self.visited: set[int] = set()
        self.total_bytes = 0

    def group(self, group: Any, path: str, depth: int) -> dict[str, Any]:
        import h5py

        if depth > MAX_GROUP_DEPTH:
            raise ModelFileError(f"{describe(path)}: groups nested deeper than "
                                 f"{MAX_GROUP_DEPTH} levels")
        self._visit(group, path)
        out: dict[str, Any] = {}
        for key in group.keys():
            child = f"{path}/{key}"
            _check_link(group, key, child)
            item = _open(group, key, child)
            if isinstance(item, h5py.Group):
                out[key] = self.group(item, child, depth + 1)
            elif isinstance(item, h5py.Dataset):
                out[key] = self.dataset(item, child)
            else:
                raise ModelFileError(f"{describe(child)}: a committed HDF5 datatype, neither "
                                     f"a group nor a dataset")
        return out

    def dataset(self, dataset: Any, path: str) -> Any:
        import h5py

        self._visit(dataset, path)
        where = describe(path)
        layout = dataset.id.get_create_plist()
        if layout.get_layout() == h5py.h5d.VIRTUAL or layout.get_external_count():
            raise ModelFileError(f"{where}: its data is stored in another file (a virtual "
                                 f"dataset or external raw data); {NO_OTHER_FILES}")
        shape, dtype = dataset.shape, dataset.id.dtype
        if shape is None:
            raise ModelFileError(f"{where}: holds no data (an empty HDF5 dataspace)")
        nbytes = math.prod(shape) * (_item_bytes(dtype, where) if self.read else dtype.itemsize)
        check_memory(f"{where}: dataset of shape {shape} ({dtype})", nbytes)
        self.total_bytes += nbytes
        check_memory("the file's datasets together", self.total_bytes)
        if not self.read:
            return None
        try:
            return dataset[()]
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            raise ModelFileError(f"{where}: cannot be read ({_one_line(error)})") from None

    def _visit(self, item: Any, path: str) -> None:
        import h5py

        # the object's address in the file, not its ObjectID: keeping every ObjectID alive
        # makes closing a file of many small datasets slow
        address = h5py.h5o.get_info(item.id).addr
        if address in self.visited:  # the same object under a second name
            raise ModelFileError(f"{describe(path)}: this HDF5 object is linked twice in the "
                                 f"file (a link cycle or a shared subtree)")
        self.visited.add(address)


def _check_link(group: Any, key: str, path: str) -> None:
    """Only hard links pass: the link is inspected, never followed."""
    import h5py

    if group.id.links.get_info(key.encode()).type == h5py.h5l.TYPE_HARD:
        return
    link = group.get(key, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        raise ModelFileError(f"{describe(path)}: an external link to '{link.filename}'; "
                             f"{NO_OTHER_FILES}")
    target = f" to '{link.path}'" if isinstance(link, h5py.SoftLink) else ""
    kind = "soft link" if isinstance(link, h5py.SoftLink) else "user-defined link"
    raise ModelFileError(f"{describe(path)}: a {kind}{target}; NIR files hold "
                         f"no links")


def _open(group: Any, key: str, path: str) -> Any:
    try:
        return group[key]
    except (KeyError, OSError, RuntimeError, ValueError) as error:  # damaged object headers
        raise ModelFileError(f"{describe(path)}: cannot be opened ({_one_line(error)})") from None


def _item_bytes(dtype: Any, where: str) -> int:
    import h5py

    if dtype.kind in READABLE_KINDS or dtype.kind == "S":
        return dtype.itemsize
    if h5py.check_string_dtype(dtype) is not None:
        return OBJECT_BYTES
    raise ModelFileError(f"{where}: HDF5 datatype {dtype} is neither numbers nor text")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
