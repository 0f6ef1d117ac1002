"""The snnTorch digits network: its architecture, and the trained weights saved in model.pt.

``trained()`` is the ``file.py:factory`` form snnc reads a Python model in:
``snnc inspect examples/snntorch_digits/model.py:trained``.
"""
from __future__ import annotations

from pathlib import Path

import snntorch as snn
import torch

HERE = Path(__file__).resolve().parent
HIDDEN = 128
BETA = 0.9  # decay per step; snnc reads it as tau = dt / (1 - beta), 1 ms at dt = 1e-4 s


def make_model() -> torch.nn.Sequential:
    """Linear(64, 128) -> Leaky -> Linear(128, 10) -> Leaky: snnTorch's defaults (threshold 1,
    subtract reset applied on the next step), states kept in the modules (init_hidden)."""
    return torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN), snn.Leaky(beta=BETA, init_hidden=True),
        torch.nn.Linear(HIDDEN, 10), snn.Leaky(beta=BETA, init_hidden=True))


def trained() -> tuple[torch.nn.Sequential, torch.Tensor]:
    """The trained network and a sample input step (batch 1, 64 pixels)."""
    model = make_model()
    model.load_state_dict(torch.load(HERE / "model.pt", weights_only=True))
    return model.eval(), torch.zeros(1, 64)
