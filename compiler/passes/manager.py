"""The pass manager: passes as frozen dataclasses, a text pipeline spec, and the runner.

A pass declares ``name`` and its options as dataclass fields; ``run(graph, ctx)`` returns a new
graph and a small report and never touches its input. The spec
``normalize,prune{sparsity=0.5,scope=layer}`` becomes pass objects, each option converted to
its field's type. Every graph is verified on construction, so the runner hands each pass a
verified graph; it also times passes and can print the graph between them.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Collection

import numpy as np

from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.options import SimOptions


@dataclass(frozen=True)
class PassContext:
    """What passes may consult: simulation options; for data-driven passes, calibration input
    spikes (steps, batch, *input_shape) with optional labels (batch,); the target's chip
    model (``snnc.hw_models`` Chip), which chip-specific passes use unless given their own; and
    the target being compiled for (``snnc.target.Target``), if any."""

    options: SimOptions = field(default_factory=SimOptions)
    calibration: np.ndarray | None = None
    labels: np.ndarray | None = None
    chip: Any = None
    target: Any = None


def chip_for(name: str, ctx: PassContext) -> Any:
    """The chip model a pass option names (a bundled name or a TOML path), else the target's
    (``ctx.chip``), else None."""
    if not name:
        return ctx.chip
    from snnc.hw_models import load_chip

    return load_chip(name)


@dataclass(frozen=True)
class PassResult:
    graph: Graph
    report: dict[str, Any]


@dataclass(frozen=True)
class Pass:
    """Base of all passes: subclasses are frozen dataclasses whose fields are their options."""

    name: ClassVar[str] = ""

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        raise NotImplementedError(f"pass '{self.name}' does not implement run()")


@dataclass(frozen=True)
class PassRecord:
    """One pass as it ran: the pass, its report, and its wall time."""

    applied: Pass
    report: dict[str, Any]
    seconds: float


def parse_pipeline(spec: str, names: Collection[str],
                   load: Callable[[str], type[Pass]]) -> list[Pass]:
    """``"a,b{x=1,y=two}"`` -> [A(), B(x=1, y="two")]; errors list what is valid.
    ``load(name)`` imports a pass class only when the spec uses it."""
    passes = []
    for item in _split_top_level(spec):
        name, _, rest = item.partition("{")
        name = name.strip()
        if name not in names:
            raise OptionError(f"unknown pass '{name}' (available: {', '.join(sorted(names))})")
        if rest and not rest.endswith("}"):
            raise OptionError(f"pass '{name}': options must be written {{key=value,...}}")
        passes.append(_instantiate(load(name), _parse_options(name, rest[:-1])))
    return passes


def _split_top_level(spec: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in spec:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def _parse_options(name: str, text: str) -> dict[str, str]:
    options = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, equals, value = pair.partition("=")
        if not equals:
            raise OptionError(f"pass '{name}': option '{pair}' must be key=value")
        options[key.strip()] = value.strip()
    return options


def _instantiate(cls: type[Pass], options: dict[str, str]) -> Pass:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in options:
        if key not in fields:
            valid = ", ".join(fields) or "none"
            raise OptionError(f"pass '{cls.name}': unknown option '{key}' (valid: {valid})")
    values = {}
    for key, text in options.items():
        kind = type(fields[key].default)
        try:
            values[key] = _convert(text, kind)
        except ValueError:
            raise OptionError(f"pass '{cls.name}': option {key}={text} is not a {kind.__name__}") \
                from None
    try:
        return cls(**values)
    except (ValueError, TypeError) as error:
        raise OptionError(f"pass '{cls.name}': {error}") from None


def _convert(text: str, kind: type) -> Any:
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text.lower() in ("true", "1")
    return kind(text)


def run_pipeline(graph: Graph, passes: list[Pass], ctx: PassContext,
                 after_each: Callable[[Pass, Graph, PassRecord], None] | None = None
                 ) -> tuple[Graph, list[PassRecord]]:
    """Run the passes in order; ``after_each`` sees each pass's output (for printing)."""
    records = []
    for applied in passes:
        start = time.perf_counter()
        result = applied.run(graph, ctx)
        record = PassRecord(applied, result.report, time.perf_counter() - start)
        graph = result.graph
        records.append(record)
        if after_each:
            after_each(applied, graph, record)
    return graph, records
