"""The Loihi family (Loihi 1 and 2 as Lava 0.10 models them): what it runs, its number format."""
from snnc.ir import nodes as n
from snnc.target import NEURONS, PLUMBING, Family, Format

from .formats import quantize_loihi

# Lava runs matrices as Dense / Sparse processes and every neuron model as its LIF process
# (current u, voltage v): no decay gives IF, du = 4095 a LIF without synaptic current, and a
# threshold out of reach a readout (LI, CubaLI). Its Conv process needs lava-dl's netx layers,
# which snnc does not emit, so convolutions and pools are lowered to matrices first. I (a
# readout without leak) is quantized but not yet lowered by the targets.
SUPPORTED = {**PLUMBING, **{t: rule for t, rule in NEURONS.items() if t is not n.I}}

FAMILY = Family(
    kind="loihi",
    supported=SUPPORTED,
    # calibrate tries the max-abs exponent and one or two lower
    formats=(Format("loihi", quantize_loihi, candidates=3, default_chip="loihi1"),),
)
