"""quantize: weights, decays and thresholds in a chip's number formats.

``quantize{format=chip,chip=NAME,bits=0,calibrate=false}``

- ``format``: ``chip`` takes the format from the chip model (the ``chip`` option, else the
  target's): a Loihi chip gives ``loihi``, SpiNNaker ``spinnaker``, RRAM ``rram``. ``loihi``,
  ``spinnaker`` and ``rram`` name the format directly; its widths come from the ``chip``
  option, else the target's chip when it is of that kind, else the bundled loihi1, spinnaker1
  or rram. ``int`` is a generic symmetric integer format and needs no chip.
- ``bits``: the weight width; 0 takes the chip's (formats.weight_bits). ``int`` needs it.
- ``calibrate``: with calibration input, for each matrix in execution order try the max-abs
  range and a few narrower ones (an exponent one or two lower, or for RRAM a clipping
  percentile of |w|) and keep the one whose output agrees best with the float graph, greedily.
  SpiNNaker has no candidates: its ring-buffer shift already leaves 15 bits, and a lower shift
  risks ring-buffer saturation, which the float graph cannot show.

What each format does is documented in ``quant_formats`` (int) and in the chip families'
backends (``snnc.backends.<kind>.formats``). The float parameters become the dequantized
values, so the reference simulation of the result runs the quantized network (up to the rounding of the chip's integer
state, which its backend emulates); ``hw`` holds the integer formats.

Report: format, chip, weight_bits; ``layers``: per matrix sqnr_db (None when exact), the chosen
exponent / shifts / step and the clipped weights; ``populations``: per population the decay and
threshold integers or values and their relative errors; Loihi's ``per_neuron`` (populations
whose shared parameters differ per neuron), ``unmapped`` (matrices that reach no population)
and ``shared`` (matrices that feed several); with calibrate, ``calibration``; and fidelity
(output agreement, accuracy before and after).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


from snnc.errors import OptionError
from snnc.ir import Graph, flatten

from snnc.target import Format

from .fidelity import fidelity, output_agreement
from .manager import Pass, PassContext, PassResult, chip_for
from .quant_formats import MATRICES, Setting, quantize_int

# The generic format; every chip family brings its own (``snnc.target.Family.formats``).
INT = Format("int", quantize_int, candidates=3)
INT_BITS = (2, 32)


def all_formats() -> dict[str, Format]:
    from snnc.backends import formats

    return {"int": INT, **formats()}


@dataclass(frozen=True)
class Quantize(Pass):
    name: ClassVar[str] = "quantize"
    format: str = "chip"
    chip: str = ""  # a chip model (name or TOML path); overrides the target's
    bits: int = 0
    calibrate: bool = False

    def __post_init__(self) -> None:
        if self.format != "chip" and self.format not in all_formats():
            raise OptionError(f"unknown format '{self.format}' (valid: chip, "
                              f"{', '.join(all_formats())})")
        if self.bits < 0:
            raise OptionError(f"bits must be >= 0 (0: the chip's width), got {self.bits}")
        low, high = INT_BITS
        if self.format == "int" and not low <= self.bits <= high:
            raise OptionError(f"format=int needs bits from {low} to {high} (e.g. bits=8), "
                              f"got {self.bits}")

    def run(self, graph: Graph, ctx: PassContext) -> PassResult:
        original = graph = graph if graph.is_flat else flatten(graph)
        fmt, chip = self._format_and_chip(ctx)
        setting = Setting(chip, self._bits(fmt, chip), ctx.options)
        report: dict[str, Any] = {"format": fmt.name, "chip": chip.name if chip else None,
                                  "weight_bits": setting.bits}
        if self.calibrate:
            setting, report["calibration"] = _calibrate(graph, fmt, setting, ctx)
        result = fmt.quantize(graph, setting)
        quantized = Graph(nodes={**graph.nodes, **result.nodes}, edges=graph.edges,
                          metadata=graph.metadata)
        report["layers"] = result.layers
        if result.populations:
            report["populations"] = result.populations
        report.update(result.notes)
        return PassResult(quantized, {**report, **fidelity(original, quantized, ctx)})

    def _format_and_chip(self, ctx: PassContext) -> tuple[Format, Any]:
        """The format to use and the chip model whose widths it reads (None for int)."""
        from snnc.backends import get_family
        from snnc.hw_models import load_chip

        if self.format == "int":
            return INT, None
        chip = chip_for(self.chip, ctx)
        own = get_family(chip.kind).formats if chip is not None else ()
        if self.format == "chip":
            if chip is None:
                raise OptionError("quantize{format=chip} needs a chip: compile for a hardware "
                                  "target or give chip=NAME, or choose format="
                                  + "|".join(all_formats()))
            if not own:
                raise OptionError(f"quantize has no format for chip '{chip.name}' (kind "
                                  f"{chip.kind}); formats: {', '.join(all_formats())}")
            return own[0], chip
        fmt = all_formats()[self.format]
        if fmt in own:
            return fmt, chip
        if self.chip:
            raise OptionError(f"format={self.format} does not fit chip '{chip.name}' "
                              f"(kind {chip.kind})")
        return fmt, load_chip(fmt.default_chip)

    def _bits(self, fmt: Format, chip: Any) -> int:
        if chip is None:
            return self.bits
        widest = chip.formats.weight_bits
        if widest is None:
            raise OptionError(f"chip '{chip.name}' gives no formats.weight_bits")
        if self.bits > widest:
            raise OptionError(f"chip '{chip.name}' weights have at most {widest} bits, "
                              f"got bits={self.bits}")
        return self.bits or widest


def _calibrate(graph: Graph, fmt: Format, setting: Setting, ctx: PassContext
               ) -> tuple[Setting, dict[str, Any]]:
    """Greedy per-matrix choice of the candidate range that best keeps the float outputs."""
    if ctx.calibration is None:
        raise OptionError("quantize{calibrate=true} needs calibration input (--calibration)")
    from snnc.backends import get_target

    simulate = get_target("reference").simulate
    reference = simulate(graph, ctx.calibration, ctx.options).outputs

    def agreement(trial: Setting) -> float:
        nodes = {**graph.nodes, **fmt.quantize(graph, trial).nodes}
        outputs = simulate(Graph(nodes=nodes, edges=graph.edges), ctx.calibration,
                           ctx.options).outputs
        return output_agreement(reference, outputs)

    chosen, best = {}, agreement(setting)
    for name in [k for k in graph.order if isinstance(graph.nodes[k], MATRICES)]:
        before = dict(chosen)
        for candidate in range(1, fmt.candidates):
            score = agreement(dataclasses.replace(setting, choice={**before, name: candidate}))
            if score > best:
                best, chosen = score, {**before, name: candidate}
    return (dataclasses.replace(setting, choice=chosen),
            {"choice": chosen, "output_agreement": best})
