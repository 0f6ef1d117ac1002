"""Chip descriptions and cost models, as data (TOML) with a source for every number.

The float reference target needs no chip; hardware targets add their descriptions here.
``load_chip("loihi1")`` reads a bundled description, ``load_chip("my_chip.toml")`` any file that
follows the schema in ``schema.py``. No chip limit or energy figure is written in code.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from .loader import parse_chip
from .schema import EVIDENCE, Chip, ChipModelError, Sourced

# Bundled chip files (every .toml here), by the name users and targets refer to them: the stem.
CHIPS = {entry.name[:-len(".toml")]: entry.name for entry in resources.files(__name__).iterdir()
         if entry.name.endswith(".toml")}

__all__ = ["CHIPS", "EVIDENCE", "Chip", "ChipModelError", "Sourced", "list_chips", "load_chip"]


def list_chips() -> list[str]:
    """Names of the bundled chip descriptions."""
    return sorted(CHIPS)


def load_chip(name_or_path: str | Path) -> Chip:
    """A bundled chip by name, or a chip TOML file by path."""
    key = str(name_or_path)
    if key in CHIPS:
        return _bundled(key)
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ChipModelError(f"{path}: cannot read chip file: {e.strerror}") from None
        return parse_chip(text, str(path))
    raise ChipModelError(f"unknown chip '{key}' (known: {', '.join(list_chips())}; "
                         "or give a path to a .toml chip file)")


@lru_cache(maxsize=None)
def _bundled(name: str) -> Chip:
    # importlib.resources, so this works from a wheel as well as from the source tree.
    text = resources.files(__name__).joinpath(CHIPS[name]).read_text(encoding="utf-8")
    return parse_chip(text, CHIPS[name])
