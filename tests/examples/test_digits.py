"""The bundled example: digits.nir, trained with Norse, keeps its measured test accuracy."""
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits"


def test_digits_accuracy_under_reference():
    result = subprocess.run([sys.executable, str(EXAMPLE / "evaluate.py")], capture_output=True,
                            text=True, check=True)
    # 429 of 450, the accuracy Norse itself reaches (examples/digits/README.md)
    assert "test accuracy (snnc reference, 450 images): 0.9533" in result.stdout
