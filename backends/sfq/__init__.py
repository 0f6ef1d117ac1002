"""The superconducting SFQ family: what it runs, its number format, its circuit mapping and
cost model. Its targets (``targets``: one per chip preset) emulate the pulses on the engine.

Neurons are flux-storing cells (``neurons``): IF counts fluxons, LIF leaks by a clocked
decrement, CubaLIF adds a current loop; LI, CubaLI and I are readouts whose stored state is
read out. Matrices become splitter trees, synapse gates and merger trees (``cells``)."""
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
