"""Choosing the sign-in flow from the environment (issue 5): a table of situations."""

from __future__ import annotations

import pytest

from awslogin.login.detect import FlowChoice, choose_flow, graphical_browser_available

SSH = {"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 22", "SSH_TTY": "/dev/pts/3"}
VSCODE_REMOTE = {
    **SSH,
    "BROWSER": "/home/alice/.vscode-server/bin/abc/helpers/browser.sh",
    "TERM_PROGRAM": "vscode",
}
LOCAL = "Signing in with a browser on this machine"
REMOTE = "Signing in from another device"
TO_REMOTE = "use --remote to sign in from another device instead."
TO_LOCAL = "use --no-remote to use a browser on this machine instead."


def never() -> bool:
    raise AssertionError("the browser check must not run here")


def yes() -> bool:
    return True


def no() -> bool:
    return False


CASES = [
    # (id, environ, platform, stdin is a tty, browser found, remote?, exact reason)
    ("browser-variable", {"BROWSER": "firefox"}, "linux", True, never, False,
     f"{LOCAL} ($BROWSER is set); {TO_REMOTE}"),
    ("vscode-remote-over-ssh", VSCODE_REMOTE, "linux", True, never, False,
     f"{LOCAL} ($BROWSER is set); {TO_REMOTE}"),
    ("ssh-connection", {"SSH_CONNECTION": SSH["SSH_CONNECTION"]}, "linux", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CONNECTION is set); {TO_LOCAL}"),
    ("ssh-tty-only", {"SSH_TTY": "/dev/pts/0"}, "linux", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_TTY is set); {TO_LOCAL}"),
    ("ssh-client-only", {"SSH_CLIENT": "203.0.113.7 52144 22"}, "linux", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CLIENT is set); {TO_LOCAL}"),
    ("ssh-with-x11-forwarding", {**SSH, "DISPLAY": "localhost:10.0"}, "linux", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CONNECTION is set); {TO_LOCAL}"),
    ("ssh-into-a-mac", SSH, "darwin", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CONNECTION is set); {TO_LOCAL}"),
    ("ssh-without-terminal", SSH, "linux", False, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CONNECTION is set); {TO_LOCAL}"),
    ("empty-browser-variable-over-ssh", {**SSH, "BROWSER": " "}, "linux", True, never, True,
     f"{REMOTE} (this is an SSH session: $SSH_CONNECTION is set); {TO_LOCAL}"),
    ("macos", {}, "darwin", True, never, False, f"{LOCAL} (this is macOS); {TO_REMOTE}"),
    ("windows", {}, "win32", True, never, False, f"{LOCAL} (this is Windows); {TO_REMOTE}"),
    ("linux-desktop-x11", {"DISPLAY": ":0"}, "linux", True, yes, False,
     f"{LOCAL} (a web browser was found for $DISPLAY); {TO_REMOTE}"),
    ("linux-desktop-wayland", {"WAYLAND_DISPLAY": "wayland-0"}, "linux", True, yes, False,
     f"{LOCAL} (a web browser was found for $WAYLAND_DISPLAY); {TO_REMOTE}"),
    ("display-but-no-browser", {"DISPLAY": ":0"}, "linux", True, no, True,
     f"{REMOTE} (no web browser was found); {TO_LOCAL}"),
    ("headless-linux", {}, "linux", True, never, True,
     f"{REMOTE} (this machine has no display); {TO_LOCAL}"),
    ("headless-freebsd", {}, "freebsd14", True, never, True,
     f"{REMOTE} (this machine has no display); {TO_LOCAL}"),
    ("headless-without-terminal", {}, "linux", False, never, False,
     "Printing the sign-in URL for a browser that can reach this machine (this machine has no "
     "display, and standard input is not a terminal to paste a code into); use --remote to "
     "paste a code instead."),
]


@pytest.mark.parametrize(
    ("environ", "platform", "isatty", "browser", "remote", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_flow_choice_table(environ, platform, isatty, browser, remote, reason) -> None:
    choice = choose_flow(environ, stdin_isatty=isatty, browser_available=browser,
                         platform=platform)
    # a browser is tried wherever same-device was chosen because one should be there
    open_browser = not reason.startswith("Printing the sign-in URL")
    assert choice == FlowChoice(remote=remote, reason=reason, open_browser=open_browser)
    assert "\n" not in choice.reason
    assert ("--no-remote" if remote else "--remote") in choice.reason


def test_the_default_browser_check_opens_nothing_and_ignores_console_browsers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import webbrowser

    class Console(webbrowser.GenericBrowser):
        def open(self, *args, **kwargs):  # pragma: no cover - must never be called
            raise AssertionError("opened a browser")

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Console("lynx"))
    assert graphical_browser_available() is False
    monkeypatch.setattr(webbrowser, "get", lambda using=None: Console("/usr/bin/chromium"))
    assert graphical_browser_available() is True

    def none(using=None):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", none)
    assert graphical_browser_available() is False
    choice = choose_flow({"DISPLAY": ":0"}, stdin_isatty=True, platform="linux")
    assert choice.remote is True


def test_the_default_platform_is_this_machine() -> None:
    # On the Linux CI host, with no display and no SSH, the default rules pick cross-device.
    import sys

    if sys.platform != "linux":
        pytest.skip("checks the Linux defaults")
    assert choose_flow({}, stdin_isatty=True).remote is True


def test_headless_without_a_terminal_opens_no_browser() -> None:
    choice = choose_flow({}, stdin_isatty=False, browser_available=never, platform="linux")
    assert choice.remote is False and choice.open_browser is False
