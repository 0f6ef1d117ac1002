"""Bad ONNX files and bad Python factories, for the corpus test: name -> (build(dir) -> model
argument, a fragment the error line must contain)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

GOOD = Path(__file__).resolve().parents[2] / "examples" / "onnx_digits" / "digits_ann.onnx"


def _raw(data: bytes) -> Callable[[Path], str]:
    def build(directory: Path) -> str:
        path = directory / "m.onnx"
        path.write_bytes(data)
        return str(path)
    return build


def _gemm(weight: np.ndarray, extra: str = "Relu", output: str = "y", opset: int = 13,
          inputs=(1, 4)) -> Callable[[Path], str]:
    """x (1, 4) -> Gemm(weight) -> ``extra`` -> ``output``."""
    def build(directory: Path) -> str:
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        inits = [numpy_helper.from_array(weight.astype(np.float32), "W"),
                 numpy_helper.from_array(np.zeros(weight.shape[0], np.float32), "B")]
        nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["h"], transB=1),
                 helper.make_node(extra, ["h"], [output])]
        graph = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(inputs))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, weight.shape[0]])], inits)
        path = directory / "m.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
                  str(path))
        return str(path)
    return build


def _factory(body: str, name: str = "make") -> Callable[[Path], str]:
    def build(directory: Path) -> str:
        path = directory / "model.py"
        path.write_text(body)
        return f"{path}:{name}"
    return build


ONES = np.ones((3, 4))
BAD_ONNX = {
    "empty ONNX": (_raw(b""), "not a valid ONNX model"),
    "text ONNX": (_raw(b"not a protobuf\n"), "not a valid ONNX model"),
    "truncated ONNX": (lambda d: _raw(GOOD.read_bytes()[:300])(d), "not a valid ONNX model"),
    "dangling graph output": (_gemm(ONES, output="z"), "not a valid ONNX model"),
    "unsupported op": (_gemm(ONES, extra="Tanh"), "Tanh"),
    "NaN weight": (_gemm(np.full((3, 4), np.nan)), "node '0' (Gemm): parameter 'weight'"),
    "weight does not fit the input": (_gemm(np.ones((3, 5))), "node '0' (Gemm)"),
    "unknown input size": (_gemm(ONES, inputs=(1, 0)), "input 'x'"),
}
BAD_FACTORIES = {
    "factory raises": (_factory("def make():\n    raise RuntimeError('boom')\n"), "boom"),
    "syntax error": (_factory("def make(:\n"), "SyntaxError"),
    "no such function": (_factory("x = 1\n", name="missing"), "no function 'missing'"),
    "not a function": (_factory("make = 3\n"), "make"),
    "not a torch module": (_factory(
        "import torch\ndef make():\n    return torch.nn.Sequential(torch.nn.Linear(3, 2),"
        " torch.nn.ReLU()), torch.zeros(1, 3)\n"), "no Norse or snnTorch layer"),
    "returns a number": (_factory("def make():\n    return 42\n"), "must return (torch module, "
                                                                   "sample input), got int"),
    "returns the module only": (_factory(
        "import torch\ndef make():\n    return (torch.nn.Linear(3, 2),)\n"), "got a 1-tuple"),
    "factory exits": (_factory("import sys\ndef make():\n    sys.exit(3)\n"), "SystemExit"),
    "file exits on import": (_factory("import sys\nsys.exit(4)\n"), "SystemExit"),
    "import fails": (_factory("import no_such_package_here\ndef make():\n    pass\n"),
                     "no_such_package_here"),
}
