"""A temporal-pattern detector built from per-synapse delays, the structure delay learning
(e.g. DCLS) produces: each of 4 classes is a spike pattern in which each of 16 input channels
fires once at its own time within 160 steps. Detector neuron i listens to channel j through a
synapse delayed by D_ij = T - t_ij, so the pattern's spikes arrive together at step T and only
the matching detector crosses threshold. Delays reach 160 steps, beyond Loihi's 62.

Writes, next to this file: delays.nir (the network, per-synapse delays kept as snnc metadata)
and test_spikes.npz (`spikes` (steps, 40, 16): noisy samples with jitter, `labels` (40,)).
Prints the detector's accuracy under the reference simulator.

Run from the repository root:  .venv/bin/python examples/delays/build.py
"""
from pathlib import Path

import numpy as np

from snnc.backends.reference import simulate
from snnc.frontends import write_nir
from snnc.ir import LIF, Graph, Input, Linear, Output
from snnc.options import SimOptions

HERE = Path(__file__).resolve().parent
CHANNELS, CLASSES, WINDOW, STEPS, DT = 16, 4, 160, 200, 1e-3
JITTER, NOISE, SAMPLES = 2, 0.002, 40  # steps of timing jitter; background spike probability


def patterns(rng: np.random.Generator) -> np.ndarray:
    """(classes, channels) firing step of each channel in each class's pattern."""
    return rng.integers(0, WINDOW, (CLASSES, CHANNELS))


def detector(times: np.ndarray, threshold: float = 1.0) -> Graph:
    """Input -> delayed Linear -> LIF: near-coincident arrivals of a pattern's spikes fire."""
    delay = (WINDOW - times) * DT  # channel j of class i arrives at step WINDOW
    lif = LIF(tau=np.full(CLASSES, 4e-3), r=np.ones(CLASSES), v_leak=np.zeros(CLASSES),
              v_threshold=np.full(CLASSES, threshold))
    nodes = {"input": Input(shape=(CHANNELS,)),
             "synapses": Linear(weight=np.ones((CLASSES, CHANNELS)), delay=delay),
             "detectors": lif, "output": Output(shape=(CLASSES,))}
    edges = (("input", "synapses"), ("synapses", "detectors"), ("detectors", "output"))
    return Graph(nodes=nodes, edges=edges, metadata={"dt": DT})


def calibrated_detector(times: np.ndarray) -> Graph:
    """Threshold at 50% of the peak membrane a clean pattern drives in its own detector."""
    clean = np.zeros((STEPS, CLASSES, CHANNELS), dtype=np.float32)
    clean[times, np.arange(CLASSES)[:, None], np.arange(CHANNELS)[None, :]] = 1
    probe = detector(times, threshold=1e9)
    v = simulate(probe, clean, SimOptions(dt=DT), record=["detectors"]).states["detectors.v"]
    own_peak = v.max(axis=0).diagonal().min()
    return detector(times, threshold=0.5 * float(own_peak))


def samples(rng: np.random.Generator, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noisy, jittered instances of the patterns: (steps, samples, channels), labels."""
    labels = rng.integers(0, CLASSES, SAMPLES)
    spikes = (rng.random((STEPS, SAMPLES, CHANNELS)) < NOISE).astype(np.float32)
    jitter = rng.integers(-JITTER, JITTER + 1, (SAMPLES, CHANNELS))
    fire = np.clip(times[labels] + jitter, 0, STEPS - 1)
    spikes[fire, np.arange(SAMPLES)[:, None], np.arange(CHANNELS)[None, :]] = 1
    return spikes, labels


def accuracy(graph: Graph, spikes: np.ndarray, labels: np.ndarray) -> float:
    counts = simulate(graph, spikes, SimOptions(dt=DT)).outputs["output"].sum(0)
    return float(np.mean((counts.argmax(1) == labels) & (counts.max(1) > 0)))  # silence: wrong


def main() -> None:
    rng = np.random.default_rng(0)
    times = patterns(rng)
    graph = calibrated_detector(times)
    spikes, labels = samples(rng, times)
    write_nir(graph, HERE / "delays.nir")
    np.savez_compressed(HERE / "test_spikes.npz", spikes=spikes, labels=labels)
    print(f"longest delay {int(round(graph.nodes['synapses'].delay.max() / DT))} steps; "
          f"accuracy {accuracy(graph, spikes, labels):.3f} on {SAMPLES} noisy samples")


if __name__ == "__main__":
    main()
