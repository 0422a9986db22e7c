"""Shared fixtures: an isolated AWS home, the real emulator as a subprocess, a real browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

AWSLOGIN = [sys.executable, "-m", "awslogin"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_LISTENING = re.compile(r"^AWS Sign-In emulator listening on (http://\S+)$")


@dataclass
class AwsHome:
    """An isolated HOME with its AWS config file and login cache directory."""

    root: Path
    config: Path
    cache_dir: Path
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsHome:
    """Point HOME, AWS_CONFIG_FILE and AWS_LOGIN_CACHE_DIRECTORY at a temporary directory.

    Every other AWS_* variable is removed so that the developer's or CI's settings never leak
    in. ``aws_home.env`` is a full environment for subprocesses.
    """
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    config = home / ".aws" / "config"
    cache_dir = home / ".aws" / "login" / "cache"
    scrub = {"BROWSER", "SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT", "DISPLAY", "WAYLAND_DISPLAY"}
    for name in list(os.environ):
        if name.startswith("AWS_") or name in scrub:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(cache_dir))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    env = dict(os.environ)
    return AwsHome(root=home, config=config, cache_dir=cache_dir, env=env)


@dataclass
class Emulator:
    """A running `awslogin emulator` subprocess."""

    url: str
    process: subprocess.Popen
    stderr_lines: list[str]
    stderr_reader: threading.Thread | None = None  # ends when the process closes stderr

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_emulator(*extra: str, env: dict[str, str] | None = None, timeout: float = 30) -> Emulator:
    """Start the emulator on a free loopback port and wait for its first line."""
    process = subprocess.Popen(
        [*AWSLOGIN, "emulator", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first: list[str] = []
    ready = threading.Event()

    def read_first() -> None:
        assert process.stdout is not None
        first.append(process.stdout.readline())
        ready.set()
        for _ in process.stdout:  # keep draining so the pipe never fills
            pass

    stderr_lines: list[str] = []

    def drain_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)

    threading.Thread(target=read_first, daemon=True).start()
    stderr_reader = threading.Thread(target=drain_stderr, daemon=True)
    stderr_reader.start()
    if not ready.wait(timeout) or not first or not _LISTENING.match(first[0].strip()):
        process.kill()
        process.wait()
        raise RuntimeError(
            f"emulator did not start: {first!r} {''.join(stderr_lines)[-2000:]}"
        )
    match = _LISTENING.match(first[0].strip())
    assert match
    return Emulator(url=match.group(1), process=process, stderr_lines=stderr_lines,
                    stderr_reader=stderr_reader)


def stop_emulator(emu: Emulator) -> None:
    if emu.process.poll() is None:
        emu.process.send_signal(signal.SIGINT)
        try:
            emu.process.wait(15)
        except subprocess.TimeoutExpired:
            emu.process.kill()
            emu.process.wait()


@pytest.fixture
def emulator_factory() -> Iterator:
    """Start emulators with chosen options; all are stopped at the end of the test."""
    started: list[Emulator] = []

    def factory(*extra: str, env: dict[str, str] | None = None) -> Emulator:
        emu = start_emulator(*extra, env=env)
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        stop_emulator(emu)


@pytest.fixture
def emulator(emulator_factory) -> Emulator:
    """A default emulator with --auto-approve (one example identity)."""
    return emulator_factory("--auto-approve")


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("chromium") is not None


def require_chromium() -> None:
    """Skip a browser test on a developer machine without chromium; in CI it must be there."""
    if chromium_available():
        return
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI (apt-get install -y chromium)")
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")


@pytest.fixture
def browser():
    """A real headless chromium driven by Playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
