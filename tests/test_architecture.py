"""The layout is the architecture: dependencies point one way, and every package is shipped.

- ``compiler/`` and ``hw_models/`` never import a backend; they reach targets and chip
  families only through the registry (``snnc.backends``: get_target, get_family, ...).
- The wheel holds every package folder (setup.py finds them; a new backend needs no edit).
"""
import ast
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = {"get_target", "get_family", "formats", "target_names", "family_kinds", "register",
            "recording_types"}
FOLDERS = {"compiler": "snnc", "frontends": "snnc/frontends", "backends": "snnc/backends",
           "hw_models": "snnc/hw_models"}


def imports(path: Path, folder: str):
    """(module, names) of every import in a file; relative imports resolved to snnc names."""
    prefix = FOLDERS[folder].replace("/", ".")
    package = ".".join([prefix, *path.relative_to(ROOT / folder).parent.parts])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # from ..x import y: up level - 1 packages from this one
                parts = package.split(".")
                module = ".".join([*parts[:len(parts) - node.level + 1], module]).rstrip(".")
            yield module, tuple(alias.name for alias in node.names)


@pytest.mark.parametrize("folder", ["compiler", "hw_models"])
def test_compiler_and_hw_models_reach_backends_only_through_the_registry(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module, names in imports(path, folder):
            if module.startswith("snnc.backends."):
                bad.append(f"{path.relative_to(ROOT)}: imports {module}")
            elif module == "snnc.backends" and set(names) - REGISTRY:
                bad.append(f"{path.relative_to(ROOT)}: imports {set(names) - REGISTRY} from "
                           "snnc.backends (not the registry)")
    assert not bad, "\n".join(bad)


def test_the_wheel_holds_every_package_folder(tmp_path):
    source = tmp_path / "src"
    for name in (*FOLDERS, "setup.py", "pyproject.toml", "README.md"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    wheel, = (tmp_path / "dist").glob("snnc-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = [f"{folder}/{init.relative_to(ROOT / folder)}"
               for folder, prefix in FOLDERS.items()
               for init in (ROOT / folder).rglob("__init__.py")
               if f"{prefix}/{init.relative_to(ROOT / folder)}" not in shipped]
    assert not missing, f"package folders left out of the wheel: {missing}"
    tomls = {p.name for p in (ROOT / "hw_models").glob("*.toml")}
    assert tomls <= {Path(name).name for name in shipped if name.startswith("snnc/hw_models/")}


UNSAFE = re.compile(r"\bpickle\b|\bdill\b|torch\.load\(|allow_pickle\s*=\s*True|\beval\(|\bexec\(")


def test_no_untrusted_data_is_unpickled_or_evaluated():
    """Model files, inputs and program directories are HDF5, .npz and JSON read as data:
    nothing in snnc unpickles, evaluates or executes what a file holds (a Python factory runs
    only when the user names one as MODEL), and every np.load refuses pickled arrays."""
    bad = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            bad += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in UNSAFE.finditer(text)]
            loads = re.findall(r"np\.load\([^)]*\)", text)
            bad += [f"{path.relative_to(ROOT)}: {call}" for call in loads
                    if "allow_pickle=False" not in call]
    assert not bad, "\n".join(bad)
