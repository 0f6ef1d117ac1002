"""The ``snnc`` command line: inspect, simulate, targets.

Bad input exits with code 2 and one line naming the file, node and limit; ``--debug`` shows the
traceback instead. Only numpy and the standard library load at start-up: every command imports
what it needs when it runs, so ``snnc --help`` is fast.
"""
from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from pathlib import Path

from .errors import SnncError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snnc", description="Compile spiking neural networks for neuromorphic hardware.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"snnc {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = commands.add_parser("inspect", help="graph summary: nodes, shapes, parameters")
    add_model_arguments(inspect)
    inspect.set_defaults(run=cmd_inspect)

    simulate = commands.add_parser("simulate", help="run a model on an emulated target")
    add_model_arguments(simulate)
    simulate.add_argument("-t", "--target", default="reference", help="target (see `snnc targets`)")
    simulate.add_argument("-i", "--input", required=True, type=Path,
                          help=".npz with 'spikes' shaped (steps, [batch,] *input_shape), "
                               "or a NIR data file")
    simulate.add_argument("--steps", type=int, help="steps to run (default: all input steps)")
    simulate.add_argument("-o", "--output", type=Path, help="write outputs and states to this .npz")
    simulate.add_argument("--record", nargs="+", default=[], metavar="NODE",
                          help="also record the state variables (v, i) of these nodes")
    add_compile_options(simulate)
    simulate.set_defaults(run=cmd_simulate)

    targets = commands.add_parser("targets", help="list targets and their limits")
    targets.set_defaults(run=cmd_targets)
    return parser


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a .nir or .onnx file, or file.py:factory returning a "
                                      "Norse or snnTorch module and a sample input")
    parser.add_argument("--calibration", type=Path, metavar="FILE.npz",
                        help="inputs (N, *input_shape) for ONNX conversion's threshold balancing")


def load(args: argparse.Namespace):
    from snnc.frontends import load_model

    from .inputs import load_calibration

    calibration = load_calibration(args.calibration) if args.calibration else None
    return load_model(args.model, calibration)


def add_compile_options(parser: argparse.ArgumentParser) -> None:
    from .options import DTYPES, INTEGRATORS, RESETS, SimOptions

    default = SimOptions()
    parser.add_argument("--dt", type=float,
                        help=f"timestep in seconds (default: the model's own, else {default.dt:g})")
    parser.add_argument("--integrator", choices=INTEGRATORS, default=default.integrator,
                        help=f"neuron ODE integrator (default {default.integrator})")
    parser.add_argument("--reset", choices=RESETS, default=default.reset,
                        help=f"membrane reset after a spike (default {default.reset})")
    parser.add_argument("--dtype", choices=DTYPES, default=default.dtype,
                        help=f"arithmetic of float simulation (default {default.dtype})")


def options_from(args: argparse.Namespace, graph):
    """Options from the command line; dt falls back to the one the frontend recorded."""
    from .options import SimOptions

    dt = args.dt if args.dt is not None else float(graph.metadata.get("dt", SimOptions.dt))
    return SimOptions(dt=dt, integrator=args.integrator, reset=args.reset, dtype=args.dtype)


def cmd_inspect(args: argparse.Namespace) -> None:
    from .ir.text import format_graph

    print(format_graph(load(args), Path(args.model).name))


def cmd_simulate(args: argparse.Namespace) -> None:
    from snnc.backends import get_target

    from .inputs import load_spikes
    from .results import save_recording, summarize

    target = get_target(args.target)
    graph = load(args)
    options = options_from(args, graph)
    inputs = load_spikes(args.input, graph, options.dt, args.steps)
    start = time.perf_counter()
    recording = target.simulate(graph, inputs, options, record=args.record)
    elapsed = time.perf_counter() - start
    print(summarize(graph, recording, options, f"{Path(args.model).name} on {args.target}", elapsed))
    if args.output:
        save_recording(recording, options, args.output)
        print(f"wrote {args.output}")


def cmd_targets(args: argparse.Namespace) -> None:
    from snnc.backends import TARGETS, get_target

    for name in TARGETS:
        target = get_target(name)
        print(f"{name:<12} {target.DESCRIPTION}")
        print(f"{'':<12} nodes: {', '.join(target.SUPPORTED)}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug:  # frameworks warn about their own deprecations; not the user's concern
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        args.run(args)
    except SnncError as error:
        return _fail(args, str(error), 2)
    except OSError as error:  # unwritable output, unreadable input: the user's to fix
        return _fail(args, f"{error.filename or ''}: {error.strerror or error}".lstrip(": "), 2)
    except Exception as error:  # a bug in snnc, not in the input
        return _fail(args, f"internal error: {type(error).__name__}: {error} "
                           "(run with --debug for the traceback)", 1)
    return 0


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if args.debug:
        traceback.print_exc()
    print(f"snnc: error: {message}", file=sys.stderr)
    return code


def _version() -> str:
    from . import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
