"""Forward Euler at dt/tau > 2 diverges: compile, simulate and report refuse it in one line
naming the node (inside nested graphs too), and the exact integrator runs it."""
import numpy as np
import pytest

from snnc.backends import get_target
from snnc.errors import OptionError
from snnc.ir import Graph
from snnc.ir import nodes as n
from snnc.options import SimOptions, check_stable


def graph(tau: float) -> Graph:
    ones = np.ones(3)
    return Graph(nodes={"input": n.Input(shape=(3,)), "fc": n.Linear(weight=np.eye(3)),
                        "lif": n.LIF(tau=tau * ones, r=ones, v_leak=0 * ones,
                                     v_threshold=ones, v_reset=0 * ones),
                        "output": n.Output(shape=(3,))},
                 edges=(("input", "fc"), ("fc", "lif"), ("lif", "output")))


def test_euler_beyond_two_steps_per_tau_is_refused():
    check_stable(graph(5e-4), SimOptions(dt=1e-3))  # dt/tau = 2: oscillates, does not grow
    with pytest.raises(OptionError, match=r"node 'lif': dt / tau = 2.5 > 2 .* --integrator exp"):
        get_target("reference").compile(graph(4e-4), SimOptions(dt=1e-3))
    outer = Graph(nodes={"input": n.Input(shape=(3,)), "inner": graph(4e-4),
                         "output": n.Output(shape=(3,))},
                  edges=(("input", "inner"), ("inner", "output")))
    with pytest.raises(OptionError, match="node 'inner.lif'"):
        check_stable(outer, SimOptions(dt=1e-3))
    check_stable(graph(4e-4), SimOptions(dt=1e-3, integrator="exp"))
