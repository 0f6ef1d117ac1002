"""snnc: a compiler for spiking neural networks on neuromorphic hardware.

``import snnc`` stays light (numpy only); torch, lava and onnx load in the code that needs them.
"""
from .errors import GraphError, SnncError
from .options import SimOptions

__version__ = "0.1.0"
__all__ = ["GraphError", "SimOptions", "SnncError", "__version__"]
