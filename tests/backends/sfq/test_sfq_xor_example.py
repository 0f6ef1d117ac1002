"""The examples/sfq_xor case study runs and separates XOR by output rate in every trial."""
import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sfq_xor" / "xor.py"


def test_xor_margins_are_positive(capsys):
    spec = importlib.util.spec_from_file_location("sfq_xor", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    margins = module.main(["--trials", "10", "--steps", "100"])
    assert len(margins) == 10 and margins.min() > 0.2
    assert "0 xor 1 = 1" in capsys.readouterr().out
