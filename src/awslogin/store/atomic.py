"""Crash-safe file writes: temp file in the same directory, fsync, rename, fsync the directory.

A reader (another awslogin, botocore, the AWS CLI) sees either the old file or the new one,
never half of it, and a crash leaves at most a stray temp file, never a broken cache or config.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> None:
    """Create *path* (and missing parents) with mode 0700; tighten it when it is looser."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process won the race
            directory.mkdir(mode=PRIVATE_DIR_MODE)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, mode & ~0o077 | PRIVATE_DIR_MODE)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass
    finally:
        os.close(fd)


def _replace_with(path: Path, data: bytes, mode: int) -> None:
    """Write *data* to a temp file beside *path* with *mode*, then atomically rename it."""
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:  # pragma: no cover - Windows before Python 3.13
            os.chmod(tmp_name, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(directory)


def write_private(path: Path, data: bytes) -> None:
    """Atomically write *data* to *path* as a 0600 file (the parent directory must exist)."""
    path = Path(path)
    if not path.parent.is_dir():
        ensure_private_dir(path.parent)
    _replace_with(path, data, PRIVATE_FILE_MODE)


def write_preserving_mode(path: Path, data: bytes) -> None:
    """Atomically write *data* to *path*, keeping its mode (0600 when the file is new).

    A symlinked file (a dotfiles checkout) is written through the link, which stays in place.
    Missing parent directories are created 0700.
    """
    path = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = PRIVATE_FILE_MODE
        if not path.parent.is_dir():
            ensure_private_dir(path.parent)
    _replace_with(path, data, mode)
