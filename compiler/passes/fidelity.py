"""What a pass cost in fidelity, measured on the calibration input with the reference simulator."""
from __future__ import annotations

from typing import Any

import numpy as np

from snnc.ir import Graph

from .manager import PassContext


def fidelity(before: Graph, after: Graph, ctx: PassContext) -> dict[str, Any]:
    """Output agreement (fraction of equal output values over all steps) and, with labels,
    accuracy before and after (class = output neuron with the most spikes). Empty without
    calibration input."""
    if ctx.calibration is None:
        return {}
    from snnc.backends.reference import simulate

    old = simulate(before, ctx.calibration, ctx.options).outputs
    new = simulate(after, ctx.calibration, ctx.options).outputs
    report = {"output_agreement": float(np.mean([np.mean(old[k] == new[k]) for k in old]))}
    if ctx.labels is not None:
        first = next(iter(old))
        for key, outputs in (("accuracy_before", old), ("accuracy_after", new)):
            counts = outputs[first].sum(axis=0).reshape(len(ctx.labels), -1)
            report[key] = float(np.mean(counts.argmax(axis=1) == ctx.labels))
    return report
