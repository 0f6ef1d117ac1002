"""Compiled programs: what ``snnc compile`` writes and ``simulate`` / ``report`` read back.

A program is a directory:

    OUT/program.json   {"format": "snnc-program", "version": 1, "target", "source",
                        "options": {dt, integrator, reset, dtype}, "pipeline",
                        "passes": [{"pass", "options", "report"}], "snnc": version,
                        "deployment": how inputs reach the chip, or null (the chip's own),
                        "files": [the names snnc wrote in OUT]}
    OUT/timings.json   {"passes": [{"pass", "seconds"}]}: apart, so that the same model and
                        options give byte-identical program files on every run
    OUT/graph.nir      the compiled graph as NIR (dequantized floats; snnc's own annotations,
                        such as per-neuron reset policies, in node metadata under "snnc.*")

It is written into a hidden sibling directory and swapped into place, so OUT is either the
complete new program or the old one. The manifest lists the files snnc wrote (``files``); only a
directory that holds nothing else is ever replaced (``check_program_output``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .atomic import staged_directory
from .errors import ModelFileError, OptionError
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
    deployment: Optional[str] = None  # streamed | preloaded | bias; None: the chip's own


def is_program(path: str | Path) -> bool:
    return (Path(path) / "program.json").is_file()


def check_program_output(out: str | Path) -> Path:
    """``out`` as a Path if ``write_program`` may write there: absent, an empty directory, or a
    program snnc wrote whose directory holds only the files its manifest lists. Anything else
    (a file named program.json among the user's own files, the working directory or one of its
    parents, a symlink) is refused: snnc never deletes what it did not write."""
    if str(out) in ("", "."):
        raise OptionError("output directory is empty or '.'; choose another -o")
    out = Path(out)
    if not os.path.lexists(out):
        return out
    if out.is_symlink() or not out.is_dir():
        raise OptionError(f"{out}: exists and is not a directory snnc wrote; choose another -o")
    if Path.cwd().resolve().is_relative_to(out.resolve()):
        raise OptionError(f"{out}: is the working directory or one of its parents; "
                          "choose another -o")
    entries = {entry.name for entry in out.iterdir()}
    if entries and not entries <= _written_files(out):
        raise OptionError(f"{out}: exists and is not an snnc program (or holds files snnc did "
                          "not write); choose another -o")
    return out


def _written_files(out: Path) -> set[str]:
    """The files a program directory's manifest says snnc wrote (empty if it is no program)."""
    try:
        manifest = json.loads((out / "program.json").read_text())
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return set()
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return set()
    return set(files) | {"program.json"}


def write_program(program: Program, out: str | Path,
                  extras: Optional[Callable[[Path], None]] = None,
                  timings: Optional[dict[str, Any]] = None) -> None:
    """Write ``program`` to ``out``; ``extras(staging_dir)`` adds the target's artefacts (an
    emitted Lava script, mapping JSON) into the same atomic replacement."""
    from snnc.frontends import write_nir

    from . import __version__

    out = check_program_output(out)
    with staged_directory(out) as staging:
        write_nir(program.graph, staging / "graph.nir")
        if extras is not None:
            extras(staging)
        if timings is not None:
            (staging / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
        files = sorted(entry.name for entry in staging.iterdir()) + ["program.json"]
        manifest = {"format": FORMAT, "version": VERSION, "snnc": __version__,
                    "target": program.target, "source": program.source,
                    "options": program.options.to_dict(), "pipeline": program.pipeline,
                    "passes": list(program.passes), "deployment": program.deployment,
                    "files": sorted(files)}
        (staging / "program.json").write_text(json.dumps(manifest, indent=2, default=json_value))
        check_program_output(out)  # nothing foreign appeared at OUT while we worked


def read_program(path: str | Path) -> Program:
    """A program directory, checked: plain JSON and a NIR file, nothing that runs code."""
    from snnc.frontends.nir_import import read_nir

    path = Path(path)
    try:
        manifest = json.loads((path / "program.json").read_text())
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path}: unreadable program.json ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or manifest.get("version") != VERSION:
        found = (manifest.get("format"), manifest.get("version")) \
            if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelFileError(f"{path}: not an snnc program of format version {VERSION} "
                             f"(found {found})")
    for key, kind in MANIFEST.items():
        if not isinstance(manifest.get(key), kind):
            raise ModelFileError(f"{path}/program.json: {key}: expected {kind.__name__}, got "
                                 f"{manifest.get(key)!r}")
    try:
        options = SimOptions(**manifest["options"])
    except TypeError as error:
        raise ModelFileError(f"{path}/program.json: options: {error}") from None
    deployment = manifest.get("deployment")  # absent in programs written before it existed
    if deployment is not None and not isinstance(deployment, str):
        raise ModelFileError(f"{path}/program.json: deployment: expected a string or null, "
                             f"got {deployment!r}")
    return Program(graph=read_nir(path / "graph.nir"), target=manifest["target"],
                   options=options, pipeline=manifest["pipeline"],
                   passes=tuple(manifest["passes"]), source=manifest.get("source", ""),
                   deployment=deployment)


# program.json keys that read_program relies on, and their JSON types
MANIFEST = {"target": str, "options": dict, "pipeline": str, "passes": list}


def pass_entry(record: Any) -> dict[str, Any]:
    """A pass record as plain JSON data (its time goes to timings.json)."""
    return {"pass": record.applied.name, "options": dataclasses.asdict(record.applied),
            "report": record.report}


def json_value(value: Any) -> Any:
    """``json.dumps(default=...)`` for numpy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
