"""Differential testing of every registered target against the float reference.

A fixed-seed sample of random graphs (``generator``) per target runs in CI; ``pytest --long``
runs ``LONG`` per target. Every graph must give ``ok`` or a clear refusal (``harness.check``).
A mismatch is shrunk to a minimal spec and fails the test with the entry to keep in
``regressions.json``, where each finding stays as a regression test: "fixed" ones must pass,
"open" ones must still fail (so that a fix is noticed and the entry flipped), and the sample
seed an open finding came from is expected to mismatch until then. Loihi runs are also held
bit for bit to Lava's fixed_pt models on a few sampled graphs (``VENDOR``).
"""
import json
from pathlib import Path

import pytest

from snnc.backends import target_names
from tests.differential import harness
from tests.differential.generator import Spec

SAMPLE, LONG, VENDOR = 60, 2000, 3
REGRESSIONS = Path(__file__).with_name("regressions.json")
FINDINGS = json.loads(REGRESSIONS.read_text())


def open_seeds(target: str) -> set:
    return {f["sample_seed"] for f in FINDINGS if f["target"] == target and f["status"] == "open"}


def finding(target: str, seed: int, outcome) -> dict:
    spec = harness.spec_for(target, seed)
    small = harness.shrink(spec, lambda s: harness.check(target, s, seed).kind == "mismatch")
    return {"target": target, "sample_seed": seed, "status": "open",
            "found": harness.check(target, small, seed).detail or outcome.detail,
            "cause": "not yet known", "spec": json.loads(small.to_json())}


@pytest.mark.parametrize("target", target_names())
def test_random_graphs(target, request):
    count = LONG if request.config.getoption("--long") else SAMPLE
    known, new, ran = open_seeds(target), [], 0
    for seed in range(count):
        outcome = harness.check(target, harness.spec_for(target, seed), seed)
        ran += outcome.kind == "ok"
        if outcome.kind == "mismatch" and seed not in known:
            new.append(finding(target, seed, outcome))
    assert ran >= count // 2, f"{target} ran only {ran} of {count} graphs"
    assert not new, ("new mismatches (shrunk; add to regressions.json once understood):\n"
                     + "\n".join(json.dumps(f) for f in new))


@pytest.mark.parametrize("entry", FINDINGS, ids=lambda f: f"{f['target']}-{f['sample_seed']}")
def test_regressions(entry):
    spec = Spec.from_json(json.dumps(entry["spec"]))
    outcome = harness.check(entry["target"], spec, entry["sample_seed"])
    if entry["status"] == "open":
        assert outcome.kind == "mismatch", "this finding passes now: mark it fixed"
    else:
        assert outcome.kind != "mismatch", outcome.detail


@pytest.mark.parametrize("target", [t for t in target_names() if t.startswith("loihi")])
def test_loihi_bit_exact_with_lava(target, request):
    """The engine's Loihi network of sampled graphs gives Lava's spikes and v exactly."""
    pytest.importorskip("lava")
    count = LONG // 20 if request.config.getoption("--long") else VENDOR
    checked = 0
    for seed in range(SAMPLE):
        if checked == count:
            break
        spec = harness.spec_for(target, seed)
        if harness.check(target, spec, seed).kind != "ok":
            continue
        outcome = harness.check(target, spec, seed, vendor=True)
        assert outcome.kind == "ok", f"seed {seed}: {outcome.detail}"
        checked += 1
    assert checked == count
