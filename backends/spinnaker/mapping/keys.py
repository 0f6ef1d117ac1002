"""keys: a routing key and mask per sending core, as PACMAN 1!7.4.1's
``ZonedRoutingInfoAllocator`` in its flexible mode (the spinnaker.cfg default
``info_allocator = ZonedRoutingInfoAllocator``, run as ``flexible_allocate``) gives them.

Every application vertex that sends (a population or source with outgoing projections, a
DelayExtension) gets an index A, in partition order (``get_app_partitions``: sources in the
order of their first projection, then the DelayExtensions; the order of ``senders``); each
of its slices an index M (by first atom). Its X atom bits hold its largest slice's keys,
``allocator_bits_needed(atoms x 2**arm.colour_bits)`` (sPyNNaker gives each step one of
2**colour_bits colours), times the stages for a DelayExtension, whose packets carry the
stage; with Z = the most M + X bits of any application vertex, its M field takes the Z - X
bits left. A slice's key is ((A << (Z - X)) | M) << X and its mask 0xFFFFFFFF with X bits
clear: a spike of the slice's i-th atom in colour c is key | i << colour_bits | c. The
application vertex's own key is A << Z, its mask clearing Z bits; A takes the 32 - Z high bits.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from snnc.errors import ResourceExceededError

from .vertices import Partition

FULL = 0xFFFFFFFF


def allocator_bits(size: int) -> int:
    """PACMAN ``allocator_bits_needed``: 0 for 0 or 1 value."""
    return 0 if size <= 1 else int(math.ceil(math.log2(size)))


@dataclass(frozen=True)
class Key:
    core: int  # the vertex
    app: int  # application index A
    index: int  # machine index M
    key: int
    mask: int
    n_keys: int  # keys the vertex sends (atoms, x stages for a DelayExtension)


@dataclass(frozen=True)
class Keys:
    atom_bits: int  # the most of any application vertex
    zone_bits: int  # Z: machine + atom bits
    keys: dict  # vertex -> Key
    apps: dict  # application vertex name -> (key, mask, machine mask, last machine index)

    def to_dict(self) -> dict:
        return {"atom_bits": self.atom_bits, "zone_bits": self.zone_bits,
                "application_vertices": {name: {"key": k, "mask": m, "machine_mask": mm,
                                                "max_machine_index": last}
                                         for name, (k, m, mm, last) in self.apps.items()},
                "cores": [asdict(k) for k in self.keys.values()]}


def allocate(part: Partition, senders, colour_bits: int = 0) -> Keys:
    """Keys of the vertices in ``senders`` (vertex ids of every slice of each sending
    application vertex, application vertices in partition order)."""
    apps: dict[str, list] = {}
    for core in senders:
        v = part.vertices[core]
        apps.setdefault(v.app, []).append(v)
    stages = {plan.app: plan.stages for plan in part.delays.values()}
    n_keys = {v.core: v.atoms * 2 ** colour_bits * stages.get(v.app, 1)
              for vs in apps.values() for v in vs}
    atom_bits = {a: max(allocator_bits(n_keys[v.core]) for v in vs) for a, vs in apps.items()}
    zone = max((allocator_bits(len(part.of(a))) + atom_bits[a] for a in apps), default=0)
    app_bits = allocator_bits(len(apps))
    if app_bits + zone > 32:
        raise ResourceExceededError(
            f"routing keys need {app_bits} + {zone} bits, more than 32 "
            "(ZonedRoutingInfoAllocator)", resource="key bits", need=app_bits + zone, limit=32)
    keys, infos = {}, {}
    for a, (name, vs) in enumerate(apps.items()):
        x = atom_bits[name]
        mask = FULL - (2 ** x - 1)
        for v in vs:
            # M numbers every slice of the application vertex (PACMAN sorts by lo_atom).
            key = ((a << (zone - x)) | v.index) << x
            keys[v.core] = Key(v.core, a, v.index, key, mask, n_keys[v.core])
        infos[name] = (a << zone, FULL - (2 ** zone - 1), mask, len(part.of(name)) - 1)
    return Keys(max(atom_bits.values(), default=0), zone, keys, infos)
