"""Build and run a ``LoihiNetwork`` in Lava 0.10.0 itself (``Loihi2SimCfg``, tag fixed_pt).

This is the hardware reference the engine is checked against; it needs ``lava-nc`` and is
imported only when called. Lava has no batch dimension: inputs are (steps, size).

Lava quirks handled here: its runtime calls ``multiprocessing.set_start_method('fork')`` when
first imported, which raises "context has already been set" once anything in the process has
fixed the start method (``get_start_method()``, a process pool); ``Monitor`` holds one probe
only; ``RingBuffer`` takes no name; ``DelayDense`` checks ``isinstance(delays, int)``; and a run
compiles only the processes connected to the one it is called on.
"""
from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass
from typing import Collection, Mapping

import numpy as np

from .processes import AtrLif, LoihiNetwork, Synapse


@dataclass
class LavaResult:
    """spikes: bool (steps, size) per LIF / ATRLIF; states: int64 (steps, size) per "lif.var";
    seconds: wall time of the run call (compile, start, steps) and of reading the probes."""

    spikes: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    seconds: float = 0.0


def run_lava(net: LoihiNetwork, inputs: Mapping[str, np.ndarray], steps: int,
             probe: Collection[str] = (), select_tag: str = "fixed_pt") -> LavaResult:
    """Run ``net`` for ``steps`` steps; Monitors record every LIF's spikes and the ``probe``
    variables ("lif.u", "lif.v"; an ATRLIF's "i", "v", "theta", "r") after each step."""
    import time

    import_lava()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.monitor.process import Monitor

    procs = build_lava(net, inputs)
    targets = [(name, "s_out") for name in net.neurons]
    targets += [tuple(item.rsplit(".", 1)) for item in probe]
    monitors = []
    for name, var in targets:  # Lava's Monitor model holds one probe only
        monitors.append(Monitor())
        monitors[-1].probe(getattr(procs[name], var), steps)
    start = time.perf_counter()
    monitors[0].run(condition=RunSteps(num_steps=steps),
                    run_cfg=Loihi2SimCfg(select_tag=select_tag))
    try:
        data = [m.get_data() for m in monitors]
    finally:
        monitors[0].stop()
    seconds = time.perf_counter() - start
    values = {f"{name}.{var}": d[name][var] for (name, var), d in zip(targets, data)}
    spikes = {name: values[f"{name}.s_out"] != 0 for name in net.neurons}
    states = {item: values[item].astype(np.int64) for item in probe}
    return LavaResult(spikes, states, seconds)


def import_lava() -> None:
    """Import Lava's runtime, tolerating its ``set_start_method('fork')`` when the start
    method is already fork (or unset); Lava cannot run under spawn or forkserver."""
    name = "lava.magma.runtime.message_infrastructure.multiprocessing"
    if name in sys.modules:
        return
    current = multiprocessing.get_start_method(allow_none=True)
    if current not in (None, "fork"):
        raise RuntimeError(f"Lava 0.10.0 needs the 'fork' start method; this process uses "
                           f"'{current}'")
    original = multiprocessing.set_start_method
    multiprocessing.set_start_method = lambda method, force=False: original(method, force=True)
    try:
        __import__(name)
    finally:
        multiprocessing.set_start_method = original


def build_lava(net: LoihiNetwork, inputs: Mapping[str, np.ndarray]) -> dict:
    """Lava processes of ``net``, connected, by name (synapses by ``synapse_names``)."""
    _check_connected(net)
    import_lava()
    from lava.proc.atrlif.process import ATRLIF
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    procs = {}
    for name, size in net.inputs.items():
        data = np.asarray(inputs[name]).reshape(-1, size).T.astype(np.int32)  # (size, steps)
        procs[name] = RingBuffer(data=data)  # takes no name
    for name, p in net.neurons.items():
        if isinstance(p, AtrLif):
            procs[name] = ATRLIF(shape=(p.size,), name=name, **p.params())
            continue
        procs[name] = LIF(shape=(p.size,), du=p.du, dv=p.dv, vth=p.vth, bias_mant=p.bias_mant,
                          bias_exp=p.bias_exp, u=p.u, v=p.v, name=name)
    for name, (source, target, syn) in zip(net.synapse_names(), net.synapses):
        procs[name] = _synapse(syn, name)
        procs[source].s_out.connect(procs[name].s_in)
        procs[name].a_out.connect(procs[target].a_in)
    return procs


def _check_connected(net: LoihiNetwork) -> None:
    """A Lava run compiles only the processes connected to the one it is called on."""
    names = [*net.inputs, *net.neurons]
    linked = {names[0]}
    for _ in names:
        for source, target, _ in net.synapses:
            if source in linked or target in linked:
                linked |= {source, target}
    if set(names) - linked:
        raise ValueError(f"run_lava needs a connected network; {sorted(set(names) - linked)} "
                         f"are not connected to '{names[0]}'")


def _synapse(syn: Synapse, name: str):
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import DelaySparse, Sparse
    from lava.utils.weightutils import SignMode

    kwargs = dict(weight_exp=syn.weight_exp, num_weight_bits=syn.num_weight_bits, name=name)
    if syn.sign_mode is not None:
        kwargs["sign_mode"] = SignMode[syn.sign_mode.upper()]
    weights, delays = syn.weights, syn.delays
    if syn.sparse:
        from scipy.sparse import csr_matrix

        weights = csr_matrix(weights)
        if delays is not None and np.ndim(delays):
            delays = csr_matrix(np.asarray(delays, dtype=int))
    elif delays is not None and np.ndim(delays):
        delays = np.asarray(delays, dtype=int)
    if delays is None:
        return (Sparse if syn.sparse else Dense)(weights=weights, **kwargs)
    if not np.ndim(delays):
        delays = int(delays)  # Lava checks isinstance(delays, int)
    return (DelaySparse if syn.sparse else DelayDense)(weights=weights, delays=delays, **kwargs)
