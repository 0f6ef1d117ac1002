"""``nn.Module`` subclasses -> IR: torch.fx traces ``forward`` with the neuron layers as leaves,
then the traced graph is read as a per-step data flow.

Two forms are accepted, the ones the snnTorch and Norse tutorials write:

- one step per call: ``forward(x)`` calls layers and neurons that keep their own state
  (snnTorch ``init_hidden=True``); the user loops over time outside the model.
- a loop over time inside ``forward``: ``mem = lif.init_leaky()`` (or Norse ``s = None``) before
  a ``for step in range(num_steps)`` loop that passes each neuron's returned state back into it
  and collects ``torch.stack(spk_rec)``. torch.fx unrolls the loop; the unrolled calls of one
  module collapse into one IR node, after checking that every call sees the same input stream
  and the neuron's own state from the call before (a model that does anything else is refused).
  The input is either the same tensor every step (``fc1(x)``) or ``x[step]`` of a time-major
  sample shaped (steps, batch, ...).

Between modules, only shape ops that keep the batch dimension (``flatten(1)``, ``view(batch,
-1)``) and sums of layer outputs (fan-in, summed as NIR sums edges) are understood. Anything
else is refused naming the op and the forward it is in.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from snnc.errors import UnsupportedLayerError
from snnc.ir import Graph, Output
from snnc.ir import nodes as n

from .torch_layers import SequenceBuilder, input_shape_of, values


@dataclass(frozen=True)
class Signature:
    """How a neuron module is called: the state arguments after the input, and what it returns
    ("spk" for its output stream, else a state name); ``returns=("spk",)`` returns the stream."""

    states: tuple[str, ...]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    """What a framework brings: which modules are neurons, how they are called, how one is added
    at the builder's position, and the IR nodes whose summed output is a state (a membrane)."""

    framework: str
    is_neuron: Callable[[Any], bool]
    signature: Callable[[Any], Signature]
    add_neuron: Callable[[SequenceBuilder, str, Any, float], None]
    add_layer: Callable[[SequenceBuilder, str, Any, bool], None]
    state_nodes: Callable[["TraceBuilder", str, Any, str, float, tuple], list[str]]


@dataclass(frozen=True)
class Stream:
    """A per-step value produced by IR node(s) (several: their sum); ``origin`` marks a neuron's
    spikes as (module, call index)."""

    nodes: tuple[str, ...]
    binary: bool = False
    origin: tuple[str, int] | None = None


@dataclass(frozen=True)
class State:
    """A neuron's state variable as a call returned it (``call`` -1: the initial zeros)."""

    module: str
    var: str
    call: int


@dataclass(frozen=True)
class Returned:
    """What a neuron call returned, before it is unpacked."""

    module: str
    call: int
    items: tuple


@dataclass(frozen=True)
class Record:
    """``torch.stack`` of one stream or state over the steps: the graph records every step."""

    item: Any


class _Placeholder:
    """The model's input tensor before it is used (directly, or indexed by step)."""


class TraceBuilder(SequenceBuilder):
    """A SequenceBuilder positioned at any stream, so one converter serves chains and DAGs."""

    def __init__(self, input_shape: tuple[int, ...]):
        super().__init__(input_shape)
        self.shapes = {"input": input_shape}
        self._extra: tuple[str, ...] = ()

    def at(self, sources: tuple[str, ...]) -> None:
        """Add the next node after ``sources`` (their sum, when several)."""
        self.last, self._extra = sources[0], tuple(sources[1:])
        self.shape = self.shapes[self.last]

    def add(self, name: str, node: n.Node | None) -> None:
        if node is None:
            return
        extra, self._extra = self._extra, ()
        super().add(name, node)
        self.edges += [(source, name) for source in extra]
        self.shapes[name] = self.shape

    def add_recurrent(self, name: str, node: n.Node, population: str) -> None:
        super().add_recurrent(name, node, population)
        self.shapes[name] = self.shapes[population]


def trace(module: Any, sample: Any, rules: Rules, dt: float) -> Graph:
    """The IR graph of a module whose ``forward`` torch.fx can trace (module docstring)."""
    graph = _fx_graph(module, rules)
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    if len(placeholders) != 1:
        raise UnsupportedLayerError(
            f"{type(module).__name__}.forward takes {len(placeholders)} tensors; it must take one "
            "input (keep the neuron state inside: init_hidden=True, or init_leaky() in forward)")
    time_major = any(node.op == "call_function" and node.target is operator.getitem
                     and node.args[0] is placeholders[0] and isinstance(node.args[1], int)
                     for node in graph.nodes)
    shape = tuple(int(d) for d in sample.shape[2:]) if time_major else input_shape_of(sample)
    reader = _Reader(module, rules, dt, TraceBuilder(shape), int(sample.shape[1 if time_major else 0]))
    result = reader.read(graph)
    return reader.finish(result, {"dt": dt, "source": rules.framework,
                                  "input_layout": "time-major" if time_major else "per-step"})


def _fx_graph(module: Any, rules: Rules) -> Any:
    import torch.fx as fx

    class LeafTracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
            return rules.is_neuron(m) or super().is_leaf_module(m, qualified_name)

    try:
        return LeafTracer().trace(module)
    except Exception as error:  # fx raises many kinds on Python control flow
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise UnsupportedLayerError(
            f"{type(module).__name__}.forward cannot be traced by torch.fx ({type(error).__name__}: "
            f"{first}); write it as calls of layers, with loops over a Python int "
            "(for step in range(num_steps)), not over a tensor's size") from None


class _Reader:
    """Interprets the unrolled fx graph over the value domain above, building the IR."""

    def __init__(self, module: Any, rules: Rules, dt: float, builder: TraceBuilder, batch: int):
        self.module, self.rules, self.dt, self.builder, self.batch = module, rules, dt, builder, batch
        self.layer_nodes: dict[tuple[str, tuple[str, ...]], Stream] = {}
        self.neurons: dict[str, tuple[tuple[str, ...], int]] = {}  # module -> (input, calls)
        self.step_index = -1
        self.where = f"{type(module).__name__}.forward"

    def read(self, graph: Any) -> Any:
        env: dict[Any, Any] = {}
        for node in graph.nodes:
            if node.op == "output":
                return self._resolve(node.args[0], env)
            env[node] = self._eval(node, env)
        raise UnsupportedLayerError(f"{self.where} returns nothing")

    def _resolve(self, arg: Any, env: dict) -> Any:
        import torch.fx as fx

        if isinstance(arg, fx.Node):
            return env[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self._resolve(a, env) for a in arg)
        return arg

    def _eval(self, node: Any, env: dict) -> Any:
        args = self._resolve(node.args, env)
        kwargs = {k: self._resolve(v, env) for k, v in node.kwargs.items()}
        if node.op == "placeholder":
            return _Placeholder()
        if node.op == "get_attr":
            return self._attribute(node.target)
        if node.op == "call_module":
            return self._call_module(node.target, args, kwargs)
        name = getattr(node.target, "__name__", str(node.target))
        return self._call_op(name, args, kwargs)

    # -- values -------------------------------------------------------------------------------

    def _attribute(self, target: str) -> Any:
        owner, _, var = target.rpartition(".")
        value = self.module.get_submodule(owner) if owner else self.module
        if self.rules.is_neuron(value):
            tensor = getattr(value, var)
            if tensor.numel() and np.any(values(tensor) != 0):
                raise UnsupportedLayerError(f"{self.where}: neuron '{owner}' starts from a non-zero "
                                            f"'{var}' (call its reset/init_leaky() first)")
            return State(owner, var, -1)
        raise UnsupportedLayerError(f"{self.where}: the tensor attribute '{target}' is used as a "
                                    "value; only layers and neuron states are understood")

    def _stream(self, value: Any, what: str) -> Stream:
        if isinstance(value, _Placeholder):
            if self.step_index >= 0:
                raise UnsupportedLayerError(f"{self.where} uses its input both whole and as "
                                            "x[step]; use one form")
            return Stream(("input",))
        if isinstance(value, Stream):
            return value
        raise UnsupportedLayerError(f"{self.where}: {what} gets {_describe(value)}, not a layer's "
                                    "output")

    # -- modules ------------------------------------------------------------------------------

    def _call_module(self, target: str, args: tuple, kwargs: dict) -> Any:
        module = self.module.get_submodule(target)
        if kwargs:
            raise UnsupportedLayerError(f"{self.where}: '{target}' is called with keyword "
                                        f"arguments {sorted(kwargs)}; pass them by position")
        stream = self._stream(args[0], f"'{target}' ({type(module).__name__})")
        if self.rules.is_neuron(module):
            return self._call_neuron(target, module, stream, args[1:])
        key = (target, stream.nodes)
        if key not in self.layer_nodes:
            name = target if not any(k[0] == target for k in self.layer_nodes) \
                else f"{target}#{len([k for k in self.layer_nodes if k[0] == target])}"
            self.builder.at(stream.nodes)
            before = self.builder.last
            self.rules.add_layer(self.builder, name, module, stream.binary)
            produced = self.builder.last
            binary = stream.binary and type(module).__name__ in _PASS_SPIKES
            self.layer_nodes[key] = stream if produced == before else Stream((produced,), binary)
        return self.layer_nodes[key]

    def _call_neuron(self, target: str, module: Any, stream: Stream, states: tuple) -> Any:
        signature = self.rules.signature(module)
        first = target not in self.neurons
        if first:
            self.builder.at(stream.nodes)
            self.rules.add_neuron(self.builder, target, module, self.dt)
            self.neurons[target] = (stream.nodes, 0)
        inputs, calls = self.neurons[target]
        if stream.nodes != inputs:
            raise UnsupportedLayerError(f"{self.where}: neuron '{target}' is called on different "
                                        "inputs at different steps")
        self._check_states(target, signature, states, calls)
        self.neurons[target] = (inputs, calls + 1)
        spikes = Stream((target,), _spiking(module), (target, calls))
        if signature.returns == ("spk",):
            return spikes
        items = tuple(spikes if r == "spk" else State(target, r, calls) for r in signature.returns)
        return Returned(target, calls, items)

    def _check_states(self, target: str, signature: Signature, states: tuple, calls: int) -> None:
        """Each state argument is the initial zeros on the first call and this neuron's own
        value from the call before afterwards: then the IR neuron's own state is the same."""
        given = list(states) + [None] * (len(signature.states) - len(states))
        for var, value in zip(signature.states, given):
            if value is None or (isinstance(value, State) and value.call == -1
                                 and value.module == target):
                ok = calls == 0
            elif isinstance(value, State):
                ok = (value.module, value.var, value.call) == (target, var, calls - 1)
            else:
                ok = isinstance(value, Stream) and value.origin == (target, calls - 1)
            if not ok:
                raise UnsupportedLayerError(
                    f"{self.where}: neuron '{target}' call {calls + 1} gets {_describe(value)} as "
                    f"'{var}'; pass the initial state once (init_leaky()) and then the '{var}' it "
                    "returned on the step before")

    # -- functions and methods ----------------------------------------------------------------

    def _call_op(self, name: str, args: tuple, kwargs: dict) -> Any:
        if name == "getitem":
            return self._getitem(*args)
        if name in ("flatten", "view", "reshape"):
            return self._flatten(name, args, kwargs)
        if name == "size" and len(args) == 2 and isinstance(args[1], int) and args[1] == 0:
            return self.batch
        if name in ("add", "iadd") and not kwargs:
            left, right = (self._stream(a, "'+'") for a in args)
            self._same_shape(left, right)
            return Stream(left.nodes + right.nodes)
        if name == "stack" and isinstance(args[0], (list, tuple)) and args[0]:
            return self._stack(args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0))
        raise UnsupportedLayerError(
            f"{self.where}: '{name}' is not understood between layers (supported: layer and "
            "neuron calls, x[step], flatten(1) / view(batch, -1), '+', torch.stack of a record)")

    def _getitem(self, value: Any, index: Any) -> Any:
        if isinstance(value, Returned):
            return value.items[index]
        if isinstance(value, _Placeholder) and isinstance(index, int):
            if index != self.step_index and index != self.step_index + 1:
                raise UnsupportedLayerError(f"{self.where} reads x[{index}] after "
                                            f"x[{self.step_index}]; read x[step] in order")
            self.step_index = index
            return Stream(("input",))
        raise UnsupportedLayerError(f"{self.where}: indexing {_describe(value)} with "
                                    f"{index!r} is not supported (only x[step])")

    def _flatten(self, name: str, args: tuple, kwargs: dict) -> Stream:
        stream, rest = self._stream(args[0], f"'{name}'"), list(args[1:])
        shape = self.builder.shapes[stream.nodes[0]]
        if name == "flatten":
            start = rest[0] if rest else kwargs.get("start_dim", 0)
            end = rest[1] if len(rest) > 1 else kwargs.get("end_dim", -1)
            ok = start == 1 and end in (-1, len(shape))
        else:
            dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
            ok = len(dims) == 2 and dims[0] in (self.batch, -1) and dims[1] in (-1, int(np.prod(shape)))
        if not ok:
            raise UnsupportedLayerError(f"{self.where}: {name}{tuple(rest)} must keep the batch "
                                        "dimension and flatten the rest (flatten(1), "
                                        "view(batch, -1))")
        if len(shape) == 1:
            return stream
        key = ("flatten", stream.nodes)
        if key not in self.layer_nodes:
            self.builder.at(stream.nodes)
            self.builder.add(f"flatten{len(self.layer_nodes)}", n.Flatten(start_dim=0, end_dim=-1))
            self.layer_nodes[key] = Stream((self.builder.last,), stream.binary)
        return self.layer_nodes[key]

    def _same_shape(self, left: Stream, right: Stream) -> None:
        shapes = {self.builder.shapes[s] for s in left.nodes + right.nodes}
        if len(shapes) > 1:
            raise UnsupportedLayerError(f"{self.where}: '+' of shapes {sorted(shapes)}")

    def _stack(self, items: Any, dim: Any) -> Record:
        if dim != 0:
            raise UnsupportedLayerError(f"{self.where}: torch.stack(..., dim={dim}); stack the "
                                        "steps along dim 0")
        kinds = {(i.module, i.var) if isinstance(i, State) else getattr(i, "nodes", None)
                 for i in items}
        if len(kinds) != 1 or None in kinds:
            raise UnsupportedLayerError(f"{self.where}: torch.stack of {len(kinds)} different "
                                        "values; stack one layer's output over the steps")
        return Record(items[-1])

    # -- outputs ------------------------------------------------------------------------------

    def finish(self, result: Any, metadata: dict) -> Graph:
        items = result if isinstance(result, (tuple, list)) else (result,)
        outputs: dict[str, list[str]] = {}
        flat = [part for item in items
                for part in (item.items if isinstance(item, Returned) else (item,))]
        for item in flat:
            value = item.item if isinstance(item, Record) else item
            if isinstance(value, Stream):
                outputs["output" if "output" not in outputs else f"output_{len(outputs)}"] = \
                    list(value.nodes)
            elif isinstance(value, State):
                outputs[f"{value.module}.{value.var}"] = self._state(value)
            else:
                raise UnsupportedLayerError(f"{self.where} returns {_describe(value)}")
        if "output" not in outputs:
            raise UnsupportedLayerError(f"{self.where} returns no layer output (spikes)")
        return _graph(self.builder, outputs, metadata)

    def _state(self, state: State) -> list[str]:
        module = self.module.get_submodule(state.module)
        inputs, _ = self.neurons[state.module]
        return self.rules.state_nodes(self.builder, state.module, module, state.var, self.dt,
                                      inputs)


def _graph(builder: SequenceBuilder, outputs: dict[str, list[str]], metadata: dict) -> Graph:
    """Output nodes named as the model returns them; a state output sums its nodes."""
    nodes, edges = dict(builder.nodes), list(builder.edges)
    for name, sources in outputs.items():
        nodes[_free(name, nodes)] = Output(shape=builder.shapes[sources[0]])
        edges += [(source, _free(name, builder.nodes)) for source in sources]
    return Graph(nodes=nodes, edges=tuple(edges), metadata=metadata)


def _free(name: str, nodes: dict) -> str:
    """An output name; a layer output 'lif2.mem' becomes 'lif2_mem' (dots name nested nodes)."""
    return name.replace(".", "_")


def _spiking(module: Any) -> bool:
    return type(module).__name__ not in ("LI", "LICell", "LIBoxCell")


def _describe(value: Any) -> str:
    if isinstance(value, State):
        return f"the '{value.var}' of '{value.module}'" + (" (initial)" if value.call < 0 else
                                                           f" from call {value.call + 1}")
    if isinstance(value, Stream):
        return f"the output of {'+'.join(value.nodes)}"
    if isinstance(value, Returned):
        return f"the tuple returned by '{value.module}' (unpack it)"
    if isinstance(value, _Placeholder):
        return "the input"
    return type(value).__name__ if value is not None else "None"


_PASS_SPIKES = ("Flatten", "Dropout", "Identity", "MaxPool2d")
