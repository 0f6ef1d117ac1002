"""The vectorized numpy event engine shared by every emulated target.

A target lowers a graph to a ``Network`` of integer ``Population``s and ``Connection``s and
supplies the process models (the neuron arithmetic, e.g. ``snnc.backends.loihi.LoihiLif``);
``run`` steps it and returns a ``Trace`` with spikes, probed state and ``Counters``
(spikes, synaptic events and neuron updates per step) for the cost models.
"""
from .network import (IDENTITY, Connection, Identity, Network, NeuronModel, NeuronRunner,
                      Population, SynapseModel)
from .recording import Counters, Recording, Trace
from .run import SCHEDULES, run
from .synapses import KERNELS, Synapses

__all__ = ["IDENTITY", "KERNELS", "SCHEDULES", "Connection", "Counters", "Identity", "Network",
           "NeuronModel", "NeuronRunner", "Population", "Recording", "Synapses", "Trace",
           "SynapseModel", "run"]
