"""``file.py:factory`` models: a Python function returning (torch module, sample input).

The module's neuron layers decide the frontend: snnTorch if any layer comes from ``snntorch``,
Norse if any comes from ``norse``.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from snnc.errors import ModelFileError
from snnc.ir import Graph

FRONTENDS = {"snntorch": "snnc.frontends.snntorch:from_snntorch",
             "norse": "snnc.frontends.norse:from_norse"}


def load_factory(spec: str, calibration: Any = None) -> Graph:
    """Call the factory named by ``spec`` ("path/file.py:function") and convert its module."""
    file, _, function = spec.rpartition(":")
    path = Path(file)
    if not file or not function:
        raise ModelFileError(f"{spec}: write a Python model as file.py:factory")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    factory = getattr(_import(path), function, None)
    if not callable(factory):
        raise ModelFileError(f"{path}: no function '{function}'")
    try:
        made = factory()
    except (Exception, SystemExit) as error:  # the user's code (sys.exit included)
        raise ModelFileError(f"{spec}: the factory failed: {type(error).__name__}: {error}") from None
    if not (isinstance(made, (tuple, list)) and len(made) == 2 and hasattr(made[0], "modules")):
        got = (f"a {len(made)}-tuple" if isinstance(made, (tuple, list))
               else type(made).__name__)
        raise ModelFileError(f"{spec}: the factory must return (torch module, sample input), "
                             f"got {got}")
    module, sample = made
    framework = framework_of(module)
    if framework is None:
        raise ModelFileError(f"{spec}: the module has no Norse or snnTorch layer "
                             f"(supported frameworks: {', '.join(FRONTENDS)})")
    module_name, name = FRONTENDS[framework].split(":")
    convert = getattr(importlib.import_module(module_name), name)
    try:
        return convert(module, sample)
    except ModelFileError as error:
        raise ModelFileError(f"{spec}: {error}") from None


def framework_of(module: Any) -> str | None:
    roots = {type(m).__module__.split(".")[0] for m in module.modules()}
    return next((name for name in FRONTENDS if name in roots), None)


def _import(path: Path) -> Any:
    """Import a user's file; its folder is importable while it loads (for its own helpers)."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(f"snnc_model_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except (Exception, SystemExit) as error:  # the user's code
        raise ModelFileError(f"{path}: cannot import: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(folder)
