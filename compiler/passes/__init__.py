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
}


def load(name: str) -> type[Pass]:
    module, cls = PASSES[name].split(":")
    return getattr(import_module(module), cls)


def parse(spec: str) -> list[Pass]:
    """Pass objects for a pipeline spec such as ``prune{sparsity=0.5,scope=layer}``."""
    return parse_pipeline(spec, PASSES, load)


def compile_spec(graph, spec: str, options, calibration=None):
    """``graph`` after the pipeline ``spec`` (unchanged for an empty spec), with the
    calibration arrays ("spikes", "labels") for data-driven passes: what `simulate` and
    `report` do to a model that is not yet a program."""
    if not spec:
        return graph
    calibration = calibration or {}
    ctx = PassContext(options, calibration.get("spikes"), calibration.get("labels"))
    return run_pipeline(graph, parse(spec), ctx)[0]


__all__ = ["PASSES", "Pass", "PassContext", "PassRecord", "PassResult", "compile_spec", "load",
           "parse", "run_pipeline"]
