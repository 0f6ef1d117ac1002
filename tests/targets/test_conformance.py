"""The conformance suite: every registered target on the same graphs and inputs, against the
float reference, held to the target's own stated tolerance (``Target.agreement``).

For each target and graph: compile with the target's default pipeline, simulate on the target,
simulate the *compiled* graph on the reference (so quantization is not counted, only the
target's arithmetic and timing), and require ``output_agreement`` (spikes: equal values;
float readouts: equal decisions) of at least the target's ``agreement``. A target joins by
being in the registry; the toy target of ``toy_target.py`` (registered only while its tests
run) joins through ``register``.

Graphs, none tuned by hand: random chains with skips, recurrence, Scale and Delay maps, drawn
from what each target runs (its family's neuron types; Scale and Delay only where its
pipeline folds them), and the bundled digits network and the NIR paper's models where the
target runs all their node types (after its pipeline's lowering).
"""
from pathlib import Path

import numpy as np
import pytest

from snnc.backends import get_target, target_names
from snnc.errors import ResourceExceededError, SnncError
from snnc.frontends import load_model
from snnc.ir import nodes as n
from snnc.options import SimOptions
from snnc.passes.fidelity import output_agreement
from snnc.target import READOUT
from tests.conftest import DATA, spikes
from tests.random_graphs import NEURONS, random_graph
from tests.targets import toy_target

TARGETS = [*target_names(), "toy"]
DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
OPTIONS = SimOptions(dt=1e-3)
# Node types a pass of the pipeline turns into supported ones.
REMOVED_BY = {n.Scale: "normalize", n.Delay: "map-delays", n.Conv1d: "lower", n.Conv2d: "lower",
              n.SumPool2d: "lower", n.AvgPool2d: "lower"}


def target_for(name: str):
    return toy_target.TOY if name == "toy" else get_target(name)


def runs(target, node_type: type) -> bool:
    """Whether the target runs the node type, directly or after its own pipeline."""
    passes = {item.split("{")[0].strip() for item in target.pipeline.split(",")}
    return node_type in target.family.supported or REMOVED_BY.get(node_type) in passes


def graph_for(target, seed: int):
    """A random graph of what the target runs; its neurons share their parameters per
    population where the target's chip does (``formats.decay_scope``, ``threshold_scope``)."""
    rules = {k: target.family.supported.get(getattr(n, k)) for k in NEURONS
             if runs(target, getattr(n, k))}
    neurons = tuple(k for k, rule in rules.items() if rule != READOUT)  # can feed on
    last = tuple(k for k, rule in rules.items() if rule == READOUT)  # can end the graph only
    maps = tuple(k for k in ("Scale", "Delay") if runs(target, getattr(n, k)))
    chip = target.chip_model()
    shared = chip is not None and "population" in (chip.formats.decay_scope,
                                                    chip.formats.threshold_scope)
    return random_graph(seed, layers=3, neurons=neurons, maps=maps, shared=shared, last=last)


def conforms(target, graph, inputs, options=OPTIONS) -> float:
    compiled, _ = target.compile(graph, options)
    got = target.simulate(compiled, inputs, options).outputs
    want = get_target("reference").simulate(compiled, inputs, options).outputs
    assert set(got) == set(want)
    for name in want:
        assert got[name].shape == want[name].shape, name
    return output_agreement(want, got)


@pytest.mark.parametrize("name", TARGETS)
def test_random_graphs(name):
    """Eight random graphs: each conforms, or is refused with one clear error (a Delay the
    target cannot fold, a loop it cannot run in step); at least half must run."""
    target, ran = target_for(name), {}
    for seed in range(8):
        graph = graph_for(target, seed)
        inputs = spikes(np.random.default_rng(seed), (30, 4, *graph.nodes["input"].shape), 0.3)
        try:
            ran[seed] = conforms(target, graph, inputs)
        except SnncError as error:
            assert "\n" not in str(error) and "internal" not in str(error)
    assert len(ran) >= 4, f"{name} ran only seeds {sorted(ran)}"
    assert min(ran.values()) >= target.agreement, ran


@pytest.mark.parametrize("name", TARGETS)
def test_digits(name):
    target = target_for(name)
    with np.load(DIGITS / "test_spikes.npz") as data:
        inputs = data["spikes"][:, :16]
    assert conforms(target, load_model(DIGITS / "digits.nir"), inputs) >= target.agreement


PAPER = ["braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir",
         "cnn_sinabs.nir"]


@pytest.mark.parametrize("name", TARGETS)
@pytest.mark.parametrize("model", PAPER)
def test_nir_paper_models(name, model):
    target = target_for(name)
    graph = load_model(DATA / model)
    unsupported = sorted({type(v).__name__ for v in graph.nodes.values()
                          if not runs(target, type(v))})
    if unsupported:
        pytest.skip(f"{name} does not run {', '.join(unsupported)}")
    rng = np.random.default_rng(0)
    inputs = {k: spikes(rng, (20, 2, *graph.nodes[k].shape), 0.2) for k in graph.inputs}
    try:
        agreement = conforms(target, graph, inputs, SimOptions())
    except ResourceExceededError as error:  # a chip too small for the model: refused cleanly
        pytest.skip(f"{name} cannot hold {model}: {error}")
    assert agreement >= target.agreement
