"""The SpiNNaker family (sPyNNaker 1!7.4.1): what it runs and its number format. Its target
(process models, mapping, the PyNN script) comes with the SpiNNaker backend."""
from snnc.target import NEURONS, PLUMBING, Family, Format

from .cost import cost
from .formats import quantize_spinnaker
from .mapping import map_spinnaker

FAMILY = Family(
    kind="spinnaker",
    # PyNN projections for matrices, IF_curr_exp / IF_curr_delta for neurons. Standard PyNN
    # has no convolution (sPyNNaker's ConvolutionConnector is local-only, with restrictions of
    # its own), so convolutions are lowered to matrices first.
    supported={**PLUMBING, **NEURONS},
    # calibrate has no candidates: the ring-buffer shift already leaves 15 bits, and a lower
    # shift risks ring-buffer saturation, which the float graph cannot show.
    formats=(Format("spinnaker", quantize_spinnaker, default_chip="spinnaker1"),),
    # sPyNNaker places SpikeSourceArray vertices on application cores.
    sources_on_cores=True,
    # sPyNNaker's own mapping (cores, DelayExtensions, SpiNN-5 boards, keys, routing tables
    # with pair compression) and a cost that adds its router traffic and ARM load.
    mapping=map_spinnaker,
    cost=cost,
)
