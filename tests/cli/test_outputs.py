"""Output paths: snnc never deletes what it did not write, replaces only complete siblings, keeps
the old output until the new one is in place, refuses special files, and cleans up after SIGTERM
and SIGINT."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from snnc.atomic import atomic_path, staged_directory
from snnc.cli import Terminated
from tests.cli.test_cli import run

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
MODEL = DIGITS / "digits.nir"


def compile_to(out, cwd=None):
    return run("compile", MODEL, "-t", "reference", "-o", out, cwd=cwd)


def test_a_file_named_program_json_does_not_make_a_directory_replaceable(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    (out / "program.json").touch()
    (out / "thesis.tex").write_text("x")
    result = compile_to(out)
    assert result.returncode == 2 and "is not an snnc program" in result.stderr
    assert (out / "thesis.tex").read_text() == "x"


def test_a_real_program_with_a_foreign_file_added_is_not_replaced(tmp_path):
    out = tmp_path / "prog"
    assert compile_to(out).returncode == 0
    manifest = json.loads((out / "program.json").read_text())
    assert set(manifest["files"]) == {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")
    result = compile_to(out)
    assert result.returncode == 2 and "holds files snnc did not write" in result.stderr
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("out", [".", "", "..", "sub/.."])
def test_the_working_directory_and_its_parents_are_refused(tmp_path, out):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "keep.txt").write_text("x")
    result = compile_to(out, cwd=work)
    assert result.returncode == 2 and "choose another -o" in result.stderr, result.stderr
    assert (work / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_a_symlinked_output_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    assert compile_to(real).returncode == 0
    (tmp_path / "link").symlink_to(real)
    result = compile_to(tmp_path / "link")
    assert result.returncode == 2 and (tmp_path / "link").is_symlink()


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_simulate_and_report_refuse_special_output_files(tmp_path, kind):
    target = tmp_path / "target.txt"
    target.write_text("precious")
    out = tmp_path / "out"
    {"symlink": lambda: out.symlink_to(target), "directory": out.mkdir,
     "fifo": lambda: os.mkfifo(out)}[kind]()
    for command in (["simulate"], ["report", "-t", "loihi2"]):
        result = run(*command, MODEL, "-i", DIGITS / "test_spikes.npz", "--steps", "2",
                     "-o", out)
        assert result.returncode == 2 and "is not a regular file" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert target.read_text() == "precious" and os.path.lexists(out)


def test_a_failure_while_staging_keeps_the_old_directory(tmp_path):
    out = tmp_path / "prog"
    out.mkdir()
    (out / "old").write_text("old")
    with pytest.raises(Terminated):
        with staged_directory(out) as staging:
            (staging / "new").write_text("new")
            raise Terminated()
    assert [p.name for p in tmp_path.iterdir()] == ["prog"] and (out / "old").exists()
    with staged_directory(out) as staging:
        (staging / "new").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["prog"]


def test_a_failure_while_writing_a_file_keeps_the_old_file(tmp_path):
    out = tmp_path / "out.npz"
    out.write_text("old")
    with pytest.raises(Terminated):
        with atomic_path(out) as tmp:
            tmp.write_text("new")
            raise Terminated()
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.npz"]


SIGNALLING_FACTORY = """
import os, signal
import torch, norse.torch as norse

def model():
    os.kill(os.getpid(), signal.{name})
    return torch.nn.Sequential(torch.nn.Linear(2, 2), norse.LIFBoxCell()), torch.zeros(3, 2)
"""


@pytest.mark.parametrize("name, code, word", [("SIGTERM", 143, "terminated"),
                                              ("SIGINT", 130, "interrupted")])
def test_signals_exit_with_the_shells_code_and_one_line(tmp_path, name, code, word):
    factory = tmp_path / "factory.py"
    factory.write_text(SIGNALLING_FACTORY.format(name=name))
    out = tmp_path / "prog"
    result = run("compile", f"{factory}:model", "-t", "reference", "-o", out)
    assert result.returncode == code and result.stderr.strip() == f"snnc: error: {word}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["factory.py"]


def test_negative_dilation_is_refused_at_import(tmp_path):
    import nir

    graph = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([1, 8, 8])),
        nir.Conv2d(input_shape=(8, 8), weight=np.ones((1, 1, 3, 3)), stride=1, padding=0,
                   dilation=-3, groups=1, bias=np.zeros(1)),
        nir.Output(output_type=np.array([1, 14, 14])))
    path = tmp_path / "bad.nir"
    nir.write(path, graph)
    inputs = tmp_path / "in.npz"
    np.savez(inputs, spikes=np.ones((2, 1, 8, 8), np.float32))
    for command in (["simulate"], ["report", "-t", "loihi2"]):
        result = run(*command, path, "-i", inputs, "-o", tmp_path / "out")
        assert result.returncode == 2, result.stderr
        assert "'dilation' must be >= 1" in result.stderr
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(target=5), "target: expected str, got 5"),
    (lambda m: m.pop("options"), "options: expected dict, got None"),
    (lambda m: m["options"].update(evil="x"), "options: "),
    (lambda m: m.update(version=9), "not an snnc program of format version 1"),
])
def test_a_program_json_that_is_not_what_it_says_is_refused(tmp_path, edit, message):
    out = tmp_path / "prog"
    assert compile_to(out).returncode == 0
    manifest = json.loads((out / "program.json").read_text())
    edit(manifest)
    (out / "program.json").write_text(json.dumps(manifest))
    result = run("simulate", out, "-i", DIGITS / "test_spikes.npz", "--steps", "2")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
