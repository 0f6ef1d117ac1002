"""Every command on every bad model and every bad input (``corpus.py``): exit code 2, one line
``snnc: error: ...`` naming the problem, no traceback, never "internal error", nothing written,
in bounded time and memory.

The runs are in-process (``snnc.cli.main``), as a subprocess costs about 1.5 s of imports; a
sample runs as a user runs it, in a fresh process. Memory is each run's own: traced
allocations in process, a fresh process's own peak resident memory (``VmHWM``); the test
process's high-water mark would be the whole session's, and a child inherits it. snnc's
memory limit is fixed at 16 MB, so the absurd sizes are refused the same way on any machine.
"""
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import pytest

from snnc.cli import main
from tests.reliability.corpus import (BAD_MODELS, build_corpus, valid_input, valid_tree,
                                      write_tree)
from tests.reliability.input_corpus import BAD_INPUTS, build_inputs

MEMORY_LIMIT = "16M"
SECONDS_IN_PROCESS = 5.0  # each refusal takes about 0.01 s
SECONDS_IN_SUBPROCESS = 30.0
PEAK_MB = 256  # what one refusal may allocate (numpy and Python objects, traced)
PEAK_RSS_MB = 2048  # a fresh process: imports (numpy, h5py, torch's stubs) about 300 MB

COMMANDS = {
    "inspect": lambda model, data, out: ["inspect", model],
    "compile": lambda model, data, out: ["compile", model, "-t", "reference", "-o", out / "prog"],
    "simulate": lambda model, data, out: ["simulate", model, "-i", data, "-o", out / "sim.npz"],
    "report": lambda model, data, out: ["report", model, "-t", "loihi2", "-i", data, "-o",
                                        out / "report.txt"],
}
INPUT_COMMANDS = ("simulate", "report")


@pytest.fixture(autouse=True)
def memory_limit(monkeypatch):
    monkeypatch.setenv("SNNC_MAX_MEMORY", MEMORY_LIMIT)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("corpus")
    return {"models": build_corpus(root / "models"), "inputs": build_inputs(root / "inputs"),
            "model": write_tree(root / "valid.nir", valid_tree()),
            "input": valid_input(root / "valid.npz")}


def refused(args: list, capsys, out: Path) -> str:
    """Run ``snnc ARGS`` in-process and check the refusal; return its message line."""
    start = time.perf_counter()
    tracemalloc.start()  # this run's own allocations, not the test process's history
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main([str(a) for a in args])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("snnc: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert not [w for w in caught if not issubclass(w.category, (DeprecationWarning,
                                                                 FutureWarning))], caught
    assert not list(out.iterdir()), "wrote output"
    assert elapsed < SECONDS_IN_PROCESS
    assert peak < PEAK_MB * 2 ** 20, f"the run allocated up to {peak / 2 ** 20:.0f} MB"
    return err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", BAD_MODELS)
def test_bad_model_is_refused(corpus, case, command, capsys, tmp_path):
    args = COMMANDS[command](corpus["models"][case], corpus["input"], tmp_path)
    message = refused(args, capsys, tmp_path)
    assert BAD_MODELS[case][1] in message


@pytest.mark.parametrize("command", INPUT_COMMANDS)
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused(corpus, case, command, capsys, tmp_path):
    args = COMMANDS[command](corpus["model"], corpus["inputs"][case], tmp_path)
    message = refused(args, capsys, tmp_path)
    assert BAD_INPUTS[case][1] in message


def test_the_valid_model_and_input_run(corpus, capsys, tmp_path):
    """The corpus's baseline is good: each bad case differs from it in one thing."""
    for command in COMMANDS:
        assert main([str(a) for a in COMMANDS[command](corpus["model"], corpus["input"],
                                                       tmp_path)]) == 0, capsys.readouterr().err


def test_default_memory_limit_refuses_absurd_sizes(corpus, monkeypatch, capsys, tmp_path):
    """Without SNNC_MAX_MEMORY the limit is half the machine's memory: terabytes are refused."""
    monkeypatch.delenv("SNNC_MAX_MEMORY")
    for case in ("1e6 x 1e6 Affine", "1e12-neuron Input"):
        message = refused(["inspect", corpus["models"][case]], capsys, tmp_path)
        assert "over the memory limit" in message


SUBPROCESS_SAMPLE = [("inspect", "truncated HDF5"), ("inspect", "nested 1200 deep"),
                     ("compile", "only an Input"), ("compile", "tau_syn zero"),
                     ("simulate", "tau zero"), ("simulate", "compression bomb"),
                     ("report", "no Output"), ("report", "external link")]


# A fresh snnc process that writes its own peak resident memory (VmHWM: per address space, so
# not inherited across fork and exec as getrusage's ru_maxrss is) to $SNNC_TEST_PEAK at exit.
CHILD = """
import atexit, os, sys
def peak():
    with open('/proc/self/status') as status:
        kib = next(line for line in status if line.startswith('VmHWM')).split()[1]
    with open(os.environ['SNNC_TEST_PEAK'], 'w') as out:
        out.write(kib)
atexit.register(peak)
from snnc.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command, case", SUBPROCESS_SAMPLE)
def test_bad_model_in_a_fresh_process(corpus, command, case, tmp_path, tmp_path_factory):
    args = COMMANDS[command](corpus["models"][case], corpus["input"], tmp_path)
    peak_file = tmp_path_factory.mktemp("peak") / "kib"
    start = time.perf_counter()
    env = {**os.environ, "SNNC_TEST_PEAK": str(peak_file)}
    result = subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], text=True,
                            capture_output=True, env=env)
    assert time.perf_counter() - start < SECONDS_IN_SUBPROCESS
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("snnc: error: ")
    assert BAD_MODELS[case][1] in result.stderr and "internal error" not in result.stderr
    assert not list(tmp_path.iterdir())
    peak = int(peak_file.read_text()) // 1024
    assert peak < PEAK_RSS_MB, f"the process peaked at {peak} MB"
