"""Carrying the sign-in URL from a remote terminal to the user's browser.

Three ways, all optional but the first: the URL alone on its own line (so a terminal that wraps
it still lets a triple-click or a URL detector take it whole), a terminal QR code for a phone
(`--qr`, drawn with segno's encoder), and the user's local clipboard through the terminal
(`--copy`, OSC 52, passed through tmux and GNU screen). Over SSH, `port_forward_hint` gives the
exact `ssh -L` line that lets the laptop's browser reach this machine's callback port.
"""

from __future__ import annotations

import base64
import os
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

QR_BORDER = 4  # quiet zone, in modules: what ISO/IEC 18004 asks for

# Half-block characters for two module rows per text line. Light modules are drawn (the
# terminal's foreground), dark ones left blank (its background): right on the usual dark
# terminal, and the colours below make it right on a light one too.
_HALF_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
_LIGHT_ON_DARK = "\x1b[97;40m"
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_RESET = "\x1b[0m"

COPY_TRIED = (
    "Tried to copy the URL to your clipboard through the terminal (OSC 52); "
    "if your terminal doesn't support it, copy the line above."
)
COPY_IMPOSSIBLE = "Could not copy the URL: there is no terminal to send it to; copy the line above."

_SCREEN_CHUNK = 76  # GNU screen truncates long DCS strings; send the sequence in pieces


def present_url(
    url: str,
    *,
    out: TextIO,
    qr: bool = False,
    copy: bool = False,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Write *url* alone on its own line, then the optional clipboard note and QR code.

    The URL line has no indentation and no trailing text. With ``copy``, the OSC 52 sequence
    goes to the terminal: *out* when it is one, else ``/dev/tty`` (so that a redirected stdout
    never receives escape sequences); with no terminal at all, nothing is sent and the note
    says so. With ``qr``, a QR code of the URL follows (colours only when *out* is a terminal
    and ``NO_COLOR`` is unset).
    """
    env = os.environ if environ is None else environ
    out.write(url + "\n")
    if copy:
        sent = send_to_terminal(osc52_sequence(url, env), out)
        out.write((COPY_TRIED if sent else COPY_IMPOSSIBLE) + "\n")
    if qr:
        colour = _isatty(out) and not env.get("NO_COLOR")
        drawing = qr_text(url, colour=colour)
        out.write("Or scan this QR code with your phone:\n")
        out.write(drawing)
        width = len(_SGR.sub("", drawing.split("\n", 1)[0]))
        columns = _columns(out)
        if columns is not None and columns < width:
            out.write(
                f"The QR code is {width} columns wide but this terminal has {columns}: widen "
                "the window (or make the font smaller) and it can be scanned.\n"
            )
    out.flush()


def qr_text(data: str, *, colour: bool = False, border: int = QR_BORDER) -> str:
    """A QR code of *data* as text, two module rows per line, light modules as blocks."""
    import segno

    code = segno.make(data, error="l", micro=False)
    rows = [[not dark for dark in row] for row in code.matrix_iter(scale=1, border=border)]
    if len(rows) % 2:
        rows.append([True] * len(rows[0]))  # a light row below: more quiet zone, never less
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        line = "".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True))
        lines.append(f"{_LIGHT_ON_DARK}{line}{_RESET}" if colour else line)
    return "\n".join(lines) + "\n"


def osc52_sequence(text: str, environ: Mapping[str, str] | None = None) -> str:
    """The escape sequence asking the terminal to put *text* on the clipboard (OSC 52).

    Inside tmux (``$TMUX``) the plain sequence is sent (tmux takes it with `set-clipboard on`)
    followed by a passthrough copy (``ESC P tmux; ... ESC \\`` with every ESC doubled, used
    with `allow-passthrough on`). Inside GNU screen (``$STY``) it is cut into DCS chunks that
    screen hands to the outer terminal.
    """
    env = os.environ if environ is None else environ
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    plain = f"\x1b]52;c;{payload}\x07"
    if env.get("TMUX"):
        return plain + "\x1bPtmux;" + plain.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    if env.get("STY"):
        chunks = [plain[i : i + _SCREEN_CHUNK] for i in range(0, len(plain), _SCREEN_CHUNK)]
        return "".join(f"\x1bP{chunk}\x1b\\" for chunk in chunks)
    return plain


def send_to_terminal(sequence: str, out: TextIO) -> bool:
    """Write an escape sequence to the terminal (*out* if a tty, else /dev/tty); False if none."""
    with _terminal(out) as tty:
        if tty is None:
            return False
        tty.write(sequence)
        tty.flush()
        return True


@contextmanager
def _terminal(out: TextIO) -> Iterator[TextIO | None]:
    if _isatty(out):
        yield out
        return
    try:
        tty = open("/dev/tty", "w", encoding="ascii")  # noqa: SIM115
    except OSError:
        yield None
        return
    try:
        yield tty
    finally:
        tty.close()


def _columns(stream: TextIO) -> int | None:
    """The terminal's width when *stream* is a terminal (None otherwise or when unknown)."""
    if not _isatty(stream):
        return None
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, ValueError, OSError):
        return None


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def port_forward_command(port: int, environ: Mapping[str, str] | None = None) -> str | None:
    """The `ssh -L PORT:127.0.0.1:PORT USER@HOST` line to run on the laptop, or None.

    Only over SSH (``$SSH_CONNECTION``). HOST is the address the user's ssh connected to (the
    third field of ``$SSH_CONNECTION``; this machine's name when that is unusable), with
    ``-p`` when sshd listens on a port other than 22. USER is ``$USER`` or ``$LOGNAME``.
    """
    env = os.environ if environ is None else environ
    connection = env.get("SSH_CONNECTION", "").split()
    if not connection:
        return None
    host, ssh_port = _server_address(connection)
    user = env.get("USER") or env.get("LOGNAME") or ""
    target = f"{user}@{host}" if user else host
    port_option = f" -p {ssh_port}" if ssh_port not in ("", "22") else ""
    return f"ssh -L {port}:127.0.0.1:{port}{port_option} {target}"


def port_forward_hint(
    port: int, environ: Mapping[str, str] | None = None, *, pinned: bool = False
) -> str | None:
    """Over SSH, the lines telling the user to forward the callback port; else None.

    The last line is the `ssh -L` command alone (see `port_forward_command`), so it can be
    copied whole; the line before says to open the URL on the laptop once it runs, and, unless
    the port was already *pinned* with ``--redirect-port``, that ``--redirect-port`` keeps the
    same port (and so the same command) next time.
    """
    command = port_forward_command(port, environ)
    if command is None:
        return None
    keep = "" if pinned else f" (use --redirect-port {port} to keep this port next time)"
    return (
        "To sign in with your laptop's browser, forward the callback port: run this on your "
        f"laptop, then open the URL there{keep}:\n{command}"
    )


def _server_address(fields: list[str]) -> tuple[str, str]:
    if len(fields) >= 4 and fields[2]:
        host = fields[2]
        if host.lower().startswith("::ffff:") and "." in host:
            host = host[7:]  # an IPv4 address seen through an IPv6 socket
        return host, fields[3]
    return socket.gethostname(), ""
