"""Compiled programs: what ``snnc compile`` writes and ``simulate`` / ``report`` read back.

A program is a directory:

    OUT/program.json   {"format": "snnc-program", "version": 1, "target", "source",
                        "options": {dt, integrator, reset, dtype}, "pipeline",
                        "passes": [{"pass", "options", "report", "seconds"}], "snnc": version}
    OUT/graph.nir      the compiled graph as NIR (dequantized floats; snnc's own annotations,
                        such as per-neuron reset policies, in node metadata under "snnc.*")

It is written into a temporary sibling directory and renamed into place, so OUT is either the
complete new program or untouched.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .atomic import current_umask
from .errors import ModelFileError
from .ir import Graph
from .options import SimOptions

FORMAT, VERSION = "snnc-program", 1


@dataclass(frozen=True)
class Program:
    graph: Graph
    target: str
    options: SimOptions
    pipeline: str = ""
    passes: tuple[dict[str, Any], ...] = ()
    source: str = ""


def is_program(path: str | Path) -> bool:
    return (Path(path) / "program.json").is_file()


def write_program(program: Program, out: str | Path,
                  extras: Optional[Callable[[Path], None]] = None) -> None:
    """Write ``program`` to ``out``; ``extras(staging_dir)`` adds the target's artefacts (an
    emitted Lava script, mapping JSON) into the same atomic rename."""
    from snnc.frontends import write_nir

    from . import __version__

    out = Path(out)
    if out.exists() and not is_program(out) and (not out.is_dir() or any(out.iterdir())):
        raise ModelFileError(f"{out}: exists and is not an snnc program; choose another -o")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700
    try:
        write_nir(program.graph, staging / "graph.nir")
        manifest = {"format": FORMAT, "version": VERSION, "snnc": __version__,
                    "target": program.target, "source": program.source,
                    "options": program.options.to_dict(), "pipeline": program.pipeline,
                    "passes": list(program.passes)}
        (staging / "program.json").write_text(json.dumps(manifest, indent=2, default=json_value))
        if extras is not None:
            extras(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_program(path: str | Path) -> Program:
    from snnc.frontends.nir_import import read_nir

    path = Path(path)
    try:
        manifest = json.loads((path / "program.json").read_text())
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path}: unreadable program.json ({error})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ModelFileError(f"{path}: not an snnc program of format version {VERSION} "
                             f"(found {manifest.get('format')} {manifest.get('version')})")
    return Program(graph=read_nir(path / "graph.nir"), target=manifest["target"],
                   options=SimOptions(**manifest["options"]), pipeline=manifest["pipeline"],
                   passes=tuple(manifest["passes"]), source=manifest.get("source", ""))


def pass_entry(record: Any) -> dict[str, Any]:
    """A pass record as plain JSON data."""
    return {"pass": record.applied.name, "options": dataclasses.asdict(record.applied),
            "report": record.report, "seconds": round(record.seconds, 6)}


def json_value(value: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
