"""The resistive-crossbar (RRAM) family: what it runs, its number format, its crossbar tiling
and cost model. Its targets (device and periphery emulation on the engine) are in ``targets``."""
from snnc.target import NEURONS, PLUMBING, Family, Format

from .cost import rram_cost
from .formats import PERCENTILES, quantize_rram
from .tiling import tile_graph

FAMILY = Family(
    kind="rram",
    supported={**PLUMBING, **NEURONS},  # crossbars hold matrices; neurons are digital periphery
    formats=(Format("rram", quantize_rram, candidates=len(PERCENTILES), default_chip="rram"),),
    mapping=tile_graph,
    cost=rram_cost,
)
