"""The ONNX digits example: the converted SNNs keep the accuracy stated in its README.

Reruns the conversion (threshold balancing on calibration.npz) and the simulation of the 450
test images for the stated 100 steps; no torch needed.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "onnx_digits"
# loaded under its own name: examples/digits has an evaluate.py too
_spec = importlib.util.spec_from_file_location("onnx_digits_evaluate", EXAMPLE / "evaluate.py")
evaluate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(evaluate)

# examples/onnx_digits/README.md: accuracy after 100 steps; steps from which the SNN stays
# within 2 and within 1 percentage points of the ANN
RECORDED = {"digits_ann.onnx": (436 / 450, 436 / 450, 4, 6),
            "digits_cnn.onnx": (446 / 450, 445 / 450, 16, 43)}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_snn_within_two_points_of_the_ann(name):
    ann, snn, within_2, within_1 = RECORDED[name]
    result = evaluate.evaluate(name, steps=evaluate.STEPS)
    assert result["ann"] == pytest.approx(ann)
    assert result["per_step"][-1] == pytest.approx(snn)
    assert result["per_step"][-1] >= result["ann"] - 0.02
    assert (result["within_2"], result["within_1"]) == (within_2, within_1)


def test_cli_simulates_the_bundled_input(tmp_path):
    """`snnc simulate` with --calibration on test_input.npz (first 64 test images, 100 steps)."""
    from snnc.cli import main

    main(["simulate", str(EXAMPLE / "digits_ann.onnx"), "--calibration",
          str(EXAMPLE / "calibration.npz"), "-i", str(EXAMPLE / "test_input.npz"), "-o",
          str(tmp_path / "out.npz")])
    with np.load(tmp_path / "out.npz") as out, np.load(EXAMPLE / "test_input.npz") as data:
        assert out["output"].shape == (100, 64, 10)
        assert (out["output"][-1].argmax(1) == data["labels"]).sum() == 63
