"""The [sfq] section of a chip file: single-flux-quantum cells, their delays and junctions. Its own module so that the SFQ family's
facts grow without touching the shared schema (``schema.py`` lists it in ``SECTIONS``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema_fields import q


@dataclass(frozen=True)
class Sfq:
    """Single-flux-quantum circuit parameters: cell delays and Josephson-junction counts."""

    rate_coded: Optional[bool] = q(None, bool)
    """Values are pulse rates, not single spikes."""
    critical_current: Optional[float] = q("A")
    """Junction critical current I_c; a switching costs about I_c * flux quantum."""
    jtl_delay: Optional[float] = q("s")
    jtl_jjs: Optional[int] = q("JJs", int)
    splitter_delay: Optional[float] = q("s")
    splitter_jjs: Optional[int] = q("JJs", int)
    merger_delay: Optional[float] = q("s")
    merger_jjs: Optional[int] = q("JJs", int)
    dro_delay: Optional[float] = q("s")
    dro_jjs: Optional[int] = q("JJs", int)
    dro_window: Optional[float] = q("s")
    """Input transition window of the clocked DRO: a second pulse inside it is a violation."""
