"""Reading answers from standard input: a whole multi-line paste, EOF, deadline, hidden echo."""

from __future__ import annotations

import io
import os
import termios
import time

import pytest

from awslogin.login.prompt import PromptTimeout, ask_yes_no, line_reader


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_reads_one_line_and_shows_the_prompt(pipe) -> None:
    r, w = pipe
    os.write(w, b"hello\n")
    out = io.StringIO()
    assert line_reader(fd=r, out=out)("Say: ") == "hello\n"
    assert out.getvalue() == "Say: "


def test_lines_arriving_together_are_one_paste(pipe) -> None:
    r, w = pipe
    os.write(w, b"abc\ndef\n ghi\n")
    assert line_reader(fd=r, out=io.StringIO())("> ") == "abc\ndef\n ghi\n"


def test_end_of_input(pipe) -> None:
    r, w = pipe
    os.close(w)
    with pytest.raises(EOFError):
        line_reader(fd=r, out=io.StringIO())("> ")


def test_last_line_without_newline_at_end_of_input(pipe) -> None:
    r, w = pipe
    os.write(w, b"tail")
    os.close(w)
    assert line_reader(fd=r, out=io.StringIO())("> ") == "tail"


def test_deadline(pipe) -> None:
    r, _ = pipe
    with pytest.raises(PromptTimeout):
        line_reader(fd=r, out=io.StringIO(), deadline=time.monotonic() + 0.2)("> ")


def test_echo_is_off_while_reading_and_restored_after(monkeypatch) -> None:
    main, follower = os.openpty()
    try:
        os.write(main, b"secret-code\n")
        before = termios.tcgetattr(follower)
        flags_while_reading = []
        real_read = os.read

        def read_and_look(fd: int, n: int) -> bytes:
            flags_while_reading.append(termios.tcgetattr(follower)[3])
            return real_read(fd, n)

        monkeypatch.setattr(os, "read", read_and_look)
        out = io.StringIO()
        answer = line_reader(fd=follower, out=out, hide=True)("Code: ")
        monkeypatch.undo()
        assert answer.strip() == "secret-code"
        assert flags_while_reading and not flags_while_reading[0] & termios.ECHO
        assert termios.tcgetattr(follower) == before  # restored
        assert out.getvalue() == "Code: \n"  # the prompt, then a newline for the hidden input
    finally:
        os.close(main)
        os.close(follower)


def test_ask_yes_no() -> None:
    answers = iter(["maybe\n", " YES \n"])
    out = io.StringIO()
    assert ask_yes_no("? ", lambda p: next(answers), out=out)
    assert 'Please enter "y" or "n"' in out.getvalue()
    assert not ask_yes_no("? ", lambda p: "n\n", out=out)

    def eof(prompt: str) -> str:
        raise EOFError

    assert not ask_yes_no("? ", eof, out=out)
