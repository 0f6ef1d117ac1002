"""Safe outputs: a file or directory appears complete or not at all, and snnc never deletes or
replaces what it did not write.

- A file is written to a hidden sibling and renamed onto its path; a path that exists and is not
  a regular file (a directory, a symlink, a device, a FIFO) is refused, so `-o /dev/null` or a
  symlink into another tree is never replaced.
- A directory is staged as a hidden sibling and swapped with the old one in one atomic
  ``renameat2(RENAME_EXCHANGE)`` where the kernel offers it, so a crash or SIGTERM at any moment
  leaves either the old or the new directory at the path, never neither. The old one is deleted
  only after the new one is in place.
- Staging files are removed in ``finally`` blocks; the CLI turns SIGTERM into an exception so
  they run on termination too.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OptionError


def check_output_file(path: str | Path) -> Path:
    """``path`` as a Path if snnc may write a file there: absent, or an existing regular file."""
    if str(path) in ("", "."):
        raise OptionError("output path is empty; name a file")
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(mode):
        raise OptionError(f"{path}: exists and is not a regular file ({_kind(mode)}); "
                          "snnc replaces only regular files it can rename onto")
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    path = check_output_file(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a normal file follows umask
    try:
        yield Path(tmp)
        check_output_file(path)  # still a regular file or absent after the work
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``out``; on success it takes ``out``'s place (the old
    ``out``, which the caller has checked is replaceable, is deleted only afterwards)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".staging", dir=out.parent))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700
    try:
        yield staging
        if os.path.lexists(out):
            _swap(staging, out)  # staging now holds the old directory
        else:
            os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(a: Path, b: Path) -> None:
    """Exchange two directories atomically (Linux renameat2), else by two renames through a
    backup name that is renamed back if the second rename fails."""
    if _exchange(a, b):
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{b.name}.", suffix=".old", dir=b.parent))
    os.rmdir(backup)
    os.rename(b, backup)
    try:
        os.rename(a, b)
    except BaseException:
        os.rename(backup, b)
        raise
    os.rename(backup, a)


def _exchange(a: Path, b: Path) -> bool:
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
