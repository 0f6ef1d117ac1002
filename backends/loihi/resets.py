"""Why Lava 0.10 cannot run a reset, and what the user can do instead (one line).

A LIF or IF with ``subtract_next`` (snnTorch's default) runs exactly as a reset-free ATRLIF
with an inhibitory self-connection (``subtract``). What stays refused:
- ``subtract_next`` on a CubaLIF (snnTorch Synaptic): the residual v - threshold must stay
  in v while the current i keeps its own memory, but ATRLIF's only reset state r adds
  2 theta on a spike and decays by itself (delta_r), and a self-connection's input enters i
  first, where it would decay with the current (delta_i) instead of landing in v once;
- ``subtract`` at the spike itself (no reset delay): a self-connection arrives a step late;
- ``zero_next`` (Synaptic/RLeaky delayed zero reset) and ``none``: no Lava process zeroes v
  a step after a spike, input included, or never resets it while firing on v > threshold.
"""
from __future__ import annotations


def reset_problem(reset: str, pipeline: str, kind: str = "LIF") -> str:
    """Why Lava cannot run ``reset`` on a ``kind`` population, and what to do instead."""
    if reset == "subtract_next":
        why = (f"a subtract reset on {kind} (snnTorch Synaptic's default) keeps v - threshold "
               "in v beside the synaptic current, but Lava's ATRLIF, which runs it for "
               "Leaky/IF, adds its input to that current and its reset state decays apart")
    elif reset == "subtract":
        why = ("an immediate subtract reset keeps v - threshold at the spike itself, but a "
               "Lava self-connection subtracts one step later and every LIF sets v <- 0")
    elif reset == "zero_next":
        why = ("a delayed zero reset (snnTorch Synaptic/RLeaky, reset_delay=True) zeroes the "
               "step after a spike, input included; Lava's LIF zeroes v at the spike")
    elif reset == "none":
        return ("no reset (snnTorch reset_mechanism='none') is not supported: every Lava LIF "
                "process sets v <- 0 on a spike")
    else:
        why = f"reset '{reset}' with a nonzero v_reset is not Lava's v <- 0"
    return (f"{why}; train with reset_mechanism='zero' (snnTorch Leaky: exact on Loihi), or "
            f"opt into the zero reset with -p 'reset-approx,{pipeline}' "
            "(its output agreement is reported)")
