"""store/atomic.py: private files, preserved modes, no half-written files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from awslogin.store import atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_creates_0600_file_and_0700_dirs(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    atomic.write_private(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert mode(target) == 0o600
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700


def test_write_private_replaces_loose_file_with_0600(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    atomic.write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left


def test_ensure_private_dir_tightens_loose_mode(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    atomic.ensure_private_dir(directory)
    assert mode(directory) == 0o700


def test_write_preserving_mode_keeps_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "config"
    target.write_bytes(b"x")
    os.chmod(target, 0o640)
    atomic.write_preserving_mode(target, b"y")
    assert target.read_bytes() == b"y"
    assert mode(target) == 0o640


def test_write_preserving_mode_new_file_is_0600(tmp_path: Path) -> None:
    target = tmp_path / ".aws" / "config"
    atomic.write_preserving_mode(target, b"[default]\n")
    assert mode(target) == 0o600
    assert mode(tmp_path / ".aws") == 0o700


def test_write_preserving_mode_writes_through_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "config"
    link.symlink_to(real)
    atomic.write_preserving_mode(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        atomic.write_private(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
