"""The trained Norse model as an snnc factory: ``snnc inspect examples/digits/model.py:trained``.

snnc's Norse frontend reads the module directly, so this gives the same graph as digits.nir
without any export step (node names follow the module: 0, 1, 2, 3).
"""
import torch

from train import HERE, make_model


def trained():
    """(module, sample input): the network of train.py with its trained weights."""
    model = make_model()
    model.load_state_dict(torch.load(HERE / "norse_digits.pt"))
    return model, torch.zeros(1, 64)
