"""keys: a routing key and mask per sending core, as PACMAN 1!7.4.1's
``ZonedRoutingInfoAllocator`` (the spinnaker.cfg default, global mode) gives them.

Every application vertex that sends (a population or source with outgoing projections, a
DelayExtension) gets an index A, in vertex order; each of its machine vertices (slices, by
first atom) an index M. With X = the most atom bits any sender needs
(``allocator_bits_needed(max keys of a slice)``: its atoms, times its stages for a
DelayExtension, whose packets carry the stage) and Mb = the most machine-index bits any
application vertex needs, a slice's key is ((A << Mb) | M) << X and its mask 0xFFFFFFFF
with the X atom bits clear: a spike of atom i (i-th of the slice) is key | i. The
application vertex's own key is A << (Mb + X), its mask clearing Mb + X bits.
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
    atom_bits: int
    machine_bits: int
    keys: dict  # vertex -> Key
    apps: dict  # application vertex name -> (key, mask, machine mask, last machine index)

    def to_dict(self) -> dict:
        return {"atom_bits": self.atom_bits, "machine_bits": self.machine_bits,
                "application_vertices": {name: {"key": k, "mask": m, "machine_mask": mm,
                                                "max_machine_index": last}
                                         for name, (k, m, mm, last) in self.apps.items()},
                "cores": [asdict(k) for k in self.keys.values()]}


def allocate(part: Partition, senders: set[int]) -> Keys:
    """Keys of the vertices in ``senders`` (vertex ids that have somewhere to send)."""
    apps: dict[str, list] = {}
    for v in part.vertices:
        if v.core in senders:
            apps.setdefault(v.app, []).append(v)
    stages = {plan.app: plan.stages for plan in part.delays.values()}
    n_keys = {v.core: v.atoms * stages.get(v.app, 1) for vs in apps.values() for v in vs}
    atom_bits = max((allocator_bits(n_keys[v.core]) for vs in apps.values() for v in vs),
                    default=0)
    machine_bits = max((allocator_bits(len(part.of(a))) for a in apps), default=0)
    app_bits = allocator_bits(len(apps))
    if app_bits + machine_bits + atom_bits > 32:
        raise ResourceExceededError(
            f"routing keys need {app_bits} + {machine_bits} + {atom_bits} bits, more than 32 "
            "(ZonedRoutingInfoAllocator)", resource="key bits",
            need=app_bits + machine_bits + atom_bits, limit=32)
    keys, infos = {}, {}
    mask = FULL - (2 ** atom_bits - 1)
    for a, (name, vs) in enumerate(apps.items()):
        for v in vs:
            # M is the slice's index among all its application vertex's slices: a population
            # whose slices do not all send still numbers them all (PACMAN sorts by lo_atom).
            key = ((a << machine_bits) | v.index) << atom_bits
            keys[v.core] = Key(v.core, a, v.index, key, mask, n_keys[v.core])
        last = len(part.of(name)) - 1
        infos[name] = (a << (machine_bits + atom_bits),
                       FULL - (2 ** (machine_bits + atom_bits) - 1), mask, last)
    return Keys(atom_bits, machine_bits, keys, infos)
