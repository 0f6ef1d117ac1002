"""ANN (onnxruntime) vs converted SNN (snnc reference) on the digits test split; no torch.

Converts each ONNX model with threshold balancing on calibration.npz, presents every test
image as a constant input current for up to MAX_STEPS steps, and reads the class after t steps
as the argmax of the readout (the membrane of the non-spiking readout, or the output spike
count with ``--readout spikes``). One simulation gives the accuracy at every t, so the script
also reports the steps after which the SNN stays within 2 and 1 percentage points of the ANN.

Run from the repository root:  .venv/bin/python examples/onnx_digits/evaluate.py [--readout spikes]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "digits"))
from data import load_split  # noqa: E402

from snnc.backends.reference import simulate  # noqa: E402
from snnc.frontends.onnx import read_onnx  # noqa: E402

MODELS = {"digits_ann.onnx": (64,), "digits_cnn.onnx": (1, 8, 8)}  # file -> input shape
STEPS = 100       # the stated number of steps (test_input.npz has as many)
MAX_STEPS = 300   # the sweep's longest run


def ann_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return float(np.mean(session.run(None, {"x": x})[0].argmax(1) == y))


def snn_accuracy_per_step(path: Path, x: np.ndarray, y: np.ndarray, calibration: np.ndarray,
                          steps: int, readout: str = "membrane") -> np.ndarray:
    """Accuracy after t = 1..steps steps (index t - 1)."""
    graph = read_onnx(str(path), calibration, readout=readout)
    out = simulate(graph, np.broadcast_to(x, (steps, *x.shape))).outputs["output"]
    # membrane: v after t steps is the sum of t inputs; spikes: count them up to t
    scores = out if readout == "membrane" else np.cumsum(out, axis=0)
    return (scores.argmax(axis=2) == y).mean(axis=1)


def steps_within(per_step: np.ndarray, target: float, points: float) -> int | None:
    """The first t from which accuracy stays within ``points`` percentage points of target."""
    ok = per_step >= target - points / 100 - 1e-9
    if not ok[-1]:
        return None
    failing = np.flatnonzero(~ok)
    return int(failing[-1]) + 2 if failing.size else 1


def evaluate(name: str, readout: str = "membrane", steps: int = MAX_STEPS) -> dict:
    _, x_test, _, y_test = load_split()
    shape = MODELS[name]
    with np.load(HERE / "calibration.npz") as archive:
        calibration = archive["inputs"].reshape(-1, *shape)
    x = x_test.reshape(-1, *shape)
    ann = ann_accuracy(HERE / name, x, y_test)
    per_step = snn_accuracy_per_step(HERE / name, x, y_test, calibration, steps, readout)
    return {"ann": ann, "per_step": per_step, "within_2": steps_within(per_step, ann, 2),
            "within_1": steps_within(per_step, ann, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readout", choices=("membrane", "spikes"), default="membrane")
    args = parser.parse_args()
    for name in MODELS:
        r = evaluate(name, args.readout)
        acc = r["per_step"]
        print(f"{name} ({args.readout} readout, 450 test images)")
        print(f"  ANN (onnxruntime)         {r['ann']:.4f}")
        print(f"  SNN after {STEPS} steps       {acc[STEPS - 1]:.4f}")
        print("  SNN after t steps         " + "  ".join(
            f"{t}: {acc[t - 1]:.4f}" for t in (10, 20, 30, 50, 100, 200, MAX_STEPS)))
        print(f"  steps to stay within 2 points of the ANN: {r['within_2']}")
        print(f"  steps to stay within 1 point  of the ANN: {r['within_1']}")


if __name__ == "__main__":
    main()
