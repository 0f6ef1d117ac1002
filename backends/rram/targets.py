"""The RRAM targets: one per chip model (``hw_models/rram*.toml``), the same emulator."""
from functools import partial

from snnc.target import Target

from . import FAMILY
from .device import DEVICE_KEYS
from .lower import PIPELINE
from .target import simulate

# Measured by tests/targets (dt 1e-3, default device settings of each chip): see AGREEMENT.
AGREEMENT = 0.5


def _target(name: str, description: str, agreement: float) -> Target:
    return Target(name=name, description=description, family=FAMILY, chip=name,
                  pipeline=PIPELINE, simulate=partial(simulate, chip=name),
                  agreement=agreement, stochastic=True, device_keys=DEVICE_KEYS,
                  exact_device={"ideal": "true"})


RRAM = _target("rram", "RRAM crossbars (generic 128x128 1T1R, NeuroSim V1.4 periphery): "
               "differential conductance pairs, programming error, read noise, faults, drift, "
               "IR drop, shared 5-bit ADCs; device instances drawn per seed", AGREEMENT)
