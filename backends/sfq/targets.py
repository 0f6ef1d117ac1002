"""The SFQ targets, one per chip preset (``hw_models/sfq*.toml``)."""
from functools import partial

from snnc.target import Target

from . import FAMILY
from .lower import PIPELINE
from .target import DEVICE_KEYS, simulate


def _target(name: str, description: str, agreement: float) -> Target:
    return Target(name=name, description=description, family=FAMILY, chip=name,
                  pipeline=PIPELINE, simulate=partial(simulate, chip=name),
                  agreement=agreement, stochastic=True, device_keys=DEVICE_KEYS,
                  exact_device={"gates": "deterministic", "serialize": "true"})


# Stochastic pass gates (the seed paper's synapses), serialised: the outputs follow the
# reference's in the mean over trials, not spike for spike (tests/targets holds it to 0.5).
SFQ = _target("sfq", "rate-coded SFQ network (Krylov/Edwards et al.): stochastic "
              "bias-current pass gates, merger/splitter trees, RSFQ bias, PyLSE cell timing "
              "(needs a graph quantized for SFQ)", 0.5)
# Deterministic multi-fluxon weights, serialised: exactly the reference of the quantized graph.
SFQ_RSFQ = _target("sfq_rsfq", "SFQ network with deterministic multi-fluxon weights, "
                   "serialised merger trees, RSFQ resistor bias (static power)", 1.0)
SFQ_ERSFQ = _target("sfq_ersfq", "SFQ network with deterministic multi-fluxon weights, "
                    "serialised merger trees, ERSFQ/eSFQ bias (no static power)", 1.0)
