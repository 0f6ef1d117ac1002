"""Compile a random graph for a target, run it there and on the float reference, and decide.

Outcomes: ``ok`` (agreement with the reference of the same compiled graph at least the target's
stated ``Target.agreement``, and for Loihi the engine's run bit-exact with Lava's; a stochastic
target runs with its ``exact_device`` settings and must then agree exactly, since one draw of
its default settings bounds nothing; without such settings its draw must only run), ``refused``
(one clear ``SnncError`` line: a node, delay or loop the target cannot run is a valid answer),
or ``mismatch`` (anything else: lower agreement, a non-exact Lava run, a crash, an error
message of several lines or an "internal" one). ``shrink`` reduces a mismatching spec to one
no simpler spec of which still mismatches.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np

from snnc.backends import get_target
from snnc.errors import SnncError
from snnc.options import SimOptions
from snnc.passes.fidelity import output_agreement
from snnc.target import READOUT

from . import generator
from .generator import Spec

OPTIONS = SimOptions(dt=generator.DT)
STEPS, BATCH, RATE = 25, 3, 0.3


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok", "refused" or "mismatch"
    detail: str = ""
    agreement: Optional[float] = None


def spec_for(target_name: str, seed: int) -> Spec:
    """A random spec of what the target runs (its family's neurons; Scale, Delay and
    convolutions only where its pipeline folds or lowers them; parameters shared per
    population where its chip shares them)."""
    target = get_target(target_name)
    passes = {item.split("{")[0].strip() for item in target.pipeline.split(",")}
    supported = {t.__name__: rule for t, rule in target.family.supported.items()}
    neurons = tuple(k for k in generator.NEURONS if k in supported and supported[k] != READOUT)
    readouts = tuple(k for k in generator.NEURONS if supported.get(k) == READOUT)
    maps = tuple(k for k, by in (("Scale", "normalize"), ("Delay", "map-delays"))
                 if k in supported or by in passes)
    conv = "Conv2d" in supported or "lower" in passes
    chip = target.chip_model()
    shared = chip is not None and "population" in (chip.formats.decay_scope,
                                                    chip.formats.threshold_scope)
    return generator.draw(seed, neurons, readouts, maps, conv, shared)


def inputs_for(graph, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: (rng.random((STEPS, BATCH, *graph.nodes[name].shape)) < RATE
                   ).astype(np.float32) for name in graph.inputs}


def check(target_name: str, spec: Spec, seed: int = 0, vendor: bool = False) -> Outcome:
    """Run ``spec`` on the target and on the reference; ``vendor``: also hold the target's
    run to its vendor model (Lava for Loihi) bit for bit."""
    target = get_target(target_name)
    options, least = OPTIONS, target.agreement
    if target.stochastic:
        options = replace(OPTIONS, device=dict(target.exact_device))
        least = 1.0 if target.exact_device else 0.0
    try:
        graph = generator.build(spec)
        inputs = inputs_for(graph, seed)
        compiled, _ = target.compile(graph, OPTIONS)
        got = target.simulate(compiled, inputs, options).outputs
    except SnncError as error:
        text = str(error)
        if "\n" in text or "internal" in text:
            return Outcome("mismatch", f"unclear refusal: {text!r}")
        return Outcome("refused", text)
    except Exception as error:  # noqa: BLE001  a crash is a finding, not a test error
        return Outcome("mismatch", f"crash: {type(error).__name__}: {error}")
    want = get_target("reference").simulate(compiled, inputs, OPTIONS).outputs
    if set(got) != set(want) or any(got[k].shape != want[k].shape for k in want):
        return Outcome("mismatch", f"outputs {sorted(got)} vs the reference's {sorted(want)}")
    agreement = output_agreement(want, got)
    if agreement < least:
        return Outcome("mismatch", f"agreement {agreement:.4f} < {least}", agreement)
    if vendor and target.family.kind == "loihi":
        detail = lava_difference(target, compiled, inputs)
        if detail:
            return Outcome("mismatch", detail, agreement)
    return Outcome("ok", agreement=agreement)


def lava_difference(target, compiled, inputs) -> str:
    """'' when the engine's Loihi network gives Lava's spikes and v on batch row 0."""
    from snnc.backends.engine import run
    from snnc.backends.loihi import to_engine
    from snnc.backends.loihi.lava import run_lava
    from snnc.backends.loihi.target import ALWAYS, lava_network

    chip = target.chip or "loihi2"
    net = lava_network(compiled, OPTIONS, chip)
    steps = STEPS + 4  # past the outputs' lags
    feeds = {name: np.concatenate([inputs[name][:, 0].reshape(STEPS, -1),
                                   np.zeros((4, size))]).astype(bool)
             for name, size in net.inputs.items() if name != ALWAYS}
    if ALWAYS in net.inputs:
        feeds[ALWAYS] = np.ones((steps, 1), bool)
    probe = [f"{pop}.v" for pop in net.neurons]
    expected = run_lava(net, feeds, steps, probe)
    got = run(to_engine(net, chip), feeds, steps, probe=probe)
    for pop, want in expected.spikes.items():
        if not np.array_equal(got.spikes[pop][:, 0], want):
            return f"spikes of {pop} differ from Lava's"
    for item, want in expected.states.items():
        if not np.array_equal(got.states[item][:, 0], want):
            return f"{item} differs from Lava's"
    return ""


def shrink(spec: Spec, fails: Callable[[Spec], bool], budget: int = 200) -> Spec:
    """The smallest spec reached by taking, while one exists, the first simpler spec that
    still ``fails`` (at most ``budget`` tries)."""
    tries = 0
    while tries < budget:
        for candidate in generator.simpler(spec):
            if generator.size(candidate) >= generator.size(spec):
                continue
            tries += 1
            if fails(candidate):
                spec = candidate
                break
            if tries >= budget:
                break
        else:
            return spec
    return spec
