"""Passes that make a graph fit a chip. ``PASSES`` maps each pass name to its class, loaded
lazily; ``parse(spec)`` turns a pipeline spec into pass objects."""
from __future__ import annotations

from importlib import import_module

from .manager import Pass, PassContext, PassRecord, PassResult, parse_pipeline, run_pipeline

# name -> "module:class"
PASSES = {
    "normalize": "snnc.passes.normalize:Normalize",
    "map-delays": "snnc.passes.delays:MapDelays",
    "prune": "snnc.passes.prune:Prune",
    "prune-inactive": "snnc.passes.prune:PruneInactive",
}


def available() -> dict[str, type[Pass]]:
    loaded = {}
    for name, target in PASSES.items():
        module, cls = target.split(":")
        loaded[name] = getattr(import_module(module), cls)
    return loaded


def parse(spec: str) -> list[Pass]:
    """Pass objects for a pipeline spec such as ``prune{sparsity=0.5,scope=layer}``."""
    return parse_pipeline(spec, available())


__all__ = ["PASSES", "Pass", "PassContext", "PassRecord", "PassResult", "available", "parse",
           "run_pipeline"]
