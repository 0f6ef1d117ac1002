"""Backends: one package per target, looked up by name and imported lazily."""
from __future__ import annotations

from importlib import import_module
from typing import Any

from snnc.errors import OptionError

# target name -> module providing DESCRIPTION, SUPPORTED and simulate()
TARGETS = {
    "reference": "snnc.backends.reference",
    "loihi2": "snnc.backends.loihi.target",
    "loihi1": "snnc.backends.loihi.target_loihi1",
}


def get_target(name: str) -> Any:
    """The target's module, which provides ``run``, ``SUPPORTED`` and ``DESCRIPTION``."""
    if name not in TARGETS:
        raise OptionError(f"unknown target '{name}' (available: {', '.join(sorted(TARGETS))})")
    return import_module(TARGETS[name])
