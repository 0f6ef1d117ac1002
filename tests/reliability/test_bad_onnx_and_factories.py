"""Bad ONNX files and bad Python factories (``onnx_corpus.py``): `inspect` and `compile` refuse
each with exit code 2 and one line naming the file (and the ONNX node where there is one),
never "internal error", and write nothing."""
import pytest

from snnc.cli import main
from tests.reliability.onnx_corpus import BAD_FACTORIES, BAD_ONNX

CASES = {**BAD_ONNX, **BAD_FACTORIES}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_in_one_line(name, tmp_path, capsys):
    build, fragment = CASES[name]
    model = build(tmp_path)
    for args in (["inspect", model], ["compile", model, "-t", "reference", "-o",
                                      str(tmp_path / "prog")]):
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("snnc: error: "), err
        assert "internal error" not in err and fragment in err, err
        assert model.split(":")[0] in err, err  # names the file
    assert not (tmp_path / "prog").exists()
