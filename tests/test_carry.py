"""Carrying the sign-in URL: its own line, a QR code that decodes back, OSC 52, the ssh -L line."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from awslogin.login import carry

# As long as the real cross-device URL of the seed (its shape, made-up values).
URL = (
    "https://ap-northeast-1.signin.aws.amazon.com/v1/authorize?response_type=code"
    "&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"
    "&state=3f2a0c1e-8b7d-4e59-9a61-0c2d4f6b8e1a&code_challenge_method=SHA-256&scope=openid"
    "&redirect_uri=https%3A%2F%2Fap-northeast-1.signin.aws.amazon.com%2Fv1%2Fsessions"
    "%2Fconfirmation&code_challenge=Xk3vQ9mZ2pL7rT1yW8aB4cD6eF0gH5iJ-_kLmNoPqRs"
)
ESC = "\x1b"
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_TOP = {"█": True, "▀": True, "▄": False, " ": False}  # light module in the upper half?
_BOTTOM = {"█": True, "▀": False, "▄": True, " ": False}


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal, and records what was written to it."""

    def isatty(self) -> bool:
        return True


def zbarimg() -> str:
    path = shutil.which("zbarimg")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("zbarimg is required in CI (apt-get install -y zbar-tools)")
    pytest.skip("zbarimg is not installed (apt-get install -y zbar-tools)")


def qr_matrix(text: str) -> list[list[bool]]:
    """Turn the half-block drawing back into rows of modules (True: light)."""
    lines = [_SGR.sub("", line) for line in text.splitlines()]
    block_lines = [line for line in lines if line and set(line) <= set(_TOP)]
    rows: list[list[bool]] = []
    for line in block_lines:
        rows.append([_TOP[ch] for ch in line])
        rows.append([_BOTTOM[ch] for ch in line])
    return rows


def write_png(rows: list[list[bool]], path: Path, scale: int = 6) -> None:
    """A greyscale PNG of the module matrix (light 255, dark 0), `scale` pixels per module."""
    width = len(rows[0]) * scale
    raw = bytearray()
    for row in rows:
        line = b"".join((b"\xff" if light else b"\x00") * scale for light in row)
        for _ in range(scale):
            raw += b"\x00" + line  # filter type 0 per scanline
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, len(rows) * scale, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def decode(rows: list[list[bool]], tmp_path: Path) -> str:
    image = tmp_path / "qr.png"
    write_png(rows, image)
    result = subprocess.run([zbarimg(), "--raw", "-q", "-Sbinary", str(image)],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


# --- the URL line -------------------------------------------------------------------------

def test_the_url_is_alone_on_its_line() -> None:
    out = io.StringIO()
    carry.present_url(URL, out=out)
    assert out.getvalue() == URL + "\n"


def test_the_url_line_stays_alone_with_qr_and_copy() -> None:
    out = FakeTerminal()
    carry.present_url(URL, out=out, qr=True, copy=True, environ={})
    lines = _SGR.sub("", out.getvalue().replace(carry.osc52_sequence(URL, {}), "")).splitlines()
    assert lines[0] == URL
    assert lines[1] == carry.COPY_TRIED


# --- QR code ------------------------------------------------------------------------------

@pytest.mark.parametrize("terminal", [False, True], ids=["plain", "coloured"])
def test_the_qr_code_decodes_back_to_the_exact_url(tmp_path: Path, terminal: bool) -> None:
    out = FakeTerminal() if terminal else io.StringIO()
    carry.present_url(URL, out=out, qr=True, environ={})
    text = out.getvalue()
    assert text.startswith(URL + "\n")
    assert ("\x1b[" in text) is terminal  # colours only on a terminal
    rows = qr_matrix(text)
    width = len(rows[0])
    assert all(len(row) == width for row in rows)
    assert width <= 80, "must fit an 80-column terminal"
    # a quiet zone of light modules all around
    border = carry.QR_BORDER
    assert all(all(row) for row in rows[:border] + rows[-border:])
    assert all(all(row[:border]) and all(row[-border:]) for row in rows)
    assert decode(rows, tmp_path) == URL


def test_no_colour_when_no_color_is_set(tmp_path: Path) -> None:
    out = FakeTerminal()
    carry.present_url(URL, out=out, qr=True, environ={"NO_COLOR": "1"})
    assert ESC not in out.getvalue()
    assert decode(qr_matrix(out.getvalue()), tmp_path) == URL


def test_a_too_narrow_terminal_is_told_to_widen(monkeypatch) -> None:
    class Narrow(FakeTerminal):
        def fileno(self) -> int:
            return 99

    sizes = {99: os.terminal_size((40, 24))}
    monkeypatch.setattr(carry.os, "get_terminal_size", lambda fd: sizes[fd])
    out = Narrow()
    carry.present_url(URL, out=out, qr=True, environ={})
    width = len(qr_matrix(out.getvalue())[0])
    assert out.getvalue().endswith(
        f"The QR code is {width} columns wide but this terminal has 40: widen the window (or "
        "make the font smaller) and it can be scanned.\n"
    )
    sizes[99] = os.terminal_size((width, 24))
    wide = Narrow()
    carry.present_url(URL, out=wide, qr=True, environ={})
    assert "widen" not in wide.getvalue()


def test_a_broken_qr_code_would_not_decode(tmp_path: Path) -> None:
    """The decoder is really reading the drawing: wiping the finder patterns breaks it."""
    rows = qr_matrix(carry.qr_text(URL))
    for r in range(len(rows) // 2):
        rows[r] = [True] * len(rows[r])
    image = tmp_path / "broken.png"
    write_png(rows, image)
    result = subprocess.run([zbarimg(), "--raw", "-q", str(image)], capture_output=True,
                            timeout=60)
    assert result.returncode != 0
    assert URL.encode() not in result.stdout


# --- OSC 52 -------------------------------------------------------------------------------

def expected_osc52(text: str) -> str:
    return f"{ESC}]52;c;{base64.b64encode(text.encode()).decode()}\x07"


def test_osc52_plain_carries_exactly_the_base64_url() -> None:
    sequence = carry.osc52_sequence(URL, {})
    assert sequence == expected_osc52(URL)
    payload = sequence[len(f"{ESC}]52;c;"):-1]
    assert base64.b64decode(payload, validate=True).decode() == URL


def test_osc52_in_tmux_is_also_passed_through() -> None:
    sequence = carry.osc52_sequence(URL, {"TMUX": "/tmp/tmux-1000/default,123,0"})
    plain = expected_osc52(URL)
    assert sequence.startswith(plain)
    wrapped = sequence[len(plain):]
    assert wrapped.startswith(f"{ESC}Ptmux;") and wrapped.endswith(f"{ESC}\\")
    inner = wrapped[len(f"{ESC}Ptmux;"):-2]
    assert inner == plain.replace(ESC, ESC + ESC)
    assert inner.replace(ESC + ESC, ESC) == plain


def test_osc52_in_screen_is_sent_in_dcs_chunks() -> None:
    sequence = carry.osc52_sequence(URL, {"STY": "1234.pts-0.host"})
    chunks = re.findall(r"\x1bP(.*?)\x1b\\", sequence, flags=re.S)
    assert "".join(f"{ESC}P{c}{ESC}\\" for c in chunks) == sequence
    assert len(chunks) > 1 and all(len(c) <= 76 for c in chunks)
    assert "".join(chunks) == expected_osc52(URL)


def test_copy_writes_the_sequence_to_the_terminal_and_says_it_tried() -> None:
    out = FakeTerminal()
    carry.present_url(URL, out=out, copy=True, environ={"TMUX": "x"})
    assert out.getvalue() == (
        URL + "\n" + carry.osc52_sequence(URL, {"TMUX": "x"}) + carry.COPY_TRIED + "\n"
    )


def test_copy_never_puts_escapes_into_a_redirected_stream(monkeypatch) -> None:
    class Tty(FakeTerminal):
        def close(self) -> None:
            self.final = self.getvalue()
            super().close()

    written = Tty()
    opened: list[tuple] = []

    def fake_open(*args, **kwargs):
        opened.append(args)
        return written

    monkeypatch.setattr(carry, "open", fake_open, raising=False)
    out = io.StringIO()
    carry.present_url(URL, out=out, copy=True, environ={})
    assert out.getvalue() == URL + "\n" + carry.COPY_TRIED + "\n"
    assert opened and opened[0][0] == "/dev/tty"
    assert written.final == expected_osc52(URL) and written.closed


def test_copy_without_any_terminal_says_so(monkeypatch) -> None:
    def no_tty(*args, **kwargs):
        raise OSError(6, "No such device or address", "/dev/tty")

    monkeypatch.setattr(carry, "open", no_tty, raising=False)
    out = io.StringIO()
    carry.present_url(URL, out=out, copy=True, environ={})
    assert out.getvalue() == URL + "\n" + carry.COPY_IMPOSSIBLE + "\n"


# --- ssh -L -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("environ", "command"),
    [
        ({"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 22", "USER": "alice"},
         "ssh -L 53682:127.0.0.1:53682 alice@10.0.0.5"),
        ({"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 2222", "LOGNAME": "bob"},
         "ssh -L 53682:127.0.0.1:53682 -p 2222 bob@10.0.0.5"),
        ({"SSH_CONNECTION": "2001:db8::7 52144 2001:db8::5 22", "USER": "alice", "LOGNAME": "x"},
         "ssh -L 53682:127.0.0.1:53682 alice@2001:db8::5"),
        ({"SSH_CONNECTION": "::ffff:203.0.113.7 52144 ::ffff:10.0.0.5 22", "USER": "alice"},
         "ssh -L 53682:127.0.0.1:53682 alice@10.0.0.5"),
    ],
)
def test_port_forward_command_over_ssh(environ, command) -> None:
    assert carry.port_forward_command(53682, environ) == command
    hint = carry.port_forward_hint(53682, environ)
    assert hint is not None
    assert hint.splitlines()[-1] == command
    assert "--redirect-port 53682 to keep this port next time" in hint
    pinned = carry.port_forward_hint(53682, environ, pinned=True)
    assert pinned is not None and pinned.splitlines()[-1] == command
    assert "--redirect-port" not in pinned
    assert pinned.splitlines()[0].endswith("then open the URL there:")


def test_port_forward_falls_back_to_this_hostname(monkeypatch) -> None:
    monkeypatch.setattr(carry.socket, "gethostname", lambda: "devbox")
    assert carry.port_forward_command(8080, {"SSH_CONNECTION": "garbage", "USER": "al"}) == (
        "ssh -L 8080:127.0.0.1:8080 al@devbox"
    )


@pytest.mark.parametrize("environ", [{}, {"SSH_TTY": "/dev/pts/1"}, {"SSH_CONNECTION": " "}])
def test_no_port_forward_hint_outside_ssh(environ) -> None:
    assert carry.port_forward_hint(8080, environ) is None
