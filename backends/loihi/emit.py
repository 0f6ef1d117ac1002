"""Emit a runnable Lava script: ``lava_network.py`` and its parameters ``lava_network.npz``.

The script (a copy of ``lava_script.py``, which imports numpy, scipy and lava only, never
snnc) builds the network from Lava 0.10 processes (RingBuffer inputs, LIF, ATRLIF for
subtract resets, Dense / Sparse / DelayDense / DelaySparse) and runs it with ``Loihi2SimCfg(select_tag="fixed_pt")``:

    python OUT/lava_network.py --input IN.npz --steps N --output OUT.npz [--probe POP.v ...]

writing what ``snnc simulate -t loihi2 -o`` writes, bit for bit (see the script's docstring).

``emit`` does this for a graph quantized for Loihi (the loihi2 target's ``lower``, its Output
shifts and readouts, the units of each population's v); ``emit_network`` for any
``LoihiNetwork``, where an output is a population's spikes in Lava's raw timing unless told
otherwise.

The .npz holds ``network``, a JSON description (names, sizes, shapes, du/dv/vth, synapse
kinds and options, outputs, shifts, dt, dtype), and per population ``lif<i>.bias_mant``,
``.bias_exp``, ``.u``, ``.v`` (an ATRLIF: ``.i``, ``.v``, ``.r``; its JSON holds its deltas,
theta_0 and theta_step) (and ``.v_reset`` where v is dequantized), per synapse
``syn<i>.weights`` (dense) or ``.data``/``.indices``/``.indptr`` (CSR) and ``.delays``.
Numbers keep the dtype Lava is given (float weights stay float: Lava truncates them itself).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping

import numpy as np
from scipy.sparse import csr_matrix

from snnc.errors import GraphError
from snnc.ir import Graph
from snnc.ir.graph import flatten
from snnc.options import SimOptions

from . import target
from .processes import AtrLif, LoihiNetwork, Synapse
from .subtract import read_origin

SCRIPT, PARAMETERS = "lava_network.py", "lava_network.npz"
# Lava's run configuration per chip. Lava 0.10's Loihi2SimCfg is Loihi1SimCfg unchanged, and
# "fixed_pt" selects PyLifModelBitAcc, PyDenseModelBitAcc, ... (also tagged
# "bit_accurate_loihi", a tag RingBuffer's model lacks), so both chips run the same models.
RUN_CONFIGS = {"loihi2": ("Loihi2SimCfg", "fixed_pt"), "loihi1": ("Loihi1SimCfg", "fixed_pt")}
TEMPLATE = Path(__file__).with_name("lava_script.py")
MARKER = "# emitted-by: (snnc writes the model, target and version here)"


@dataclass(frozen=True)
class OutputSpec:
    """An output of the emitted script: a population's spikes (or, ``readout``, its v
    dequantized), reshaped to ``shape``, from step ``shift`` of Lava's run on."""

    population: str
    shape: tuple[int, ...]
    shift: int = 0
    readout: bool = False


@dataclass(frozen=True)
class PopulationView:
    """How the script reports a population: its ``shape``; the ``shift`` from which its
    probes are kept; v in source units as v / ``scale`` + ``v_reset`` (scale None: v as is)."""

    shape: tuple[int, ...]
    shift: int = 0
    scale: float | None = None
    v_reset: np.ndarray | float = 0.0


def emit(graph: Graph, options: SimOptions, out_dir: str | Path, chip: str = "loihi2"
         ) -> list[Path]:
    """Write the Lava script of a graph quantized for Loihi into ``out_dir``; it gives what
    ``target.simulate(graph, inputs, options, record=...)`` gives (aligned outputs, readout
    v, recorded v dequantized). Returns the paths written."""
    graph = graph if graph.is_flat else flatten(graph)
    net = target.lava_network(graph, options, chip)
    outputs = {name: OutputSpec(pop, tuple(shape), int(shift),
                                isinstance(graph.nodes[pop], target.READOUTS))
               for name, (pop, shape, shift) in target.outputs_of(graph, options.dt, chip).items()}
    depth = target.distances(graph, options.dt, chip)
    views = {name: _view(graph.nodes[name], depth[name]) for name in net.neurons}
    inputs = {name: tuple(graph.nodes[name].shape) for name in graph.inputs}
    always = [target.ALWAYS] if target.ALWAYS in net.inputs else []
    return emit_network(net, out_dir, outputs, options.dt, views=views, input_shapes=inputs,
                        always_on=always, dtype=options.dtype, title=f"target {chip}",
                        chip=chip)


def emit_network(net: LoihiNetwork, out_dir: str | Path,
                 outputs: Mapping[str, OutputSpec] | None = None, dt: float = 1e-3, *,
                 views: Mapping[str, PopulationView] | None = None,
                 input_shapes: Mapping[str, tuple[int, ...]] | None = None,
                 always_on: Collection[str] = (), dtype: str | None = None,
                 title: str = "", chip: str = "loihi2") -> list[Path]:
    """Write ``lava_network.py`` and ``lava_network.npz`` for ``net`` into ``out_dir``.

    outputs: by name (default: every population's spikes, shift 0, named by population);
    views: per population, its shape, probe shift and v units (default: flat, 0, as is);
    input_shapes: per input (default: its size, flat); always_on: inputs that spike every
    step (not read from the input file); dtype: what every returned array is cast to (None:
    spikes bool, u and v as Lava's integers); chip: which Lava run configuration the script
    uses (``RUN_CONFIGS``). Returns the paths written."""
    out_dir = Path(out_dir)
    given = views or {}
    views = {name: given.get(name, PopulationView((lif.size,)))
             for name, lif in net.neurons.items()}
    if outputs is None:
        outputs = {name: OutputSpec(name, (lif.size,)) for name, lif in net.neurons.items()}
    _check(net, outputs, views, input_shapes or {}, always_on)
    arrays: dict[str, np.ndarray] = {}
    if chip not in RUN_CONFIGS:
        raise GraphError(f"no Lava run configuration for chip '{chip}' "
                         f"(known: {', '.join(RUN_CONFIGS)})")
    description = {
        "dt": float(dt), "dtype": dtype, "run_config": list(RUN_CONFIGS[chip]),
        "inputs": [{"name": name, "size": int(size), "always_on": name in always_on,
                    "shape": list((input_shapes or {}).get(name, (size,)))}
                   for name, size in net.inputs.items()],
        "populations": [_population(f"lif{i}", name, net.neurons[name], views[name], arrays)
                        for i, name in enumerate(net.neurons)],
        "synapses": [_synapse(f"syn{i}", name, source, target, syn, arrays)
                     for i, (name, (source, target, syn))
                     in enumerate(zip(net.synapse_names(), net.synapses))],
        "outputs": [{"name": name, "population": o.population, "shape": list(o.shape),
                     "shift": int(o.shift), "readout": bool(o.readout)}
                    for name, o in outputs.items()],
    }
    arrays["network"] = np.array(json.dumps(description, indent=1))
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / PARAMETERS, "wb") as file:
        np.savez_compressed(file, **arrays)
    (out_dir / SCRIPT).write_text(_script(title))
    (out_dir / SCRIPT).chmod(0o755)
    return [out_dir / SCRIPT, out_dir / PARAMETERS]


def _script(title: str) -> str:
    from snnc import __version__

    text = TEMPLATE.read_text()
    line = f"Emitted by snnc {__version__}" + (f" ({title})" if title else "") + "."
    return text.replace(MARKER, line)


def _population(key: str, name: str, lif, view: PopulationView, arrays: dict) -> dict:
    """The LIF's (ATRLIF's) shared constants as JSON; per-neuron values as arrays of its size."""
    atrlif = isinstance(lif, AtrLif)
    for var in ("bias_mant", "bias_exp", *(("i", "v", "r") if atrlif else ("u", "v"))):
        arrays[f"{key}.{var}"] = np.broadcast_to(np.asarray(getattr(lif, var)), (lif.size,))
    if view.scale is not None:
        arrays[f"{key}.v_reset"] = np.broadcast_to(
            np.asarray(view.v_reset, np.float64), view.shape).reshape(-1)
    shared = ({key: float(getattr(lif, key)) for key in ATRLIF_SHARED} if atrlif else
              {"du": int(lif.du), "dv": int(lif.dv), "vth": int(lif.vth)})
    return {"key": key, "name": name, "model": "ATRLIF" if atrlif else "LIF",
            "size": int(lif.size), "shape": list(view.shape), **shared,
            "shift": int(view.shift),
            "scale": None if view.scale is None else float(view.scale)}


# an ATRLIF's per-population arguments (its decays are fractions, in Lava's own unit)
ATRLIF_SHARED = ("delta_i", "delta_v", "delta_theta", "delta_r", "theta_0", "theta_step")


def _synapse(key: str, name: str, source: str, target: str, syn: Synapse, arrays: dict
             ) -> dict:
    """The Dense-like process as JSON; weights as Lava receives them (lava.py's rules: a
    Sparse gets CSR weights and CSR delay matrices)."""
    weights = syn.weights
    if syn.sparse:
        weights = csr_matrix(weights)
        arrays.update({f"{key}.data": weights.data, f"{key}.indices": weights.indices,
                       f"{key}.indptr": weights.indptr})
    else:
        arrays[f"{key}.weights"] = np.asarray(weights)
    if syn.delays is not None:
        arrays[f"{key}.delays"] = np.asarray(syn.delays, dtype=int)
    return {"key": key, "name": name, "source": source, "target": target, "kind": syn.kind,
            "sparse": bool(syn.sparse), "shape": list(weights.shape),
            "weight_exp": int(syn.weight_exp), "num_weight_bits": int(syn.num_weight_bits),
            "sign_mode": syn.sign_mode}


def _check(net: LoihiNetwork, outputs: Mapping[str, OutputSpec],
           views: Mapping[str, PopulationView], input_shapes: Mapping[str, tuple[int, ...]],
           always_on: Collection[str]) -> None:
    for name, o in outputs.items():
        if o.population not in net.neurons:
            raise GraphError(f"output '{name}' reads '{o.population}', which is no population "
                             f"of the network ({', '.join(net.neurons)})")
        if int(np.prod(o.shape)) != net.neurons[o.population].size:
            raise GraphError(f"output '{name}' has shape {o.shape} but '{o.population}' has "
                             f"{net.neurons[o.population].size} neurons")
    for name, view in views.items():
        if int(np.prod(view.shape)) != net.neurons[name].size:
            raise GraphError(f"population '{name}' has {net.neurons[name].size} neurons, not "
                             f"shape {view.shape}")
    for name, shape in input_shapes.items():
        if name not in net.inputs or int(np.prod(shape)) != net.inputs[name]:
            raise GraphError(f"input '{name}' of shape {shape} does not match the network's "
                             f"inputs {dict(net.inputs)}")
    unknown = sorted(set(always_on) - set(net.inputs))
    if unknown:
        raise GraphError(f"always-on inputs {unknown} are not inputs of the network")


def _view(node, shift: int) -> PopulationView:
    """A population's v units as the target dequantizes them: v_int / scale + origin, where
    the origin is v_reset for spiking populations and 0 for readouts."""
    scale = float(np.asarray(node.hw["scale"]).reshape(-1)[0])
    origin = read_origin(node)  # v_reset, 0 (readouts, ATRLIF), shifted for an IF's offset
    return PopulationView(tuple(node.shape), int(shift), scale,
                          np.broadcast_to(np.asarray(origin, np.float64), node.shape).reshape(-1))
