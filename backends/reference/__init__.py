"""The ``reference`` target: float simulation of the IR semantics, the oracle for every target."""
from snnc.ir import NODE_TYPES
from snnc.target import NATIVE, Family, Target

from .simulator import Recording, blocks, simulate

FAMILY = Family(kind="float", supported={t: NATIVE for t in NODE_TYPES.values()},
                mapping=None)  # no chip
TARGET = Target(
    name="reference",
    description="float simulation of the IR semantics (the oracle for every other target)",
    family=FAMILY,
    simulate=simulate,
    pipeline="normalize",  # the oracle runs anything; normalize only simplifies
)

__all__ = ["FAMILY", "TARGET", "Recording", "blocks", "simulate"]
