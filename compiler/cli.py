"""The ``snnc`` command line: inspect, compile, simulate, report, sweep, targets.

Bad input exits with code 2 and one line naming the file, node and limit; ``--debug`` shows the
traceback instead. Only the standard library loads at start-up: each command imports what it
needs when it runs (``commands.py``), so ``snnc --help`` is fast.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path

from .errors import SnncError

DEPLOYMENTS = ("streamed", "preloaded", "bias")  # Family.cost's deployment modes
MODEL_HELP = ("a .nir or .onnx file, file.py:factory returning a Norse or snnTorch module and a "
              "sample input, or a program directory written by `snnc compile`")


def build_parser() -> argparse.ArgumentParser:
    from . import commands

    parser = argparse.ArgumentParser(
        prog="snnc", description="Compile spiking neural networks for neuromorphic hardware.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--max-memory", metavar="SIZE",
                        help="most memory a command may plan to allocate, e.g. 4G or 512M "
                             "(default: $SNNC_MAX_MEMORY, else half the machine's memory); "
                             "larger models, inputs and files are refused before any work")
    parser.add_argument("--version", action="version", version=f"snnc {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = sub.add_parser("inspect", help="graph summary: nodes, shapes, parameters")
    add_model_arguments(inspect)
    inspect.set_defaults(run=commands.inspect)

    compile_ = sub.add_parser("compile", help="run a target's pass pipeline, write a program")
    add_model_arguments(compile_)
    compile_.add_argument("-t", "--target", required=True, help="target (see `snnc targets`)")
    compile_.add_argument("-p", "--pipeline", metavar="SPEC",
                          help="passes, e.g. 'normalize,prune{sparsity=0.5}' (default: the "
                               "target's pipeline)")
    compile_.add_argument("-o", "--output", required=True, type=Path, metavar="OUT/",
                          help="program directory to write")
    compile_.add_argument("--print-between-passes", action="store_true",
                          help="print the graph after every pass")
    compile_.add_argument("--time-passes", action="store_true", help="print each pass's time")
    compile_.add_argument("--deployment", choices=DEPLOYMENTS,
                          help="how inputs will reach the chip, recorded in the program for "
                               "report to price (default: the chip's own)")
    add_chips(compile_)
    add_sim_options(compile_)
    compile_.set_defaults(run=commands.compile_)

    simulate = sub.add_parser("simulate", help="run a model on an emulated target")
    add_model_arguments(simulate)
    simulate.add_argument("-t", "--target", default="reference", help="target (see `snnc targets`)")
    add_run_arguments(simulate)
    simulate.add_argument("-o", "--output", type=Path, help="write outputs and states to this .npz")
    simulate.add_argument("--record", nargs="+", default=[], metavar="NODE",
                          help="also record the state variables (v, i) of these nodes")
    add_streaming(simulate, "simulate writes each batch to OUT.npz.parts/ as it is done and "
                            "joins them into OUT.npz (-o, required) at the end")
    add_quiet(simulate)
    add_sim_options(simulate)
    simulate.set_defaults(run=commands.simulate)

    report = sub.add_parser("report", help="energy, latency, resources and fidelity per target")
    add_model_arguments(report)
    report.add_argument("-t", "--target", default="all", metavar="TARGET[,TARGET...]|all",
                        help="targets to report on (default: all)")
    add_run_arguments(report)
    report.add_argument("--energy-model", metavar="NAME",
                        help="the chip model's [energy.NAME] table to price events with "
                             "(default: the chip's own; see `snnc targets`)")
    report.add_argument("--deployment", choices=DEPLOYMENTS,
                        help="how inputs reach the chip, priced by its cost model (default: "
                             "a program's recorded one, else the chip's own)")
    report.add_argument("--format", choices=("table", "json", "markdown", "html"),
                        default="table",
                        help="html: one self-contained page with the tables and plots")
    report.add_argument("-o", "--output", type=Path, help="write the report to this file")
    add_streaming(report, "report keeps running totals in FILE.parts/ after every batch when "
                          "-o FILE is given, so --resume can continue")
    add_quiet(report)
    add_chips(report)
    add_sim_options(report)
    report.set_defaults(run=commands.report)

    sweep = sub.add_parser("sweep", help="compile, run and report every point of a grid")
    add_model_arguments(sweep)
    sweep.add_argument("--grid", required=True, metavar="KEY=V1,V2;...",
                       help="axes, e.g. 'target=loihi2,spinnaker1;quantize.bits=4,6,8;"
                            "prune.sparsity=0,0.5' (keys: target, seed, dt, device.KEY, "
                            "PASS.OPTION)")
    sweep.add_argument("-i", "--input", required=True, type=Path,
                       help=".npz with 'spikes' (and 'labels' for accuracy); one batch row is "
                            "one inference")
    sweep.add_argument("--steps", type=int, help="steps to run (default: all input steps)")
    sweep.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="local: a process pool; dask: a Dask cluster (--scheduler, else "
                            "a local one it starts)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument("--workers", type=_positive, metavar="N",
                       help="processes (default: the machine's cores, at most 4)")
    sweep.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                       help="folder of results: one file per point (a rerun skips those "
                            "done), sweep.json, sweep.csv, pareto.png")
    add_quiet(sweep)
    add_sim_options(sweep)
    sweep.set_defaults(run=commands.sweep)

    targets = sub.add_parser("targets", help="list targets and their limits")
    targets.set_defaults(run=commands.targets)
    return parser


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help=MODEL_HELP)
    parser.add_argument("--calibration", type=Path, metavar="FILE.npz",
                        help="'inputs' (N, *input_shape) for ONNX conversion; 'spikes' "
                             "(steps, batch, *input_shape) and 'labels' for data-driven passes")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """What `simulate` and `report` run: the input, how many steps, the pipeline."""
    parser.add_argument("-i", "--input", required=True, type=Path,
                        help=".npz with 'spikes' shaped (steps, [batch,] *input_shape), or a "
                             "NIR data file; for `report`, one batch row is one inference")
    parser.add_argument("--steps", type=int, help="steps to run (default: all input steps)")
    parser.add_argument("-p", "--pipeline", metavar="SPEC",
                        help="passes to compile with first (default: each target's pipeline; "
                             "none for a program directory)")
    parser.add_argument("--trials", type=_positive, default=1, metavar="K",
                        help="Monte Carlo: run a stochastic target K times, seeds S..S+K-1, "
                             "and give the spread (default 1)")


def add_streaming(parser: argparse.ArgumentParser, writes: str) -> None:
    """Streaming over a data set larger than memory (``snnc.inputs.Batches``)."""
    parser.add_argument("--batch-size", type=_positive, metavar="N",
                        help="stream INPUT (an .npz, or a folder of .npz shards taken in name "
                             "order) N batch rows at a time: memory holds one batch, whatever "
                             f"the number of samples; {writes}")
    parser.add_argument("--resume", action="store_true",
                        help="with --batch-size: continue an interrupted run after its last "
                             "completed batch (its parts folder must come from the same "
                             "model, input and options)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress and no stage times on stderr")


def add_chips(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chips", type=int, metavar="N",
                        help="chips on the board (default: as many as the chip model allows)")


def add_sim_options(parser: argparse.ArgumentParser) -> None:
    from .options import DTYPES, INTEGRATORS, RESETS, SimOptions, parse_device

    default = SimOptions()
    parser.add_argument("--dt", type=float,
                        help=f"timestep in seconds (default: the model's own, else {default.dt:g})")
    parser.add_argument("--integrator", choices=INTEGRATORS,
                        help=f"neuron ODE integrator (default {default.integrator})")
    parser.add_argument("--reset", choices=RESETS,
                        help=f"membrane reset after a spike, for neurons without their own "
                             f"(default {default.reset})")
    parser.add_argument("--dtype", choices=DTYPES,
                        help=f"arithmetic of float simulation (default {default.dtype})")
    parser.add_argument("--seed", type=int, metavar="S",
                        help=f"seed of an emulated chip's random draws (default {default.seed})")
    parser.add_argument("--device", action="append", type=parse_device, metavar="KEY=VALUE",
                        help="override a device or periphery setting of the emulated chip "
                             "(repeatable; see `snnc targets` for each target's keys)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class Terminated(BaseException):
    """SIGTERM, raised as an exception so that ``finally`` blocks remove staging files."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug:  # frameworks warn about their own deprecations; not the user's concern
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if args.max_memory is not None:
            _set_memory_limit(args.max_memory)
        args.run(args)
    except KeyboardInterrupt:  # the shell's convention: 128 + SIGINT
        return _fail(args, "interrupted", 128 + signal.SIGINT)
    except Terminated:
        return _fail(args, "terminated", 128 + signal.SIGTERM)
    except SnncError as error:
        return _fail(args, str(error), 2)
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # unwritable output, unreadable input: the user's to fix
        return _fail(args, f"{error.filename or ''}: {error.strerror or error}".lstrip(": "), 2)
    except Exception as error:  # a bug in snnc, not in the input
        return _fail(args, f"internal error: {type(error).__name__}: {error} "
                           "(run with --debug for the traceback)", 1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _set_memory_limit(size: str) -> None:
    from .ir.shapes import MAX_MEMORY_VARIABLE, memory_limit

    os.environ[MAX_MEMORY_VARIABLE] = size
    try:
        memory_limit()
    except SnncError as error:  # named after the variable; the user gave the option
        raise type(error)(str(error).replace(f"{MAX_MEMORY_VARIABLE}=", "--max-memory ")) \
            from None


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
