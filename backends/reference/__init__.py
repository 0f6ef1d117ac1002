"""The ``reference`` target: float simulation of the IR semantics, the oracle for every target."""
from snnc.ir import NODE_TYPES

from .simulator import Recording, blocks, simulate

DESCRIPTION = "float simulation of the IR semantics (the oracle for every other target)"
SUPPORTED = tuple(sorted(NODE_TYPES))  # every IR node type
DEFAULT_PIPELINE = "normalize"  # the oracle runs anything; normalize only simplifies

__all__ = ["DEFAULT_PIPELINE", "DESCRIPTION", "SUPPORTED", "Recording", "blocks", "simulate"]
