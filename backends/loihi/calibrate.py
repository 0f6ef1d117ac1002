"""``python -m snnc.backends.loihi.calibrate [--dry-run]``: rebuild every published Loihi case
on this backend (``calibration_cases``) and fit, print and write the structured cost model
(``snnc.hw_models.calibrate``, whose doc says how)."""
from __future__ import annotations

from typing import Optional

from snnc.hw_models import calibrate

from .calibration_cases import all_cases


def main(argv: Optional[list[str]] = None) -> int:
    return calibrate.main(argv, all_cases())


if __name__ == "__main__":
    raise SystemExit(main())
