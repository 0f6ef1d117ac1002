"""The loihi1 target: ``snnc.backends.loihi.target`` with Loihi 1's chip model."""
from functools import partial

from .target import DESCRIPTION as _DESCRIPTION
from .target import SUPPORTED, hops, lower
from .target import simulate as _simulate

DESCRIPTION = _DESCRIPTION.replace("Loihi 2", "Loihi 1")
DEFAULT_PIPELINE = "normalize,quantize{chip=loihi1}"
simulate = partial(_simulate, chip="loihi1")

__all__ = ["DEFAULT_PIPELINE", "DESCRIPTION", "SUPPORTED", "hops", "lower", "simulate"]
