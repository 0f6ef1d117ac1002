"""snnc's structured Loihi 1 cost model beside SANA-FE (Boyle et al., IEEE TCAD 2025), the
simulator a user would pick instead, on the same networks with the same spike activity.

    .venv/bin/pip install sanafe==2.2.9    # GPL: the optional "benchmark" extra only
    .venv/bin/python benchmarks/cost_vs_sanafe.py [--rounds 3]

Each network is a calibration rebuild (``snnc.backends.loihi.calibration_workloads``), run once on
snnc's engine. SANA-FE gets the same neurons on the same cores of its Loihi preset
(``sanafe.load_loihi()``, arch/loihi.yaml) and *replays* the engine's spikes: every population
is a group of SANA-FE LIFs (threshold 0.5, no leak, reset 0) driven one to one by an input
neuron on the same core that fires one step earlier, so each neuron fires exactly when it did
on snnc's engine (one step later, for every population alike); the network's own synapses
carry weight 0, so they cost SANA-FE's per-spike synaptic energy but move no potential. The
replay adds one driver synapse and at most one message per spike to SANA-FE's count: the
``replay`` column bounds that share (spikes x (synapse + message) energy of its preset).

Printed per network: the measured step time and energy where a measurement exists, snnc's
(total with static, dynamic, and its events alone, priced at SANA-FE's own per-event set),
SANA-FE's (it models no static or management power), and
each tool's wall time (min and median over rounds; snnc: engine run + cost, SANA-FE: build +
load + simulate). Ratios are against the measurement in the same row.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from snnc.backends.engine import run
from snnc.backends.loihi import to_engine
from snnc.backends.loihi import calibration_workloads as W
from snnc.hw_models import load_chip
from snnc.backends.loihi.calibration_cases import memory_placement
from snnc.hw_models.cost import estimate


def networks():
    """(name, Loihi network, inputs, steps, steps per inference, deployment, kind, measured
    key or None)."""
    return [
        ("unthrottled_floor", W.quiet_core(0), {"in": W.quiet_input(0)}, W.QUIET_STEPS,
         W.QUIET_STEPS, "preloaded", "dense", "floor"),
        ("kws", W.kws(0), {"in": W.kws_input(0, 4)}, 4 * W.KWS_STEPS, W.KWS_STEPS,
         "streamed", "dense", "kws"),
        ("kws_branches_4", W.kws(0, 4), {"in": W.kws_input(0, 4)}, 4 * W.KWS_STEPS,
         W.KWS_STEPS, "streamed", "dense", "kws_branches_4"),
        ("nxtf_mnist", W.nxtf_mnist(0), {"in": W.nxtf_input(0)}, W.NXTF_STEPS, W.NXTF_STEPS,
         "preloaded", "conv", "nxtf_mnist"),
    ]


def snnc_run(chip, net, inputs, steps, per_inference, deployment, kind):
    """Engine run and cost: (report, engine network, counters, spike rasters, placement)."""
    engine = to_engine(net, chip)
    rec = run(engine, inputs, steps=steps, batch=1)
    placement = memory_placement(engine, chip)
    kinds = {c.name: kind for c in engine.connections}
    report = estimate(chip, rec.counters, steps_per_inference=per_inference,
                      placement=placement, deployment=deployment, synapse_kinds=kinds)
    return report, engine, rec, placement


def rasters(engine, rec, inputs) -> dict[str, np.ndarray]:
    """(steps, size) booleans per population: inputs as given, the rest as recorded."""
    out = {name: np.asarray(a, bool).reshape(len(a), -1) for name, a in inputs.items()}
    for p in engine.populations:
        if not p.is_input:
            out[p.name] = np.asarray(rec.spikes[p.name])[:, 0] != 0
    return out


def sanafe_run(engine, spikes, placement, kind):
    """The replay on SANA-FE's Loihi preset: (energy J, simulated time s, spikes)."""
    import sanafe

    arch = sanafe.load_loihi()
    cores = arch.cores()
    hw = {"dense": "loihi_dense_synapse", "conv": "loihi_conv_synapse"}[kind]
    net, groups, slot = sanafe.Network(), {}, {}
    steps = len(next(iter(spikes.values()))) + 1
    spare = _spare_cores(engine, placement, len(cores))
    for p in engine.populations:
        train = spikes[p.name]
        if p.is_input:  # spike sources: core 0 while it has room, then spare cores
            core_of = [spare(0) for _ in range(p.size)]
            g = net.create_neuron_group(p.name, p.size)
            for i, n in enumerate(g.neurons):
                n.set_attributes(soma_hw_name=_input_soma(slot, core_of[i]),
                                 model_attributes={"spikes": [int(x) for x in train[:, i]]
                                                   + [0]})
                n.map_to_core(cores[core_of[i]])
            groups[p.name] = g
            continue
        core_of = _cores_of(p, placement, len(cores))
        g = net.create_neuron_group(p.name, p.size, model_attributes={
            "threshold": 0.5, "leak_decay": 0.0, "reset": 0.0}, default_synapse_hw_name=hw)
        drive = net.create_neuron_group(p.name + "_replay", p.size)
        for i, (n, d) in enumerate(zip(g.neurons, drive.neurons)):
            n.map_to_core(cores[core_of[i]])
            home = spare(core_of[i])
            d.set_attributes(soma_hw_name=_input_soma(slot, home), model_attributes={
                "spikes": [int(x) for x in train[:, i]] + [0]})
            d.map_to_core(cores[home])
        drive.connect_neurons_sparse(g, {"weight": [1.0] * p.size},
                                     [(i, i) for i in range(p.size)])
        groups[p.name] = g
    for c in engine.connections:
        pairs = _pairs(c)
        groups[c.source].connect_neurons_sparse(groups[c.target], {"weight": [0.0] * len(pairs)},
                                                pairs)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    result = chip.sim(steps)
    return result["energy"]["total"], result["sim_time"], result["spikes"]


def _pairs(connection) -> list[tuple[int, int]]:
    """(source, target) index pairs of a connection's nonzero synapses."""
    targets, sources = np.nonzero(connection.synapses.to_dense().any(axis=0))  # over slots
    return list(zip(sources.tolist(), targets.tolist()))


def _spare_cores(engine, placement, cores: int, limit: int = 1024):
    """Where a replay driver goes: its neuron's core while that holds under ``limit``
    neurons (SANA-FE counts drivers against max_neurons_supported), else the next core snnc
    left unused."""
    load: dict[int, int] = {}
    for rows in placement.values():
        for core, _, n in rows:
            load[core] = load.get(core, 0) + n
    free = iter(k for k in range(cores) if k not in load)
    current = [None]

    def home(core: int) -> int:
        if load.get(core, 0) < limit:
            load[core] = load.get(core, 0) + 1
            return core
        if current[0] is None or load.get(current[0], 0) >= limit:
            current[0] = next(free)
        load[current[0]] = load.get(current[0], 0) + 1
        return current[0]

    return home


def _cores_of(population, placement, cores: int) -> list[int]:
    """The core of each neuron: snnc's placement."""
    out = []
    for core, _, n in placement[population.name]:
        out += [core % cores] * n
    return out


def _input_soma(slot: dict, core: int) -> str:
    k = slot.get(core, 0)
    slot[core] = k + 1
    return f"loihi_inputs[{k}]"


def measured(chip, key):
    """(step time s, energy J per inference, what) where published."""
    if key == "floor":
        return chip.timing.step_time_min, None, "floor of 5.8-13 us"
    m = chip.measurements[key]
    step = m.step_time or (1 / m.inference_rate / m.steps_per_inference
                           if m.inference_rate and m.steps_per_inference else None)
    if key.startswith("kws_branches"):
        step = None
    return step, m.energy_per_inference_total or m.energy_per_inference_dynamic, \
        "total" if m.energy_per_inference_total else "dynamic"


def timed(fn, rounds: int):
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chip = load_chip("loihi1")
    sanafe_preset = chip.energy["sanafe"]
    head = (f"{'network':18} {'cores':>5} {'step: measured':>15} {'snnc':>9} {'SANA-FE':>9} | "
            f"{'energy/inf: measured':>22} {'snnc total':>11} {'snnc dyn':>10} "
            f"{'snnc events':>11} {'SANA-FE':>10} {'replay':>7} | {'wall snnc min/med':>18} "
            f"{'wall SANA-FE min/med':>21}")
    print(head)
    for name, net, inputs, steps, per, deployment, kind, key in networks():
        (report, engine, rec, placement), s_min, s_med = timed(
            lambda: snnc_run(chip, net, inputs, steps, per, deployment, kind), args.rounds)
        trains = rasters(engine, rec, inputs)
        (energy, sim_time, spikes), f_min, f_med = timed(
            lambda: sanafe_run(engine, trains, placement, kind), args.rounds)
        inferences = steps / per
        replayed = sum(int(t.sum()) for n, t in trains.items()
                       if n not in inputs)
        replay = replayed * (sanafe_preset.synaptic_op + sanafe_preset.message_out) / energy
        m_step, m_energy, what = measured(chip, key)
        print(f"{name:18} {report.cores:5d} {_us(m_step):>15} {_us(report.step_time):>9} "
              f"{_us(sim_time / (steps + 1)):>9} | "
              f"{(_uj(m_energy) + ' ' + what) if m_energy else '-':>22} "
              f"{_uj(report.total):>11} {_uj(report.dynamic):>10} {_uj(report.events):>11} "
              f"{_uj(energy / inferences):>10} {replay:7.1%} | "
              f"{s_min:7.3f}/{s_med:.3f} s {f_min:9.3f}/{f_med:.3f} s")
    print("\nsnnc: structured model of hw_models/loihi1.toml [energy.calibrated] (static + "
          "management power x time + SANA-FE's per-event set + host I/O when streamed);\n"
          "SANA-FE 2.2.9: events and its sync table only (no static, management or host "
          "I/O), step = its simulated time / steps.")


def _us(seconds) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.4g} us"


def _uj(joules) -> str:
    return "-" if joules is None else f"{joules * 1e6:.4g} uJ"


if __name__ == "__main__":
    main()
