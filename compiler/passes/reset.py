"""reset-approx: replace resets a target cannot run by one it can, and measure the cost.

``reset-approx{to=zero}`` sets every spiking population whose reset is ``subtract``,
``subtract_next`` or ``zero_next`` (snnTorch's default subtract reset, with or without reset
delay, and Synaptic's delayed zero reset) to ``zero`` (v <- 0 on a spike, Lava's LIF), keeping
everything else. Lossy and opt-in. The Loihi targets run a LIF or IF with ``subtract_next``
(snnTorch Leaky's default) exactly without it, as a reset-free ATRLIF with an inhibitory
self-connection (``snnc.backends.loihi.subtract``); what they refuse, and this pass makes
runnable, is a CubaLIF's subtract reset (snnTorch Synaptic), an immediate subtract and the
delayed zero reset (``snnc.backends.loihi.resets`` says why). Applied to every such
population, Leaky ones included, when it is in the pipeline. The report lists the changed
populations and, with calibration input, the output agreement with the unchanged graph
(``fidelity``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n

from .fidelity import fidelity
from .manager import Pass, PassContext, PassResult

APPROXIMATED = ("subtract", "subtract_next", "zero_next")


@dataclass(frozen=True)
class ApproximateReset(Pass):
    name: ClassVar[str] = "reset-approx"
    to: str = "zero"

    def __post_init__(self) -> None:
        if self.to != "zero":
            raise OptionError(f"reset-approx: to={self.to} is not supported (only zero)")

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        nodes, changed = dict(graph.nodes), {}
        for name, node in graph.nodes.items():
            reset = getattr(node, "reset", None) or ctx.options.reset
            if isinstance(node, n.Neuron) and node.spiking and reset in APPROXIMATED:
                changed[name] = reset
                nodes[name] = dataclasses.replace(node, reset="zero",
                                                  v_reset=np.zeros(node.shape))
        after = Graph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)
        report = {"changed": {k: f"{v} -> zero" for k, v in changed.items()} or "-"}
        return PassResult(after, {**report, **(fidelity(graph, after, ctx) if changed else {})})
