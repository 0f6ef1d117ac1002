"""Why Lava 0.10 cannot run a reset, and what the user can do instead (one line)."""
from __future__ import annotations


def reset_problem(reset: str, pipeline: str) -> str:
    """Why Lava cannot run ``reset``, and what to do instead."""
    if reset in ("subtract", "subtract_next"):
        why = ("a subtract reset (snnTorch's default) keeps v - threshold after a spike, but "
               "every Lava LIF process sets v <- 0 and sends only spikes, so no process network "
               "keeps the residual")
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
