"""Packages from the folders: every folder with an ``__init__.py`` under the four top-level
folders is a package of the wheel, so a new backend needs no edit here (pyproject.toml holds
everything else). The top level shows the architecture; users still ``import snnc``."""
from pathlib import Path

from setuptools import setup

ROOTS = {"snnc": "compiler", "snnc.frontends": "frontends", "snnc.backends": "backends",
         "snnc.hw_models": "hw_models"}


def packages() -> list[str]:
    found = []
    for package, folder in ROOTS.items():
        for init in sorted(Path(folder).rglob("__init__.py")):
            parts = init.parent.relative_to(folder).parts
            found.append(".".join((package, *parts)))
    return found


setup(package_dir=ROOTS, packages=packages())
