"""The vectorized numpy event engine shared by every emulated target.

A target lowers a graph to a ``Network`` of ``Population``s and ``Connection``s (int64, or
float64 for float process models) and supplies the process models (the neuron arithmetic,
e.g. ``snnc.backends.loihi.LoihiLif``) and synapse models (see ``models`` for both protocols:
input ports, state, seeded randomness, counters of their own); ``run`` steps it and returns a
``Trace`` with spikes, probed state and ``Counters`` (spikes, synaptic events, neuron updates
and whatever the models count, per step) for the cost models. ``inputs.graph_inputs`` is the
input check every target's ``simulate`` starts with; ``recording.Recording`` what it returns.
"""
from .models import (IDENTITY, Identity, NeuronModel, NeuronRunner, SynapseModel,
                     SynapseRunner)
from .network import Connection, Network, Population
from .recording import Counters, Recording, Trace
from .run import SCHEDULES, connection_rng, run
from .synapses import KERNELS, Synapses

__all__ = ["IDENTITY", "KERNELS", "SCHEDULES", "Connection", "Counters", "Identity", "Network",
           "NeuronModel", "NeuronRunner", "Population", "Recording", "Synapses", "Trace",
           "SynapseModel", "SynapseRunner", "connection_rng", "run"]
