"""The two kinds of chip-file field: a sourced quantity and a plain text."""
from __future__ import annotations

from dataclasses import field
from typing import Optional


def q(unit: Optional[str], kind: type = float, choices: tuple[str, ...] = ()):
    """A sourced-quantity field in canonical ``unit`` (None for flags and named choices)."""
    return field(default=None, metadata={"unit": unit, "type": kind, "choices": choices})


def text():
    """A plain text field (a description): not a hardware fact, so it carries no source."""
    return field(default="", metadata={"plain": True})
