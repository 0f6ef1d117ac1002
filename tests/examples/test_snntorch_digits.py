"""The snnTorch digits example: model.py:trained, read by the snnTorch frontend as the CLI reads
it, keeps the test accuracy recorded in examples/snntorch_digits/README.md under snnc."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("snntorch")

from snnc.backends.reference import simulate  # noqa: E402
from snnc.frontends import load_model  # noqa: E402
from snnc.options import SimOptions  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def digits_data():
    """examples/digits/data.py, the shared split and encoding (loaded without sys.path)."""
    spec = importlib.util.spec_from_file_location("digits_data", EXAMPLES / "digits" / "data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snntorch_digits_accuracy_under_reference():
    graph = load_model(f"{EXAMPLES / 'snntorch_digits' / 'model.py'}:trained")
    assert graph.metadata["source"] == "snntorch"
    spikes, labels = digits_data().test_set()
    counts = simulate(graph, spikes, SimOptions(dt=graph.metadata["dt"])).outputs["output"].sum(0)
    # 435 of 450 (96.67 %), the accuracy snnTorch itself reaches (README.md)
    assert int(np.sum(counts.argmax(1) == labels)) == 435
