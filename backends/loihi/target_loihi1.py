"""The loihi1 target: ``snnc.backends.loihi.target`` with Loihi 1's chip model."""
from functools import partial

from .emit import emit as _emit
from .target import DESCRIPTION as _DESCRIPTION
from .target import SUPPORTED, distances, hops, outputs_of
from .target import lower as _lower
from .target import simulate as _simulate

DESCRIPTION = _DESCRIPTION.replace("Loihi 2", "Loihi 1")
CHIP = "loihi1"
DEFAULT_PIPELINE = "lower,normalize,map-delays{chip=loihi1},quantize{chip=loihi1}"
lower = partial(_lower, chip="loihi1")
simulate = partial(_simulate, chip="loihi1")
emit = partial(_emit, chip="loihi1")  # the Lava script runs Loihi1SimCfg

__all__ = ["CHIP", "DEFAULT_PIPELINE", "DESCRIPTION", "SUPPORTED", "distances", "emit", "hops",
           "lower", "outputs_of", "simulate"]
