"""Frontends: bring models into the IR.

``load_model(spec)`` picks a frontend by the model's form: a ``.nir`` file, an ``.onnx`` file
(an ANN converted to a rate-coded SNN), or ``file.py:factory`` naming a function that returns a
Norse or snnTorch module and a sample input. Frontends are imported lazily, so optional
dependencies (torch, onnx) load only when that form is used.
"""
from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from snnc.errors import ModelFileError
from snnc.ir import Graph

# suffix -> "module:function" taking (path, calibration) and returning a Graph
LOADERS = {
    ".nir": "snnc.frontends.nir_import:read_nir",
    ".onnx": "snnc.frontends.onnx:read_onnx",
    ".py": "snnc.frontends.factory:load_factory",
}


def load_model(spec: str | Path, calibration: Any = None) -> Graph:
    """Load a model into a verified graph. ``calibration`` (inputs) is used by ONNX conversion."""
    path = Path(str(spec).rsplit(":", 1)[0] if str(spec).count(":") == 1 else spec)
    target = LOADERS.get(path.suffix.lower())
    if target is None:
        raise ModelFileError(f"{spec}: unknown model format '{path.suffix}' (supported: "
                             f"{', '.join(sorted(LOADERS))}, with .py as file.py:factory)")
    module, function = target.split(":")
    loader = getattr(import_module(module), function)
    if path.suffix.lower() == ".nir":
        return loader(path)
    return loader(str(spec), calibration)


def write_nir(graph: Graph, path: str | Path) -> None:
    """Export a graph to a ``.nir`` file (see ``nir_export``)."""
    from .nir_export import write_nir as write

    write(graph, path)


__all__ = ["LOADERS", "load_model", "write_nir"]
