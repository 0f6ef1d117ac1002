"""fidelity: spike outputs agree value by value; float readouts agree by decision (the readout
unit with the largest sum over time) and report their relative error."""
import dataclasses

import numpy as np

from snnc.backends.reference import simulate
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes import PassContext, parse, run_pipeline
from snnc.passes.fidelity import fidelity, output_agreement, relative_error
from tests.conftest import spikes

F64 = SimOptions(dtype="float64")


def conv_readout(rng, readout: str) -> Graph:
    """Conv -> LIF -> Flatten -> Affine -> LI readout (float) or LIF readout (spikes)."""
    shape = (3, 6, 6)
    hidden = n.LIF(tau=np.full(shape, 5e-3), r=np.ones(shape), v_leak=np.zeros(shape),
                   v_threshold=np.full(shape, 0.3))
    out = (n.LI(tau=np.full(4, 4e-3), r=np.ones(4), v_leak=np.zeros(4)) if readout == "li" else
           n.LIF(tau=np.full(4, 4e-3), r=np.ones(4), v_leak=np.zeros(4),
                 v_threshold=np.full(4, 0.5)))
    nodes = {"in": n.Input(shape=(2, 8, 8)),
             "conv": n.Conv2d(weight=rng.normal(0, 0.5, (3, 2, 3, 3)), bias=np.full(3, 0.05)),
             "lif": hidden, "flat": n.Flatten(start_dim=0),
             "fc": n.Affine(weight=rng.normal(0, 0.4, (4, 108)), bias=np.zeros(4)),
             "read": out, "out": n.Output(shape=(4,))}
    order = list(nodes)
    return Graph(nodes=nodes, edges=tuple(zip(order, order[1:])))


def test_float_readout_agrees_when_only_the_last_bits_change():
    rng = np.random.default_rng(0)
    graph = conv_readout(rng, "li")
    ctx = PassContext(F64, spikes(rng, (25, 6, 2, 8, 8), 0.3))
    fc = graph.nodes["fc"]
    nudged = dataclasses.replace(graph, nodes={**graph.nodes, "fc": dataclasses.replace(
        fc, weight=np.nextafter(fc.weight, np.inf))})  # what a reordered sum does
    report = fidelity(graph, nudged, ctx)
    old = simulate(graph, ctx.calibration, F64).outputs["out"]
    new = simulate(nudged, ctx.calibration, F64).outputs["out"]
    assert np.mean(old == new) < 0.5  # exact equality would call this pass a failure
    assert report["output_agreement"] == 1.0
    assert 0 < report["output_rel_error"] < 1e-12
    _, [record] = run_pipeline(graph, parse("lower"), ctx)
    assert record.report["output_agreement"] == 1.0 and record.report["output_rel_error"] < 1e-12


def test_float_readout_reports_changed_decisions_and_error():
    rng = np.random.default_rng(1)
    graph = conv_readout(rng, "li")
    fc = graph.nodes["fc"]
    flipped = dataclasses.replace(graph, nodes={**graph.nodes, "fc": dataclasses.replace(
        fc, weight=fc.weight[::-1].copy())})  # readout units swap classes
    ctx = PassContext(F64, spikes(rng, (25, 6, 2, 8, 8), 0.3))
    report = fidelity(graph, flipped, ctx)
    assert report["output_agreement"] < 1.0 and report["output_rel_error"] > 0.1


def test_spike_outputs_keep_value_equality():
    rng = np.random.default_rng(2)
    graph = conv_readout(rng, "lif")
    ctx = PassContext(F64, spikes(rng, (25, 6, 2, 8, 8), 0.3))
    lowered, [record] = run_pipeline(graph, parse("lower"), ctx)
    assert record.report["output_agreement"] == 1.0 and "output_rel_error" not in record.report
    old = {"o": (rng.random((10, 3, 4)) < 0.3).astype(np.float64)}
    new = {"o": old["o"].copy()}
    new["o"][0, 0, :3] = 1 - new["o"][0, 0, :3]
    assert output_agreement(old, new) == 1 - 3 / 120


def test_agreement_averages_outputs_of_both_kinds():
    steps, batch = 5, 4
    spikes_out = np.zeros((steps, batch, 2))
    readout = np.zeros((steps, batch, 3))
    readout[:, :, 0] = 1.5  # class 0 in every row
    moved = readout.copy()
    moved[:, 0, 2] = 2.0  # row 0 now decides class 2: 3 of 4 decisions agree
    got = output_agreement({"s": spikes_out, "r": readout}, {"s": spikes_out, "r": moved})
    assert got == (1.0 + 0.75) / 2
    assert relative_error(readout, readout) == 0.0
    assert np.isclose(relative_error(readout, moved), np.linalg.norm(moved - readout)
                      / np.linalg.norm(readout))
