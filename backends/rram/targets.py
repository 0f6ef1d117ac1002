"""The RRAM targets: one per chip model (``hw_models/rram*.toml``), the same emulator."""
from functools import partial

from snnc.target import Target

from . import FAMILY
from .device import DEVICE_KEYS
from .lower import PIPELINE
from .target import simulate

# The least agreement with the reference of the same compiled graph at each chip's default
# device settings (one device instance, seed 0), measured by tests/targets (dt 1e-3): random
# graphs 0.945-1.0, digits 0.971-0.978, braille_noDelay_noBias_subtract 0.914-0.95 and
# braille_noDelay_bias_zero 0.643-0.729 (its neurons sit close to threshold, so a percent of
# programming error and a 5-8 bit ADC move many spikes); cnn_sinabs needs more arrays than any
# preset has. ``ideal=true`` (``exact_device``) gives 1.0 on all of them.
AGREEMENT = 0.6


def _target(name: str, description: str, agreement: float) -> Target:
    return Target(name=name, description=description, family=FAMILY, chip=name,
                  pipeline=PIPELINE, simulate=partial(simulate, chip=name),
                  agreement=agreement, stochastic=True, device_keys=DEVICE_KEYS,
                  exact_device={"ideal": "true"})


RRAM = _target("rram", "RRAM crossbars (generic 128x128 1T1R, NeuroSim V1.4 periphery): "
               "differential conductance pairs, programming error, read noise, faults, drift, "
               "IR drop, shared 5-bit ADCs; device instances drawn per seed", AGREEMENT)
RRAM_40NM = _target("rram_40nm", "the 40 nm 256 Kb 1T1R analog RRAM macro of the zero-shot LSM "
                    "(Lin et al. 2025): 16 arrays of 128x128, 8-bit ADCs", AGREEMENT)
RRAM_NEUROSIM = _target("rram_neurosim", "DNN+NeuroSim V1.4 defaults: 22 nm 128x128 1T1R "
                        "subarrays, 8 columns per 5-bit ADC, on/off 10", AGREEMENT)
RRAM_CROSSSIM = _target("rram_crosssim", "CrossSim's RRAMMilo device (G 50-225 uS, "
                        "state-dependent programming error) on 256x256 arrays, 8-bit ADCs",
                        AGREEMENT)
