"""Write the fitted parameters of ``snnc.hw_models.calibrate`` into the ``[energy.calibrated]``
tables of ``loihi1.toml`` and ``loihi2.toml``, each with its provenance: the cases it was
fitted on, whether one case alone determines it, and its leave-one-out spread. Lines of the
table that calibration does not own (description, static power, per-event figures) are
kept as they are; the files are written atomically.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
SECTION = "[energy.calibrated]"
FIT = "fitted by snnc.hw_models.calibrate (least squares in log predicted/measured)"


def _quantity(key: str, value, unit: str, evidence: str, source: str) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    source = source.replace('"', "'")
    return (f'{key} = {{ value = {text}, unit = "{unit}", evidence = "{evidence}", '
            f'source = "{source}" }}')


def _owners_text(name: str, owners: dict, rows) -> str:
    cases = owners[name]
    alone = f"; determined by {cases[0]} alone (its leave-one-out uses the sister figure)" \
        if len(cases) == 1 else ""
    errors = [r.error for r in rows if r.case in cases]
    return (f"{FIT} on {', '.join(cases)}{alone}; leave-one-out error of those cases up to "
            f"{max(errors):.2f}x (energy_cases.md; calibration_cases.py)")


def _lines(chip: str, params: dict, owners: dict, rows, bands: dict, ranges: dict) -> list:
    """The generated lines of one chip's table."""
    def fitted(key, name, unit, scale, evidence="calibrated", note=""):
        return _quantity(key, params[name] * scale, unit, evidence,
                         note + _owners_text(name, owners, rows))

    other = "loihi2" if chip == "loihi1" else "loihi1"
    borrowed = "" if chip == "loihi1" else "Loihi 1's figure, assumed for Loihi 2: "
    kind = "calibrated" if chip == "loihi1" else "estimated"
    out = [
        fitted("management_time", "management_time", "us", 1e6,
               note="shared by Loihi 1 and 2 (x86 management and step handshake): "),
        fitted("chip_sync_time", "chip_sync_time", "us", 1e6, kind,
               note=borrowed + "per doubling of the chips in use (Frady et al. 2020); "),
        fitted("io_time_streamed", "io_time_streamed", "us", 1e6, kind,
               note=borrowed + "nengo-loihi host loop per step; "),
        fitted("io_energy_streamed", "io_energy_streamed", "uJ", 1e6, kind,
               note=borrowed + "host I/O energy per streamed step beyond running power; "),
        fitted("management_power", f"management_power_{chip}", "mW", 1e3,
               note="running power of a chip in use beyond static (management cores, "
                    f"clocks; the sister figure for {other} is fitted apart); "),
    ]
    for key, value in bands.items():
        kind, _, tail = key.partition("_")  # "energy" / "time", then "" or "streamed"
        field = f"{kind}_error" + (f"_{tail}" if tail else "")
        what = "streamed cases" if key.endswith("streamed") else "preloaded and bias cases"
        out.append(_quantity(field, round(value, 3), "1", "calibrated",
                             f"the largest leave-one-out ratio of the {what} "
                             "(snnc.hw_models.calibrate)"))
    for key, (value, unit) in ranges.items():
        out.append(_quantity(key, value, unit, "calibrated",
                             "the range of the rebuilt calibration cases "
                             "(snnc.hw_models.calibrate); a network over 4x outside is flagged"))
    return out


def ranges_of(cases) -> dict:
    rebuilt = [c for c in cases if c.events > 0]
    return {"calibrated_cores_min": (min(c.cores for c in rebuilt), "cores"),
            "calibrated_cores_max": (max(c.cores for c in rebuilt), "cores"),
            "calibrated_steps_min": (min(c.steps for c in rebuilt), "steps"),
            "calibrated_steps_max": (max(c.steps for c in rebuilt), "steps"),
            "calibrated_rate_min": (round(min(c.rate for c in rebuilt), 4), "1"),
            "calibrated_rate_max": (round(max(c.rate for c in rebuilt), 4), "1")}


def rewrite_section(text: str, lines: list[str]) -> str:
    """``text`` with the generated ``lines`` replacing their keys in ``[energy.calibrated]``."""
    start = re.search(r"^\[energy\.calibrated\]\n", text, re.M)
    end = re.search(r"^\[", text[start.end():], re.M)
    stop = start.end() + (end.start() if end else len(text) - start.end())
    keys = {line.split(" = ", 1)[0] for line in lines}
    body = [line for line in text[start.end():stop].splitlines()
            if line and line.split(" = ", 1)[0] not in keys]
    return text[:start.end()] + "\n".join(body + lines) + "\n\n" + text[stop:].lstrip("\n")


def write_chip_files(cases, params: dict, rows, bands: dict) -> list[Path]:
    from .calibrate import constrained

    owners, ranges, written = constrained(cases), ranges_of(cases), []
    for chip in ("loihi1", "loihi2"):
        path = HERE / f"{chip}.toml"
        text = rewrite_section(path.read_text(), _lines(chip, params, owners, rows, bands,
                                                        ranges))
        fd, tmp = tempfile.mkstemp(dir=HERE, suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        written.append(path)
    return written
