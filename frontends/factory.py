"""``file.py:factory`` models: a Python function returning (torch module, sample input), or
(module, sample, options) with a dict of the frontend's keyword options (e.g. snnTorch's
``{"max_pool": "after_neurons"}``).

The module's neuron layers decide the frontend: snnTorch if any layer comes from ``snntorch``,
Norse if any comes from ``norse``.
"""
from __future__ import annotations

import importlib.util
import inspect
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
    if not (isinstance(made, (tuple, list)) and len(made) in (2, 3) and hasattr(made[0], "modules")
            and (len(made) == 2 or isinstance(made[2], dict))):
        got = (f"a {len(made)}-tuple" if isinstance(made, (tuple, list))
               else type(made).__name__)
        raise ModelFileError(f"{spec}: the factory must return (torch module, sample input), "
                             f"got {got} (or (module, sample, dict of frontend options))")
    module, sample, options = (*made, {}) if len(made) == 2 else made
    framework = framework_of(module)
    if framework is None:
        raise ModelFileError(f"{spec}: the module has no Norse or snnTorch layer "
                             f"(supported frameworks: {', '.join(FRONTENDS)})")
    module_name, name = FRONTENDS[framework].split(":")
    convert = getattr(importlib.import_module(module_name), name)
    valid = [p for p in inspect.signature(convert).parameters][2:]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ModelFileError(f"{spec}: unknown {framework} frontend option(s) {unknown} "
                             f"(valid: {', '.join(valid)})")
    try:
        return convert(module, sample, **options)
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
