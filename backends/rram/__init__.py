"""The resistive-crossbar (RRAM) family: what it runs and its number format. Its target
(device and periphery emulation, tiling) comes with the RRAM backend."""
from snnc.target import NEURONS, PLUMBING, Family, Format

from .formats import PERCENTILES, quantize_rram

FAMILY = Family(
    kind="rram",
    supported={**PLUMBING, **NEURONS},  # crossbars hold matrices; neurons are digital periphery
    formats=(Format("rram", quantize_rram, candidates=len(PERCENTILES), default_chip="rram"),),
    mapping=None,  # crossbar tiling comes with the backend
)
