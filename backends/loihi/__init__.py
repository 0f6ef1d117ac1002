"""Loihi 2 as Lava 0.10.0 models it: bit-accurate process models for the event engine.

``LoihiNetwork`` describes a Lava process network (inputs, ``Lif`` and ``AtrLif`` populations,
``Synapse`` connections: Dense, Sparse, DelayDense, DelaySparse); ``to_engine`` lowers it onto
the engine with ``LoihiLif`` (Lava's ``PyLifModelBitAcc``), ``LoihiAtrLif``
(``PyATRLIFModelFixed``) and ``WeightExponent`` (Lava's bit-accurate Dense arithmetic), so that ``snnc.backends.engine.run`` reproduces
``Loihi2SimCfg(select_tag="fixed_pt")`` bit for bit. ``run_lava`` (needs lava-nc) runs the same
network in Lava.
"""
from .atrlif import LoihiAtrLif
from .lif import ARITHMETICS, LifFormat, LoihiLif
from .processes import AtrLif, Lif, LoihiNetwork, Synapse, lower_synapse, to_engine
from .weights import SIGN_MODES, WeightExponent, quantize, sign_mode_of


def run_lava(*args, **kwargs):
    """``snnc.backends.loihi.lava.run_lava``: imports lava only when called."""
    from .lava import run_lava as run

    return run(*args, **kwargs)


__all__ = ["ARITHMETICS", "SIGN_MODES", "AtrLif", "LifFormat", "Lif", "LoihiAtrLif", "LoihiLif",
           "LoihiNetwork", "Synapse", "WeightExponent", "lower_synapse", "quantize", "run_lava", "sign_mode_of",
           "to_engine"]
