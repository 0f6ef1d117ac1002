"""Passes that make a graph fit a chip. ``PASSES`` maps each pass name to its class, loaded
lazily; ``parse(spec)`` turns a pipeline spec into pass objects."""
from __future__ import annotations

from importlib import import_module

from .manager import Pass, PassContext, PassRecord, PassResult, parse_pipeline, run_pipeline

# name -> "module:class"
PASSES = {
    "normalize": "snnc.passes.normalize:Normalize",
    "lower": "snnc.passes.lower:Lower",
    "map-delays": "snnc.passes.delays:MapDelays",
    "prune": "snnc.passes.prune:Prune",
    "prune-inactive": "snnc.passes.prune:PruneInactive",
    "quantize": "snnc.passes.quantize:Quantize",
    "check": "snnc.passes.check:Check",
    "reset-approx": "snnc.passes.reset:ApproximateReset",
    "split-populations": "snnc.passes.split:SplitPopulations",
}


def load(name: str) -> type[Pass]:
    module, cls = PASSES[name].split(":")
    return getattr(import_module(module), cls)


def parse(spec: str) -> list[Pass]:
    """Pass objects for a pipeline spec such as ``prune{sparsity=0.5,scope=layer}``."""
    return parse_pipeline(spec, PASSES, load)


__all__ = ["PASSES", "Pass", "PassContext", "PassRecord", "PassResult", "load",
           "parse", "run_pipeline"]
