"""The ``spinnaker1`` target: SpiNNaker 1 as sPyNNaker 1!7.4.1 runs it (``target.py``)."""
from functools import partial

from snnc.target import Target

from . import FAMILY
from .emit import emit
from .target import PIPELINE, simulate

SPINNAKER1 = Target(
    name="spinnaker1",
    description=("SpiNNaker 1 as sPyNNaker 1!7.4.1 computes it: IF_curr_delta / IF_curr_exp "
                 "in s16.15 with the cores' exp, divide and truncating multiply, 16-bit "
                 "saturating ring buffers (needs a graph quantized for SpiNNaker; outputs "
                 "aligned with the reference past the least delay of 1 step)"),
    family=FAMILY,
    chip="spinnaker1",
    pipeline=PIPELINE,
    simulate=simulate,
    emit=partial(emit, chip="spinnaker1"),  # OUT/pynn_network.py (SpiNNaker, or NEST) + data
    # Measured (tests/targets, dt 1e-3; paper models 1e-4): random graphs 1.0 (4 of 8 run; the
    # rest are refused: a loop of zero-delay projections, Delay nodes map-delays cannot fold),
    # digits 0.9998, the braille models 1.0, cnn_sinabs 0.9475. Two arithmetics: the core's
    # s16.15 words with truncating multiplies and an exp_TC/R only as near as the words reach,
    # against float32; and sPyNNaker has no leak-free neuron, so an IF is a LIF with the least
    # leak that cannot overflow (about r 2**(shift+1) / 2**16 per step): cnn_sinabs, all IF,
    # drifts by that leak over its 20 steps.
    agreement=0.93,
)
