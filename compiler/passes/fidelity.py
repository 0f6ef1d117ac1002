"""What a pass cost in fidelity, measured on the calibration input with the reference simulator.

Spike outputs (every value 0 or 1, before and after) agree where the values are equal. Float
readouts (LI / CubaLI membranes, Affine outputs) almost never compare equal: a pass that only
reorders a sum changes the last bit, and exact equality would report 0.0 for a perfect pass.
For those, agreement is decision agreement: the share of batch rows whose class (the readout
unit with the largest sum over time, the rule ``accuracy_*`` uses) is unchanged. It stays in
[0, 1] and comparable with spike agreement, and it is what a user of a readout cares about.
Because a decision hides how far the values moved (and says nothing for a single readout
unit), ``output_rel_error`` adds the largest relative L2 error ||after - before|| / ||before||
over the float outputs.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from snnc.ir import Graph

from .manager import PassContext


def fidelity(before: Graph, after: Graph, ctx: PassContext) -> dict[str, Any]:
    """Output agreement (see the module docstring) and, with labels, accuracy before and after
    (class = output unit with the largest sum over time). Empty without calibration input."""
    if ctx.calibration is None:
        return {}
    from snnc.backends import get_target

    simulate = get_target("reference").simulate
    old = simulate(before, ctx.calibration, ctx.options).outputs
    new = simulate(after, ctx.calibration, ctx.options).outputs
    report: dict[str, Any] = {"output_agreement": output_agreement(old, new)}
    errors = [relative_error(old[k], new[k]) for k in old if not _binary(old[k], new[k])]
    if errors:
        report["output_rel_error"] = max(errors)
    if ctx.labels is not None:
        first = next(iter(old))
        for key, outputs in (("accuracy_before", old), ("accuracy_after", new)):
            counts = outputs[first].sum(axis=0).reshape(len(ctx.labels), -1)
            report[key] = float(np.mean(counts.argmax(axis=1) == ctx.labels))
    return report


def per_output(reference: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray]
               ) -> dict[str, dict[str, float]]:
    """Per Output, against the reference over the same steps: the share of equal values,
    the largest absolute difference, and the agreement of ``output_agreement``."""
    out = {}
    for name, ref in reference.items():
        got = np.asarray(outputs[name])[: len(ref)]
        out[name] = {"equal": float(np.mean(got == ref)),
                     "max_abs_diff": float(np.max(np.abs(got - ref), initial=0.0)),
                     "agreement": _agreement(ref, got)}
    return out


def output_agreement(reference: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray]
                     ) -> float:
    """Mean over outputs of: equal values for spikes, equal decisions for float readouts.
    Arrays are (steps, batch, *shape)."""
    return float(np.mean([_agreement(reference[k], outputs[k]) for k in reference]))


def relative_error(reference: np.ndarray, output: np.ndarray) -> float:
    """||output - reference|| / ||reference|| (L2 over all values); 0 when both are zero."""
    reference, output = np.asarray(reference, np.float64), np.asarray(output, np.float64)
    scale = np.linalg.norm(reference)
    diff = np.linalg.norm(output - reference)
    return float(diff / scale) if scale else (0.0 if diff == 0 else float("inf"))


def _agreement(reference: np.ndarray, output: np.ndarray) -> float:
    if _binary(reference, output):
        return float(np.mean(reference == output))
    batch = reference.shape[1]
    decide = lambda x: np.asarray(x).sum(axis=0).reshape(batch, -1).argmax(axis=1)  # noqa: E731
    return float(np.mean(decide(reference) == decide(output)))


def _binary(*arrays: np.ndarray) -> bool:
    """Spike trains: only zeros and ones (a silent float readout counts as spikes, and then
    equality is the right test anyway)."""
    return all(np.all((a == 0) | (a == 1)) for a in arrays)
