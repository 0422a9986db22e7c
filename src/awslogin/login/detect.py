"""Choosing the sign-in flow when the user gave neither `--remote` nor `--no-remote`.

Same-device (a browser on this machine, the callback on 127.0.0.1) is the easy flow when it can
work; cross-device (open the URL anywhere, paste the code back) is the one that works over SSH.
`choose_flow` decides from the environment only, opens nothing, and explains itself in one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Browsers that webbrowser may find but that run inside the terminal itself: opening one of
# them in the user's SSH session is not "a usable local browser".
_CONSOLE_BROWSERS = frozenset({"www-browser", "links", "elinks", "lynx", "w3m", "links2"})

_SSH_VARIABLES = ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT")
_DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")

_FORCE_REMOTE = "use --remote to sign in from another device instead"
_FORCE_LOCAL = "use --no-remote to use a browser on this machine instead"


@dataclass(frozen=True)
class FlowChoice:
    """The flow chosen (`remote`: cross-device), the one line telling the user why, and
    whether a same-device login should try to open a browser here (`open_browser`)."""

    remote: bool
    reason: str
    open_browser: bool = True


def graphical_browser_available() -> bool:
    """True when Python's `webbrowser` finds a graphical browser; opens nothing.

    `webbrowser` registers console browsers (lynx, w3m) even without a display; those do not
    count, since they would take over the user's terminal instead of showing a sign-in page.
    """
    import webbrowser

    try:
        found = webbrowser.get()
    except webbrowser.Error:
        return False
    name = (getattr(found, "name", "") or "").rsplit("/", 1)[-1]
    return name not in _CONSOLE_BROWSERS


def choose_flow(
    environ: Mapping[str, str],
    *,
    stdin_isatty: bool,
    browser_available: Callable[[], bool] | None = None,
    platform: str | None = None,
) -> FlowChoice:
    """Decide between same-device and cross-device sign-in, first matching rule wins.

    1. ``$BROWSER`` is set: same-device. VS Code's remote terminals set it (to a helper that
       opens the page on the user's own machine) *and* run over SSH, so it beats rule 2.
    2. An SSH session (``SSH_CONNECTION``, ``SSH_TTY`` or ``SSH_CLIENT``): cross-device, as a
       browser opened here would be on the wrong machine (and its callback unreachable).
    3. macOS or Windows: same-device (they always have a browser to open).
    4. A display (``DISPLAY``/``WAYLAND_DISPLAY``) where `webbrowser` finds a graphical browser:
       same-device.
    5. Otherwise (a headless host, or no browser): cross-device, unless standard input is not a
       terminal: then nobody can paste a code, so same-device is chosen and the URL is printed
       for a browser that reaches this machine's loopback (e.g. through a forwarded port).

    ``browser_available`` defaults to `graphical_browser_available`; ``platform`` to
    ``sys.platform`` (both replaceable in tests). Neither rule 1 nor rule 2 consult them.
    """
    platform = sys.platform if platform is None else platform
    check = graphical_browser_available if browser_available is None else browser_available

    if environ.get("BROWSER", "").strip():
        return _local("$BROWSER is set")
    ssh = next((name for name in _SSH_VARIABLES if environ.get(name, "").strip()), None)
    if ssh is not None:
        return _remote(f"this is an SSH session: ${ssh} is set")
    if platform == "darwin":
        return _local("this is macOS")
    if platform.startswith(("win", "cygwin", "msys")):
        return _local("this is Windows")
    display = next((name for name in _DISPLAY_VARIABLES if environ.get(name, "").strip()), None)
    if display is not None and check():
        return _local(f"a web browser was found for ${display}")
    why = "no web browser was found" if display else "this machine has no display"
    if not stdin_isatty:
        return FlowChoice(
            remote=False,
            open_browser=False,  # there is none to open: print the URL, as --no-browser does
            reason=f"Printing the sign-in URL for a browser that can reach this machine ({why}, "
            "and standard input is not a terminal to paste a code into); "
            "use --remote to paste a code instead.",
        )
    return _remote(why)


def _local(why: str) -> FlowChoice:
    return FlowChoice(
        remote=False, reason=f"Signing in with a browser on this machine ({why}); {_FORCE_REMOTE}."
    )


def _remote(why: str) -> FlowChoice:
    return FlowChoice(
        remote=True, reason=f"Signing in from another device ({why}); {_FORCE_LOCAL}."
    )


def stdin_isatty() -> bool:
    """Whether a person can type at standard input."""
    try:
        return os.isatty(0)
    except OSError:
        return False


def choose(args: Any, environ: Mapping[str, str], out: Any) -> FlowChoice:
    """The flow for `login` and `exec --ephemeral`: --remote/--no-remote, else what the
    options imply (--no-browser/--redirect-port mean the callback port), else detection; says
    on *out* what it chose when it had to choose. ``open_browser`` is False with --no-browser
    and when detection found no browser to open."""
    wanted = not args.no_browser
    if args.remote is not None:
        return FlowChoice(remote=bool(args.remote), reason="", open_browser=wanted)
    if args.no_browser or args.redirect_port is not None:
        given = "--no-browser" if args.no_browser else "--redirect-port"
        reason = (
            f"Signing in through this machine's callback port ({given} was given); "
            "use --remote to paste a code instead."
        )
        out.write(reason + "\n")
        return FlowChoice(remote=False, reason=reason, open_browser=wanted)
    choice = choose_flow(environ, stdin_isatty=stdin_isatty())
    out.write(choice.reason + "\n")
    return choice


def check_flow_flags(args: Any) -> None:
    """Refuse flags that cannot go together, before anything else happens."""
    if args.remote is True and args.redirect_port is not None:
        from awslogin.errors import UsageError

        raise UsageError(
            "--redirect-port sets the port of this machine's callback, which the cross-device "
            "flow (--remote) does not use. Drop one of the two."
        )
