"""Asking the person at the terminal: the pasted code, yes/no, a region.

`line_reader` reads one answer from standard input, giving up at a deadline. For the code it
turns terminal echo off (the code is never shown back) and takes in the rest of a paste that
arrives as several lines at once, so a code wrapped over lines still reads as one answer.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TextIO

# After the first line, further lines already on their way belong to the same paste.
PASTE_GRACE = 0.05
MAX_ANSWER_BYTES = 65536


class PromptTimeout(Exception):
    """The deadline passed while waiting for an answer."""


@contextmanager
def _echo_off(fd: int, hide: bool):
    """Turn terminal echo off (keeping line editing) while reading, as getpass does."""
    saved = None
    if hide and os.isatty(fd):
        try:
            import termios

            saved = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~termios.ECHO
            # TCSADRAIN, not TCSAFLUSH: a paste already typed ahead must not be lost
            termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
        except (ImportError, OSError):
            saved = None
    try:
        yield saved is not None
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _wait_readable(fd: int, timeout: float) -> bool:
    readable, _, _ = select.select([fd], [], [], max(timeout, 0))
    return bool(readable)


def line_reader(
    *,
    deadline: float | None = None,
    hide: bool = False,
    out: TextIO | None = None,
    fd: int = 0,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[str], str]:
    """Return ``read(prompt) -> answer`` reading file descriptor *fd* (standard input).

    Raises `EOFError` at end of input, `PromptTimeout` when *deadline* (a *clock* time)
    passes, `KeyboardInterrupt` on Ctrl-C (the terminal is restored first).
    """

    def read(prompt: str) -> str:
        stream = out if out is not None else sys.stderr
        with _echo_off(fd, hide) as hidden:
            # echo goes off before the prompt shows, so nothing typed after it is echoed
            stream.write(prompt)
            stream.flush()
            try:
                return _read_answer(fd, deadline, clock)
            finally:
                if hidden:
                    stream.write("\n")
                    stream.flush()

    return read


def _read_answer(fd: int, deadline: float | None, clock: Callable[[], float]) -> str:
    data = b""
    while b"\n" not in data:
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            raise PromptTimeout()
        if not _wait_readable(fd, 1.0 if remaining is None else min(remaining, 1.0)):
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            if not data:
                raise EOFError()
            break
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            break
    else:
        # the rest of a multi-line paste is already in the terminal's buffer
        while len(data) <= MAX_ANSWER_BYTES and _wait_readable(fd, PASTE_GRACE):
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace")


def ask_yes_no(question: str, read: Callable[[str], str], *, out: TextIO) -> bool:
    """Ask until the answer is y/yes or n/no; end of input counts as no."""
    while True:
        try:
            answer = read(question).strip().lower()
        except EOFError:
            return False
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        out.write('Invalid response. Please enter "y" or "n"\n')
        out.flush()
