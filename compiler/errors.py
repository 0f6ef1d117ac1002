"""One error hierarchy: everything snnc raises on purpose is an ``SnncError``.

The CLI turns an ``SnncError`` into one line and exit code 2; anything else is a bug.
"""


class SnncError(Exception):
    """Base class of every error snnc raises deliberately."""


class GraphError(SnncError, ValueError):
    """A graph, node or edge is malformed; the message names the node or edge."""


class ModelFileError(SnncError):
    """A model file cannot be read: missing, not HDF5, not NIR, unknown format."""


class InputError(SnncError, ValueError):
    """Simulation input (spikes, steps) does not fit the model."""


class OptionError(SnncError, ValueError):
    """A compile or simulation option has an invalid value."""


class MappingError(SnncError):
    """A graph cannot be mapped onto a chip, or a mapping artefact cannot be read back. The
    message is one line; ``resource``, ``need``, ``limit`` and ``node`` say the same as data
    (None where they do not apply)."""

    def __init__(self, message: str, *, resource: str | None = None, need=None, limit=None,
                 node: str | None = None):
        super().__init__(message)
        self.resource, self.need, self.limit, self.node = resource, need, limit, node


class ResourceExceededError(MappingError):
    """A graph needs more of a chip resource than the chip model offers; the message names the
    node, the resource, the need and the limit."""


class UnsupportedLayerError(SnncError):
    """A frontend met a layer or op it cannot convert; the message names it and the supported."""


class UnsupportedNodeError(SnncError):
    """A target cannot run a node type."""

    def __init__(self, node: str, node_type: str, target: str, supported: list[str]):
        self.node, self.node_type, self.target = node, node_type, target
        super().__init__(
            f"node '{node}': {node_type} is not supported by target '{target}' "
            f"(supported: {', '.join(sorted(supported))}){HINTS.get(node_type, '')}"
        )


# Why a node type the targets cannot run was left in the graph, and the way out.
HINTS = {"Delay": "; map-delays folds a Delay into synapses only where a Linear or a "
                  "bias-free Affine alone feeds it or alone reads it (an Affine's bias would "
                  "be delayed too): put the Delay before the Affine, or its bias after"}


class MemoryLimitError(SnncError):
    """A declared size (a dataset, a population, a broadcast parameter, an input) needs more
    memory than the limit allows (``SNNC_MAX_MEMORY``); the message names what, the size and
    the limit. Raised before anything of that size is allocated."""
