"""Train two small ANNs on the 8x8 digits and export them to ONNX (needs torch).

- ``digits_ann.onnx``: MLP Linear(64, 128) - ReLU - Linear(128, 64) - ReLU - Linear(64, 10).
- ``digits_cnn.onnx``: Conv(1->8, 3x3) - BatchNorm - ReLU - AvgPool(2) - Conv(8->16, 3x3) -
  BatchNorm - ReLU - AvgPool(2) - Flatten - Linear(64, 10), exported with its BatchNorm nodes
  (``TrainingMode.PRESERVE``) so that the converter's folding is exercised.

Same split as examples/digits (``train_test_split(test_size=0.25, random_state=0)``), inputs
pixel / 16 in [0, 1]. Also writes ``calibration.npz`` (``inputs``: the first 100 training
images, for threshold balancing) and ``test_input.npz`` (``spikes``: the first 64 test images
repeated over ``STEPS`` steps, (STEPS, 64, 64), the input of ``snnc simulate``; ``labels``).

Run from the repository root:  .venv/bin/python examples/onnx_digits/train.py  (~7 s)
"""
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "digits"))
from data import load_split  # noqa: E402

STEPS = 100        # steps of test_input.npz; evaluate.py states accuracy at this T
CALIBRATION = 100  # training images used for threshold balancing


def mlp() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 10))


def train(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, epochs: int) -> torch.nn.Module:
    """Adam (lr 3e-3, batch 64) on the cross-entropy; weight decay keeps activations tame."""
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y).long()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(64):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(inputs[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return model.eval()


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def export(model: torch.nn.Module, sample: np.ndarray, path: Path) -> None:
    """TorchScript exporter (the dynamo one needs onnxscript), opset 13, dynamic batch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(model, (torch.from_numpy(sample[:1]),), str(path), dynamo=False,
                          opset_version=13, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x_train, x_test, y_train, y_test = load_split()
    images_train, images_test = x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
    models = {"digits_ann.onnx": (train(mlp(), x_train, y_train, 40), x_train, x_test),
              "digits_cnn.onnx": (train(cnn(), images_train, y_train, 40), images_train,
                                  images_test)}
    for name, (model, train_inputs, test_inputs) in models.items():
        export(model, train_inputs, HERE / name)
        print(f"{name}: torch test accuracy {accuracy(model, test_inputs, y_test):.4f}")
    np.savez_compressed(HERE / "calibration.npz", inputs=x_train[:CALIBRATION])
    spikes = np.repeat(x_test[None, :64], STEPS, axis=0)
    np.savez_compressed(HERE / "test_input.npz", spikes=spikes, labels=y_test[:64])


if __name__ == "__main__":
    main()
