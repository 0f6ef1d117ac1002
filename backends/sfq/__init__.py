"""The superconducting SFQ family: what it runs, its number format, its circuit mapping and
cost model. Its targets (``targets``: one per chip preset) emulate the pulses on the engine.

Neurons (``neurons``) take whole fluxons on their ports, but their stored state follows
the reference's float kernels: it is not flux-quantized (no threshold in fluxons, no
integer leak decrement; a deviation from a physical flux-storing cell, stated in the
README). Matrices become splitter trees, synapse gates and merger trees (``cells``)."""
from snnc.target import NEURONS, PLUMBING, Family, Format

from .formats import quantize_sfq


def _map(*args, **kwargs):
    from .circuit import map_circuit

    return map_circuit(*args, **kwargs)


def _cost(*args, **kwargs):
    from .cost import estimate

    return estimate(*args, **kwargs)


FAMILY = Family(kind="sfq", supported={**PLUMBING, **NEURONS},
                formats=(Format("sfq", quantize_sfq, default_chip="sfq"),),
                mapping=_map, cost=_cost)
