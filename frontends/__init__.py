"""Frontends: bring models into the IR.

``load_model(spec)`` picks a frontend by the model's form. The registry maps a file suffix to a
loader imported lazily, so optional dependencies load only when that format is used.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from snnc.errors import ModelFileError
from snnc.ir import Graph

# suffix -> "module:function" returning a Graph from a path
LOADERS = {
    ".nir": "snnc.frontends.nir_import:read_nir",
}


def load_model(spec: str | Path) -> Graph:
    """Load a model file into a verified graph."""
    path = Path(spec)
    target = LOADERS.get(path.suffix.lower())
    if target is None:
        raise ModelFileError(f"{path}: unknown model format '{path.suffix}' "
                             f"(supported: {', '.join(sorted(LOADERS))})")
    module, function = target.split(":")
    return getattr(import_module(module), function)(path)


def write_nir(graph: Graph, path: str | Path) -> None:
    """Export a graph to a ``.nir`` file (see ``nir_export``)."""
    from .nir_export import write_nir as write

    write(graph, path)


__all__ = ["LOADERS", "load_model", "write_nir"]
