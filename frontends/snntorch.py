"""snnTorch 1.0.0 modules -> IR, read directly from the modules (not through ``export_to_nir``).

snnTorch's exporter fails on scalar beta or threshold and drops the reset mechanism, the reset
delay and the beta clamp; reading the modules keeps all of them. snnTorch has no dt: a neuron
decays by beta per step. The IR's forward-Euler neurons step v += (dt/tau) ((v_leak + r x) - v),
so with g = 1 - beta, tau = dt/g and r = 1/g a step is v = beta v + x, snnTorch's own update,
for any dt (the graph records it in ``metadata["dt"]``; simulate at that dt).

| snnTorch (init_hidden=True)  | IR                                                             |
|------------------------------|----------------------------------------------------------------|
| Linear, Conv1d, Conv2d       | Affine (Linear without bias), Conv1d, Conv2d (zero padding)     |
| AvgPool2d, Flatten           | AvgPool2d, Flatten (dims shifted: IR shapes have no batch dim)  |
| MaxPool2d on spikes          | SumPool2d "name.sum" -> Threshold(0.5) "name": the max of 0/1   |
|                              | values is [sum > 0.5]; on real values (e.g. after a Conv2d) the |
|                              | IR has no max, so it is refused                                 |
| Dropout, Identity            | nothing (the identity at inference)                            |
| Leaky(beta, threshold)       | LIF(tau = dt/(1-beta), r = 1/(1-beta), v_leak = 0, v_reset = 0) |
|                              | or IF(r = 1) when every beta is 1 (tau would be infinite)      |
| Synaptic(alpha, beta)        | CubaLIF(tau_syn = dt/(1-alpha), tau_mem = dt/(1-beta),         |
|                              | r = 1/(1-beta), w_in = 1/(1-alpha)), see ``_synaptic``          |
| RLeaky, RSynaptic            | the neuron above plus a recurrent edge "name.rec" back into it: |
|                              | Linear(W) for all_to_all (its bias moves to the layer before),  |
|                              | Linear(diag(V)) for V * spk                                    |

beta and alpha are clamped to [0, 1] as snnTorch does in every forward. Resets (the nodes'
``reset`` field; r[t] = [mem[t-1] > threshold] is snnTorch's reset signal):

| reset_mechanism, reset_delay | Leaky                         | Synaptic, RLeaky, RSynaptic      |
|------------------------------|-------------------------------|----------------------------------|
| subtract, True (default)     | subtract_next: beta mem + x - threshold r                        |
| zero, True                   | zero: beta (1 - r) mem + x,   | zero_next: (1 - r)(beta mem + x), |
|                              | the same spikes as immediate  | the whole new value              |
| zero, False                  | zero                          | zero (RSynaptic: refused)        |
| none                         | none                                                             |

Refused, one line naming the layer: reset_delay=False with subtract (snnTorch then fires at
beta mem + x - threshold (1 + r): an immediate subtract whose threshold doubles after a
membrane that stayed above it, which no IR reset reproduces); RSynaptic with reset_delay=False
(snnTorch 1.0.0 raises TypeError in forward with init_hidden); a negative threshold with a
reset (snnTorch resets at step 0, as 0 > threshold); graded_spikes_factor != 1, state_quant,
inhibition; init_hidden=False in a Sequential (a traced forward may pass the state itself);
convolutional recurrence; other layer types.
The spike function's forward pass must be the Heaviside step, as in every snntorch.surrogate.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from snnc.errors import OptionError, UnsupportedLayerError
from snnc.ir import Graph
from snnc.ir import nodes as n

from .torch_layers import (TORCH_LAYERS, SequenceBuilder, input_shape_of, max_pool, run_sample,
                           values)

NEURONS = ("Leaky", "Synaptic", "RLeaky", "RSynaptic")
PASS_SPIKES = ("Flatten", "Dropout", "Identity", "MaxPool2d")  # binary in -> binary out
SUPPORTED = ", ".join(sorted({*TORCH_LAYERS, "MaxPool2d", *NEURONS}))
STATE_FUNCTIONS = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}


def from_snntorch(module: Any, sample_input: Any, dt: float = 1e-4,
                  max_pool: str = "refuse") -> Graph:
    """Convert a ``torch.nn.Sequential`` (nested ones are flattened) of torch layers and snnTorch
    neurons built with ``init_hidden=True``, or any module whose forward torch.fx can trace
    (``torch_trace``: a subclass calling its layers, the tutorials' loop over steps, layers with
    ``output=True`` whose states become named outputs, see ``snntorch_state``).

    ``sample_input`` is one input step shaped (batch, *input_shape) (a 1-D sample is unbatched),
    or (steps, batch, *input_shape) for a forward that reads x[step]; the module must run on it,
    and its neurons' hidden state is left as it was.

    ``max_pool="after_neurons"`` opts into an approximation for a Sequential's MaxPool2d of real
    values directly before a neuron layer (snnTorch tutorial 7: Conv2d -> MaxPool2d -> Leaky):
    the pool moves after the neurons, where it is exact on spikes, so the neurons run at the
    unpooled size (their parameters must broadcast to it). Recorded in
    ``metadata["approximations"]``; its spike agreement is measured in the tests.
    """
    import torch

    if max_pool not in ("refuse", "after_neurons"):
        raise OptionError(f"max_pool must be 'refuse' or 'after_neurons', got '{max_pool}'")
    if not (np.isfinite(dt) and dt > 0):
        raise OptionError(f"dt must be a positive number of seconds, got {dt}")
    sample = sample_input if torch.is_tensor(sample_input) else torch.as_tensor(
        np.asarray(sample_input, dtype=np.float32))
    if not _plain_sequential(module):
        from .torch_trace import trace

        graph = trace(module, sample, _trace_rules(), float(dt))  # names the construct first
        _run_keeping_state(module, sample)
        return graph
    children, moved = _pools_moved(list(_layers(module)), max_pool == "after_neurons")
    for name, child in children:
        _check_layer(name, child)
    _run_keeping_state(module, sample)
    builder, binary = SequenceBuilder(input_shape_of(sample)), False
    for name, child in children:
        kind = type(child).__name__
        try:
            _convert(builder, name, child, float(dt), binary)
        except UnsupportedLayerError as error:
            raise UnsupportedLayerError(f"layer '{name}' ({kind}): {error}") from None
        binary = kind in NEURONS or (binary and kind in PASS_SPIKES)
    metadata = {"dt": float(dt), "source": "snntorch"}
    if moved:
        metadata["approximations"] = tuple(moved)
    return builder.graph(metadata=metadata)


def _pools_moved(children: list, allowed: bool) -> tuple[list, list[str]]:
    """With ``allowed``, swap each MaxPool2d of real values with the neuron layer after it."""
    moved, binary = [], False
    for k, (name, child) in enumerate(children):
        kind = type(child).__name__
        following = children[k + 1] if k + 1 < len(children) else (None, None)
        if (allowed and kind == "MaxPool2d" and not binary
                and type(following[1]).__name__ in NEURONS):
            children[k], children[k + 1] = following, (name, child)
            moved.append(f"layer '{name}' (MaxPool2d of real values) moved after neuron layer "
                         f"'{following[0]}' (exact on spikes; the neurons run unpooled)")
            binary = True
            continue
        binary = kind in NEURONS or (binary and kind in PASS_SPIKES)
    return children, moved


def _plain_sequential(module: Any) -> bool:
    """A Sequential (nested ones too) whose neurons return only spikes: read child by child."""
    import torch

    if not isinstance(module, torch.nn.Sequential):
        return False
    return all(isinstance(m, torch.nn.Sequential) or type(m).__name__ not in NEURONS
               or (m.init_hidden and not m.output) for m in module.modules())


def _trace_rules() -> Any:
    from .snntorch_state import rules

    return rules(_convert, lambda m: type(m).__name__ in NEURONS
                 and type(m).__module__.startswith("snntorch"), _check_layer)


def _layers(module: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The layers of a Sequential in call order; a nested Sequential's as "outer.inner"."""
    import torch

    if not isinstance(module, torch.nn.Sequential):
        raise UnsupportedLayerError(
            f"the snnTorch frontend converts a torch.nn.Sequential, got {type(module).__name__} "
            "(its forward may not call its children in order)")
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Sequential):
            yield from _layers(child, f"{prefix}{name}.")
        else:
            yield prefix + name, child


def _check_layer(name: str, child: Any, traced: bool = False) -> None:
    """Refuse what cannot be converted before running the model: a refused option may also make
    snnTorch's forward fail, and the layer is the better message."""
    kind = type(child).__name__
    if kind not in TORCH_LAYERS and kind not in NEURONS and kind != "MaxPool2d":
        raise UnsupportedLayerError(f"layer '{name}' ({kind}) is not supported by the snnTorch "
                                    f"frontend (supported: {SUPPORTED})")
    problem = _neuron_problem(child, traced) if kind in NEURONS else None
    if problem:
        raise UnsupportedLayerError(f"layer '{name}' ({kind}): {problem}")


def _neuron_problem(cell: Any, traced: bool = False) -> str | None:
    """Why snnTorch's forward for this neuron differs from every IR neuron, or None. A traced
    forward may pass the state itself (init_hidden=False) and read it (output=True)."""
    graded = values(cell.graded_spikes_factor)
    checks = [
        (not cell.init_hidden and not traced, "init_hidden=False is not supported in a "
                                              "Sequential (it needs init_hidden=True)"),
        (cell.inhibition, "inhibition=True is not supported"),
        (bool(cell.state_quant), "state_quant is not supported"),
        (np.any(graded != 1), "graded_spikes_factor != 1 is not supported"),
        (_mixed_reset(cell), "reset_mechanism was changed after construction, which snnTorch "
                             "applies only in part"),
        (not cell.reset_delay and cell.reset_mechanism == "subtract",
         "reset_delay=False with reset_mechanism='subtract' is not supported (snnTorch then "
         "doubles the threshold after a membrane that stays above it; use reset_delay=True)"),
        (not cell.reset_delay and type(cell).__name__ == "RSynaptic",
         "reset_delay=False is not supported (snnTorch 1.0.0's RSynaptic then fails in forward)"),
        (type(getattr(cell, "recurrent", None)).__name__ == "Conv2d",
         "convolutional recurrence (conv2d_channels, kernel_size) is not supported"),
    ]
    return next((message for failed, message in checks if failed), None)


def _mixed_reset(cell: Any) -> bool:
    """snnTorch picks the state function at construction but reads reset_mechanism_val (a
    buffer, also loaded from state dicts) in forward: they must name the same mechanism."""
    mechanism = STATE_FUNCTIONS[cell.state_function.__name__]
    return (cell.reset_mechanism != mechanism
            or int(cell.reset_mechanism_val) != cell.reset_dict[mechanism])


def _run_keeping_state(module: Any, sample: Any) -> None:
    """Run the sample once (a model that cannot run is refused in one line). init_hidden keeps
    the neurons' state in their buffers: restore them, so the user's next step is unaffected."""
    saved = [(m, dict(m._buffers)) for m in module.modules()]
    try:
        run_sample(module, sample, "snnTorch")
    finally:
        for m, buffers in saved:
            m._buffers.update(buffers)


def _convert(builder: SequenceBuilder, name: str, child: Any, dt: float, binary: bool) -> None:
    kind = type(child).__name__
    if kind in TORCH_LAYERS:
        convert = TORCH_LAYERS[kind]
        builder.add(name, convert(child) if convert else None)
    elif kind == "MaxPool2d":
        max_pool(builder, name, child, binary)
    elif kind in ("Leaky", "RLeaky"):
        _recurrent_bias(builder, child)
        builder.add(name, _leaky(child, builder.shape, dt))
    else:
        _recurrent_bias(builder, child)
        builder.add(name, _synaptic(child, builder.shape, dt))
    if kind in ("RLeaky", "RSynaptic"):
        builder.add_recurrent(f"{name}.rec", _recurrent_weight(child, builder.shape), name)


def _per_neuron(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A parameter broadcast to the population, in float64 (leading batch-size-1 dims dropped)."""
    array = values(value).astype(np.float64)
    while array.ndim > len(shape) and array.shape[0] == 1:
        array = array[0]
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise UnsupportedLayerError(f"{what} of shape {array.shape} does not fit the population "
                                    f"{shape}") from None


def _decay(cell: Any, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """beta or alpha as the forward uses it: clamped to [0, 1]."""
    return np.clip(_per_neuron(getattr(cell, what), shape, what), 0.0, 1.0)


def _threshold(cell: Any, shape: tuple[int, ...]) -> np.ndarray:
    threshold = _per_neuron(cell.threshold, shape, "threshold")
    if cell.reset_mechanism != "none" and np.any(threshold < 0):
        raise UnsupportedLayerError("a negative threshold is not supported with a reset "
                                    "(snnTorch resets on step 0, as 0 > threshold)")
    return threshold


def _reset(cell: Any) -> str:
    """The IR reset reproducing the neuron's reset_mechanism and reset_delay (table above)."""
    mechanism = cell.reset_mechanism
    if mechanism != "zero":
        return "subtract_next" if mechanism == "subtract" else "none"
    # Leaky zeroes the previous membrane before adding x: an immediate zero one step late
    return "zero_next" if cell.reset_delay and type(cell).__name__ != "Leaky" else "zero"


def _leaky(cell: Any, shape: tuple[int, ...], dt: float) -> n.Neuron:
    """mem = beta mem + x  ==  v += g ((r x) - v) with g = dt/tau = 1 - beta, r = 1/g."""
    beta, threshold, reset = _decay(cell, "beta", shape), _threshold(cell, shape), _reset(cell)
    if np.all(beta == 1):  # no leak: v += x, as IF (and bit for bit like snnTorch)
        return n.IF(r=np.ones(shape), v_threshold=threshold, v_reset=np.zeros(shape), reset=reset)
    g = _gain(beta, "beta")
    return n.LIF(tau=dt / g, r=1 / g, v_leak=np.zeros(shape), v_threshold=threshold,
                 v_reset=np.zeros(shape), reset=reset)


def _synaptic(cell: Any, shape: tuple[int, ...], dt: float) -> n.CubaLIF:
    """snnTorch: syn[t] = alpha syn[t-1] + x; mem = beta mem + syn[t] (same step).

    The IR's CubaLIF: i' = i + w_in g_s x; v += g ((r i') - v); i = (1 - g_s) i', with the
    current stored after its decay. With g_s = 1 - alpha and w_in g_s = 1: i' = alpha i'[t-1]
    + x = syn[t]; with g = 1 - beta and r g = 1: v = beta v + syn[t].
    """
    g_syn = _gain(_decay(cell, "alpha", shape), "alpha")
    g_mem = _gain(_decay(cell, "beta", shape), "beta")
    return n.CubaLIF(tau_syn=dt / g_syn, tau_mem=dt / g_mem, r=1 / g_mem, w_in=1 / g_syn,
                     v_leak=np.zeros(shape), v_threshold=_threshold(cell, shape),
                     v_reset=np.zeros(shape), reset=_reset(cell))


def _gain(decay: np.ndarray, what: str) -> np.ndarray:
    """1 - decay, the per-step gain dt/tau; decay = 1 would need an infinite tau."""
    if np.any(decay == 1):
        count = int(np.sum(decay == 1))
        raise UnsupportedLayerError(
            f"{what} = 1 (no decay) in {count} of {decay.size} neurons is not supported: the IR "
            "needs a finite time constant (a Leaky with beta = 1 everywhere becomes IF)")
    return 1.0 - decay


def _recurrent_weight(cell: Any, shape: tuple[int, ...]) -> n.Linear:
    """rec[t] = W spk[t-1] (+ bias, moved by ``_recurrent_bias``) or V * spk[t-1]."""
    if cell.all_to_all:
        return n.Linear(weight=values(cell.recurrent.weight))
    if len(shape) != 1:
        raise UnsupportedLayerError(f"V * spk on a population of shape {shape} is not supported "
                                    "(only 1-d populations)")
    return n.Linear(weight=np.diag(_per_neuron(cell.V, shape, "V")))


def _recurrent_bias(builder: SequenceBuilder, cell: Any) -> None:
    """snnTorch's recurrent Linear adds its bias on every step, the first included, while an IR
    recurrent edge carries zeros at step 0: the bias joins the bias of the layer before."""
    layer = getattr(cell, "recurrent", None)
    bias = getattr(layer, "bias", None) if getattr(cell, "all_to_all", False) else None
    if bias is None or not np.any(values(bias)):
        return
    before = builder.nodes[builder.last]
    if not isinstance(before, (n.Affine, n.Linear)):
        raise UnsupportedLayerError("a recurrent bias needs a Linear layer right before the "
                                    "neurons (the IR adds it there)")
    total = values(bias) + (before.bias if isinstance(before, n.Affine) else 0)
    builder.nodes[builder.last] = n.Affine(weight=before.weight, bias=total,
                                           metadata=before.metadata)
