"""Calibration as code (``snnc.hw_models.calibrate``): every published case rebuilt, the free
parameters fitted, each case left out in turn and predicted from the others.

Tolerance: the issue's 2x for energy and step time on every case the others can predict.
The keyword spotter is the one case whose host loop (``io_time_streamed``) no other case
measures (the sweep's host loop ran 2.4x slower on the same network): its leave-one-out uses
the sweep's loop, misses by 2.4-2.5x, and must say that it is determined by itself alone.
"""
import math

import pytest

from snnc.hw_models import calibrate as C
from snnc.hw_models import load_chip
from snnc.backends.loihi.calibration_cases import all_cases


@pytest.fixture(scope="module")
def calibration():
    cases = all_cases()
    params, rows = C.leave_one_out(cases)
    return cases, params, rows


def test_leave_one_out_within_2x_for_energy_and_step_time(calibration):
    cases, _, rows = calibration
    assert {r.case for r in rows} == {c.name for c in cases} and len(cases) == 10
    assert {"step_time", "energy_dynamic", "energy_total"} == {r.quantity for r in rows}
    for r in rows:
        if "io_time_streamed" in r.alone:
            continue
        assert r.error <= 2.0, f"{r.case} {r.quantity}: left out, off by {r.error:.2f}x"
    self_fitted = {r.case for r in rows if "io_time_streamed" in r.alone}
    assert self_fitted == {"kws"}
    assert all("determined by this case alone: io_time_streamed" in line
               for line in C.table(rows) if line.startswith("kws "))


def test_one_case_parameters_are_labelled(calibration):
    cases, _, _ = calibration
    owners = C.constrained(cases)
    assert owners["io_time_streamed"] == ["kws"]
    assert owners["management_power_loihi2"] == ["pilotnet"]
    assert len(owners["chip_sync_time"]) == 2 and len(owners["management_time"]) == 10
    source = load_chip("loihi1").sources["energy.calibrated.io_time_streamed"].source
    assert "determined by kws alone" in source


def test_the_chip_files_hold_the_fit_and_cost_reproduces_it(calibration):
    """What calibrate wrote (4 significant digits) is what it fits now, and estimate() on
    each rebuilt case with the chip files gives the closed form the fit used."""
    cases, params, rows = calibration
    l1, l2 = load_chip("loihi1"), load_chip("loihi2")
    c1, c2 = l1.energy["calibrated"], l2.energy["calibrated"]
    for name, value in (("management_time", c1.management_time),
                        ("chip_sync_time", c1.chip_sync_time),
                        ("io_time_streamed", c1.io_time_streamed),
                        ("management_power_loihi1", c1.management_power),
                        ("management_power_loihi2", c2.management_power)):
        assert value == pytest.approx(params[name], rel=1e-3), name
    assert c2.management_time == c1.management_time
    assert c1.time_error == pytest.approx(C.bands(rows, cases)["time"], rel=1e-3)
    written = {"management_time": c1.management_time, "chip_sync_time": c1.chip_sync_time,
               "io_time_streamed": c1.io_time_streamed, "sweep_io_time": 0.0,
               "io_energy_streamed": c1.io_energy_streamed,
               "management_power_loihi1": c1.management_power,
               "management_power_loihi2": c2.management_power}
    by = {c.name: c for c in cases}
    from snnc.backends.loihi import calibration_cases as K

    for name, chip in (("kws", l1), ("nxtf_mnist", l1), ("unthrottled_floor", l1),
                       ("pilotnet", l2)):
        closed = by[name].predict(written)
        report = _report(name, chip, K)
        assert report.step_time == pytest.approx(closed["step_time"], rel=1e-9)
        assert report.dynamic == pytest.approx(closed["energy_dynamic"], rel=1e-9)
        assert report.total == pytest.approx(closed["energy_total"], rel=1e-9)


def _report(name, chip, K):
    """estimate() on the case as calibration rebuilt it."""
    from snnc.hw_models.cost import estimate
    W = K.W
    if name == "pilotnet":
        engine, counters = K._run(W.pilotnet(0), chip, {}, steps=W.PILOTNET_STEPS)
        m = chip.measurements["pilotnet_lif"]
        placement = W.spread(engine, m.cores, chip.core.neurons_per_core,
                             chip.topology.cores_per_chip)
        kinds = {c.name: "conv" for c in engine.connections if "->conv" in c.name}
        return estimate(chip, counters, steps_per_inference=W.PILOTNET_STEPS,
                        placement=placement, deployment="bias", synapse_kinds=kinds)
    if name == "kws":
        engine, counters = K._run(W.kws(0), chip, {"in": W.kws_input(0, K.KWS_FRAMES)})
        return estimate(chip, K._last(counters, W.KWS_STEPS), steps_per_inference=W.KWS_STEPS,
                        placement=K.memory_placement(engine, chip), deployment="streamed")
    if name == "nxtf_mnist":
        engine, counters = K._run(W.nxtf_mnist(0), chip, {"in": W.nxtf_input(0)})
        return estimate(chip, counters, steps_per_inference=W.NXTF_STEPS,
                        placement=K.memory_placement(engine, chip),
                        synapse_kinds={c.name: "conv" for c in engine.connections})
    engine, counters = K._run(W.quiet_core(0), chip, {"in": W.quiet_input(0)})
    return estimate(chip, counters, steps_per_inference=W.QUIET_STEPS,
                    placement=K.memory_placement(engine, chip))


def test_preloaded_small_networks_land_in_the_unthrottled_range(calibration):
    """Not fitted: a preloaded 1-core workload's step must fall in the published 5.8-13 us
    unthrottled range, where the old fitted overhead put every workload at 284 us."""
    cases, _, _ = calibration
    floor = next(c for c in cases if c.name == "unthrottled_floor")
    c1 = load_chip("loihi1").energy["calibrated"]
    step = floor.work + floor.barrier + c1.management_time
    t = load_chip("loihi1").timing
    assert t.step_time_min / 1.1 <= step <= t.step_time_max
    assert math.isclose(step, floor.predict({**{p: 0.0 for p in C.PARAMETERS},
                                             "management_time": c1.management_time})
                        ["step_time"])


def test_calibrate_prints_the_table(calibration, capsys):
    """The command (``python -m snnc.backends.loihi.calibrate`` calls this ``main`` with its
    rebuilds); without cases, hw_models' own entry says where the command is."""
    assert C.main(["--dry-run"], calibration[0]) == 0
    out = capsys.readouterr().out
    assert "leave-one-out" in out and "unthrottled_floor" in out and "error bands" in out
    assert C.main(["--dry-run"]) == 2
    assert "python -m snnc.backends.loihi.calibrate" in capsys.readouterr().out
