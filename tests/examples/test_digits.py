"""The bundled example: digits.nir, trained with Norse, keeps its measured test accuracy."""
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits"


def test_digits_accuracy_under_reference():
    result = subprocess.run([sys.executable, str(EXAMPLE / "evaluate.py")], capture_output=True,
                            text=True, check=True)
    # 429 of 450, the accuracy Norse itself reaches (examples/digits/README.md)
    assert "test accuracy of digits.nir (snnc reference, 450 images): 0.9533" in result.stdout


def test_factory_form_gives_the_same_spikes_as_the_nir_file(tmp_path):
    """`model.py:trained` (Norse module read directly) simulates like digits.nir; dt comes from
    the Norse cells, so no --dt is needed."""
    from snnc.cli import main

    spikes = EXAMPLE / "test_spikes.npz"
    main(["simulate", f"{EXAMPLE / 'model.py'}:trained", "-i", str(spikes), "-o",
          str(tmp_path / "a.npz")])
    main(["simulate", str(EXAMPLE / "digits.nir"), "-i", str(spikes), "--dt", "1e-3", "-o",
          str(tmp_path / "b.npz")])
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert a["dt"] == b["dt"] == 1e-3
        np.testing.assert_array_equal(a["output"], b["output"])
        assert a["output"].sum() > 0
