"""Backends: the target registry. Each target and each chip family is one package here,
named in these tables and imported only when used, so ``snnc --help`` stays fast and optional
dependencies load only with the target that needs them.

A target or family from elsewhere (a plugin, a test) joins with ``register``.
"""
from __future__ import annotations

from importlib import import_module

from snnc.errors import OptionError
from snnc.target import Family, Format, Target

# target name -> "module:attribute" of its ``snnc.target.Target``
TARGETS = {
    "reference": "snnc.backends.reference:TARGET",
    "loihi2": "snnc.backends.loihi.targets:LOIHI2",
    "loihi1": "snnc.backends.loihi.targets:LOIHI1",
    "spinnaker1": "snnc.backends.spinnaker.targets:SPINNAKER1",
    "sfq": "snnc.backends.sfq.targets:SFQ",
    "sfq_rsfq": "snnc.backends.sfq.targets:SFQ_RSFQ",
    "sfq_ersfq": "snnc.backends.sfq.targets:SFQ_ERSFQ",
    "rram": "snnc.backends.rram.targets:RRAM",
    "rram_40nm": "snnc.backends.rram.targets:RRAM_40NM",
    "rram_neurosim": "snnc.backends.rram.targets:RRAM_NEUROSIM",
    "rram_crosssim": "snnc.backends.rram.targets:RRAM_CROSSSIM",
}
# chip kind (``[chip] kind`` of a chip TOML) -> "module:attribute" of its ``snnc.target.Family``
FAMILIES = {
    "float": "snnc.backends.reference:FAMILY",
    "loihi": "snnc.backends.loihi.family:FAMILY",
    "spinnaker": "snnc.backends.spinnaker:FAMILY",
    "rram": "snnc.backends.rram:FAMILY",
    "sfq": "snnc.backends.sfq:FAMILY",
}
# added at run time by ``register``
_TARGETS: dict[str, Target] = {}
_FAMILIES: dict[str, Family] = {}


def register(item: Target | Family) -> None:
    """Add a target (and its family) or a family defined outside this package."""
    if isinstance(item, Target):
        _TARGETS[item.name] = item
        item = item.family
    _FAMILIES[item.kind] = item


def target_names() -> list[str]:
    return [*TARGETS, *(name for name in _TARGETS if name not in TARGETS)]


def family_kinds() -> list[str]:
    return [*FAMILIES, *(kind for kind in _FAMILIES if kind not in FAMILIES)]


def get_target(name: str) -> Target:
    if name in _TARGETS:
        return _TARGETS[name]
    if name not in TARGETS:
        raise OptionError(f"unknown target '{name}' (available: {', '.join(target_names())})")
    return _load(TARGETS[name])


def get_family(kind: str) -> Family:
    """The family of chips of this kind."""
    if kind in _FAMILIES:
        return _FAMILIES[kind]
    if kind not in FAMILIES:
        raise OptionError(f"no backend knows chips of kind '{kind}' (known: "
                          f"{', '.join(family_kinds())})")
    return _load(FAMILIES[kind])


def formats() -> dict[str, Format]:
    """Every family's number formats by name (imports every family)."""
    return {f.name: f for kind in family_kinds() for f in get_family(kind).formats}


def recording_types() -> tuple[type, type]:
    """(Recording, Counters): what every target's ``simulate`` returns and counts, for the
    compiler to rebuild saved running totals without reaching into the engine."""
    from snnc.backends.engine.recording import Counters, Recording

    return Recording, Counters


def _load(where: str):
    module, attribute = where.split(":")
    return getattr(import_module(module), attribute)
