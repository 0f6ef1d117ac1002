"""IR node types: NIR 1.0's vocabulary as frozen, keyword-only dataclasses.

Every array field is a numpy array (never a torch tensor). Neuron parameters share one shape,
the population shape; the frontends broadcast scalars to it, so a node in a verified graph never
holds a 0-d neuron parameter. Nodes are never mutated: use ``dataclasses.replace``.

Shapes exclude the batch dimension and are channels-first, as in NIR. How the continuous-time
dynamics below are discretized (dt, integrator, reset) is a simulation option, not part of the
node: see ``snnc.options``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping, Union

import numpy as np

from ..errors import GraphError
from ..options import RESETS
from .values import as_array, as_ints, at_least, positive_time_constant, short

Shape = tuple[int, ...]
Padding = Union[tuple[int, ...], str]  # ints per spatial dim, or "same" / "valid"

@dataclass(frozen=True, kw_only=True, eq=False)
class Node:
    """Base of all node types.

    ``metadata`` is carried along, never interpreted. ``hw`` holds hardware annotations that
    passes add (integer formats, exponents, bit widths: the pass that writes a key documents
    it); the float parameters stay the dequantized values, so a quantized graph still runs on
    the reference and exports to NIR. The export keeps ``hw`` in metadata as ``snnc.hw.<key>``.
    """

    metadata: Mapping[str, Any] = field(default_factory=dict)
    hw: Mapping[str, Any] = field(default_factory=dict)
    arrays: ClassVar[tuple[str, ...]] = ()  # fields that hold numpy arrays

    def __post_init__(self) -> None:
        for name in self.arrays:
            object.__setattr__(self, name, as_array(getattr(self, name), name))

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def params(self) -> dict[str, Any]:
        """The node's fields without metadata and hardware annotations, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("metadata", "hw")}

    def same_as(self, other: "Node") -> bool:
        """Structural equality: same type and equal fields (arrays compared by value)."""
        if type(self) is not type(other):
            return False
        mine, theirs = self.params(), other.params()
        return all(_equal(mine[k], theirs[k]) for k in mine) and _equal(self.hw, other.hw)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    if isinstance(a, Node):
        return isinstance(b, Node) and a.same_as(b)
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------------------------------------
# Graph ports


@dataclass(frozen=True, kw_only=True, eq=False)
class _Port(Node):
    shape: Shape

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", as_ints(self.shape, np.size(self.shape), "shape"))
        at_least("shape", self.shape, 1)


@dataclass(frozen=True, kw_only=True, eq=False)
class Input(_Port):
    """Graph input port: y[t] = the user's input at step t."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Output(_Port):
    """Graph output port: records its input."""


# ---------------------------------------------------------------------------------------------
# Synapses and stateless maps


@dataclass(frozen=True, kw_only=True, eq=False)
class _Matrix(Node):
    """A dense synapse matrix W shaped (out, in), as in PyTorch.

    ``delay`` (optional, seconds, shaped like W) gives every synapse its own delay, as
    delay-learning methods produce: y_i[t] = sum_j W_ij x_j[t - D_ij]. NIR has no per-synapse
    delay; the export keeps it in the node's metadata as ``snnc.delay``.
    """

    weight: np.ndarray
    delay: np.ndarray | None = None
    arrays: ClassVar = ("weight",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weight.ndim != 2:
            raise GraphError(f"weight must be a matrix (out, in), got shape {self.weight.shape}")
        if self.delay is not None:
            delay = as_array(self.delay, "delay")
            if delay.shape != self.weight.shape or np.any(delay < 0):
                raise GraphError(f"delay must be non-negative and shaped like weight "
                                 f"{self.weight.shape}, got {delay.shape}")
            object.__setattr__(self, "delay", delay)


@dataclass(frozen=True, kw_only=True, eq=False)
class Affine(_Matrix):
    """y = W x + b."""

    bias: np.ndarray
    arrays: ClassVar = ("weight", "bias")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bias.shape != self.weight.shape[:1]:
            raise GraphError(f"bias shape {self.bias.shape} does not match weight {self.weight.shape}")


@dataclass(frozen=True, kw_only=True, eq=False)
class Linear(_Matrix):
    """y = W x."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Scale(Node):
    """y = s * x, elementwise."""

    scale: np.ndarray
    arrays: ClassVar = ("scale",)


@dataclass(frozen=True, kw_only=True, eq=False)
class _Conv(Node):
    """PyTorch convolution: weight (C_out, C_in / groups, *kernel), bias (C_out)."""

    weight: np.ndarray
    bias: np.ndarray
    stride: tuple[int, ...] = 1
    padding: Padding = 0
    dilation: tuple[int, ...] = 1
    groups: int = 1
    arrays: ClassVar = ("weight", "bias")
    spatial_dims: ClassVar[int] = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.spatial_dims
        if self.weight.ndim != n + 2:
            raise GraphError(f"weight must have {n + 2} dims, got shape {self.weight.shape}")
        if self.bias.shape != self.weight.shape[:1]:
            raise GraphError(f"bias shape {self.bias.shape} does not match weight {self.weight.shape}")
        object.__setattr__(self, "stride", as_ints(self.stride, n, "stride"))
        object.__setattr__(self, "dilation", as_ints(self.dilation, n, "dilation"))
        object.__setattr__(self, "groups", as_ints(self.groups, 1, "groups")[0])
        if isinstance(self.padding, bytes):
            object.__setattr__(self, "padding", self.padding.decode())
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise GraphError(f"padding must be 'same', 'valid' or integers, got {self.padding!r}")
        else:
            object.__setattr__(self, "padding", as_ints(self.padding, n, "padding"))
            at_least("padding", self.padding, 0)
        at_least("stride", self.stride, 1)
        at_least("dilation", self.dilation, 1)
        at_least("kernel size", self.kernel_size, 1)
        if self.groups < 1 or self.weight.shape[0] % self.groups:
            raise GraphError(f"groups={self.groups} does not divide {self.weight.shape[0]} output channels")

    @property
    def kernel_size(self) -> tuple[int, ...]:
        return tuple(self.weight.shape[2:])


@dataclass(frozen=True, kw_only=True, eq=False)
class Conv1d(_Conv):
    """1-d convolution over (C, L) inputs, PyTorch semantics."""

    spatial_dims: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class Conv2d(_Conv):
    """2-d convolution over (C, H, W) inputs, PyTorch semantics."""

    spatial_dims: ClassVar[int] = 2


@dataclass(frozen=True, kw_only=True, eq=False)
class _Pool2d(Node):
    """Pooling over (C, H, W) with zero padding."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        for name in ("kernel_size", "stride", "padding"):
            object.__setattr__(self, name, as_ints(getattr(self, name), 2, name))
        at_least("kernel_size", self.kernel_size, 1)
        at_least("stride", self.stride, 1)
        at_least("padding", self.padding, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise GraphError(f"padding {self.padding} exceeds half the kernel {self.kernel_size}")


@dataclass(frozen=True, kw_only=True, eq=False)
class SumPool2d(_Pool2d):
    """y = sum of x over each window."""


@dataclass(frozen=True, kw_only=True, eq=False)
class AvgPool2d(_Pool2d):
    """y = mean of x over each window (padding counted, as PyTorch's default)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Flatten(Node):
    """Merge dims start_dim..end_dim of the (unbatched) input into one, like torch.flatten."""

    start_dim: int = 1
    end_dim: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_dim", as_ints(self.start_dim, 1, "start_dim")[0])
        object.__setattr__(self, "end_dim", as_ints(self.end_dim, 1, "end_dim")[0])


@dataclass(frozen=True, kw_only=True, eq=False)
class Delay(Node):
    """y(t) = x(t - delay); delay in seconds, simulated as round(delay / dt) steps."""

    delay: np.ndarray
    arrays: ClassVar = ("delay",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if np.any(self.delay < 0):
            raise GraphError("delay must not be negative")


@dataclass(frozen=True, kw_only=True, eq=False)
class Threshold(Node):
    """z = [x > threshold] (strict)."""

    threshold: np.ndarray
    arrays: ClassVar = ("threshold",)


# ---------------------------------------------------------------------------------------------
# Neurons: all parameters share the population shape.


@dataclass(frozen=True, kw_only=True, eq=False)
class Neuron(Node):
    """Base of the stateful neuron populations.

    Spiking populations carry ``reset``: None follows the simulation's reset option; a value
    from ``snnc.options.RESETS`` fixes this population's reset (frontends set it from the
    framework's layer, e.g. snnTorch's reset_mechanism). NIR has no such field: the export
    keeps it in the node's metadata as ``snnc.reset``.
    """

    spiking: ClassVar[bool] = False
    time_constants: ClassVar[tuple[str, ...]] = ()  # parameters the dynamics divide by

    def __post_init__(self) -> None:
        super().__post_init__()
        reset = getattr(self, "reset", None)
        if reset is not None and not (isinstance(reset, str) and reset in RESETS):
            raise GraphError(f"reset must be one of {', '.join(RESETS)}; got {short(reset)}")
        for name in self.time_constants:
            positive_time_constant(name, getattr(self, name))
        shapes = {getattr(self, name).shape for name in self.arrays}
        try:
            common = np.broadcast_shapes(*shapes)
        except ValueError:
            raise GraphError(f"parameter shapes {sorted(shapes)} do not agree") from None
        from .shapes import check_shape_memory  # shapes imports this module

        check_shape_memory(lambda: f"parameters broadcast to shape {common}", common,
                           len(self.arrays))
        for name in self.arrays:
            array = np.broadcast_to(getattr(self, name), common).copy()
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def shape(self) -> Shape:
        """The population shape."""
        return getattr(self, self.arrays[0]).shape


@dataclass(frozen=True, kw_only=True, eq=False)
class I(Neuron):  # noqa: E742 - NIR's name
    """Integrator: dv/dt = r * I. Discrete: v += r * x per step (no dt, as Norse's IAF)."""

    r: np.ndarray
    arrays: ClassVar = ("r",)


@dataclass(frozen=True, kw_only=True, eq=False)
class IF(Neuron):
    """Integrate and fire: v += r * x per step; z = [v > v_threshold]; on z, reset."""

    r: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = 0.0
    reset: str | None = None
    arrays: ClassVar = ("r", "v_threshold", "v_reset")
    spiking: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True, eq=False)
class LI(Neuron):
    """Leaky integrator: tau dv/dt = (v_leak - v) + r * I. Outputs v."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    arrays: ClassVar = ("tau", "r", "v_leak")
    time_constants: ClassVar = ("tau",)


@dataclass(frozen=True, kw_only=True, eq=False)
class LIF(Neuron):
    """Leaky integrate and fire: tau dv/dt = (v_leak - v) + r * I; z = [v > v_threshold];
    on z, reset (to v_reset by default)."""

    tau: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = 0.0
    reset: str | None = None
    arrays: ClassVar = ("tau", "r", "v_leak", "v_threshold", "v_reset")
    time_constants: ClassVar = ("tau",)
    spiking: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True, eq=False)
class CubaLI(Neuron):
    """Current-based leaky integrator: tau_syn dI/dt = -I + w_in S;
    tau_mem dv/dt = (v_leak - v) + r I. Outputs v."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    w_in: np.ndarray = 1.0
    arrays: ClassVar = ("tau_syn", "tau_mem", "r", "v_leak", "w_in")
    time_constants: ClassVar = ("tau_syn", "tau_mem")


@dataclass(frozen=True, kw_only=True, eq=False)
class CubaLIF(Neuron):
    """Current-based LIF: CubaLI dynamics, z = [v > v_threshold]; on z, reset."""

    tau_syn: np.ndarray
    tau_mem: np.ndarray
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray
    v_reset: np.ndarray = 0.0
    w_in: np.ndarray = 1.0
    reset: str | None = None
    arrays: ClassVar = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")
    time_constants: ClassVar = ("tau_syn", "tau_mem")
    spiking: ClassVar[bool] = True


NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls
    for cls in (Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d,
                Flatten, Delay, Threshold, I, IF, LI, LIF, CubaLI, CubaLIF)
}
# Dense synapse matrices (with optional per-synapse delays): what targets store as synapses.
MATRICES: tuple[type[Node], ...] = (Affine, Linear)
