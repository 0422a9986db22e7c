"""Logging in from a remote host (issue 5), the real CLI in a pseudo-terminal, the real emulator.

- Over SSH with `--no-browser`: the exact `ssh -L` line for the laptop, then the login finishes
  when the (forwarded) browser reaches the callback.
- The whole cross-device flow, chosen automatically because of $SSH_CONNECTION, in chromium:
  open the printed URL, approve, read the code off the page, type it into the CLI's terminal.
- The same with the URL taken from the terminal QR code (the phone's way) and the OSC 52 copy.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import socket
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pexpect
import pytest

from conftest import AWSLOGIN, AwsHome
from test_carry import decode, qr_matrix

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
PROMPT = "Enter the authorization code displayed in your browser: "
SSH_CONNECTION = "203.0.113.7 52144 10.0.0.5 22"
_URL = re.compile(r"(?m)^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)\r?$")
_SSH_LINE = re.compile(r"(?m)^(ssh -L (\d+):127\.0\.0\.1:(\d+) alice@10\.0\.0\.5)\r?$")
UPDATED = f"Updated profile default to use {IDENTITY} credentials."


def over_ssh(aws_home: AwsHome) -> dict[str, str]:
    return dict(aws_home.env, SSH_CONNECTION=SSH_CONNECTION, SSH_TTY="/dev/pts/7", USER="alice",
                LOGNAME="alice", TERM="xterm")


def spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    child = pexpect.spawn(AWSLOGIN[0], [*AWSLOGIN[1:], *args], env=env, encoding="utf-8",
                          timeout=60, dimensions=(60, 100))
    child.logfile_read = io.StringIO()
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()
    assert "Traceback" not in transcript, transcript
    return child.exitstatus


def redirect_port(url: str) -> int:
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    return int(urlsplit(redirect).port)


def assert_logged_in(aws_home: AwsHome) -> None:
    assert f"login_session = {IDENTITY}" in aws_home.config.read_text()
    entry = aws_home.cache_dir / (hashlib.sha256(IDENTITY.encode()).hexdigest() + ".json")
    assert entry.is_file()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("pinned", [False, True], ids=["any-port", "redirect-port"])
def test_no_browser_over_ssh_prints_the_exact_ssh_line(aws_home, emulator, pinned) -> None:
    args = ["login", "--no-browser", "--endpoint-url", emulator.url, "--region", "us-east-1"]
    port = free_port() if pinned else None
    if port:
        args += ["--redirect-port", str(port)]
    child = spawn(args, over_ssh(aws_home))
    found = {}
    for _ in range(2):  # the URL and the ssh line, in whichever order the CLI prints them
        which = child.expect([_URL, _SSH_LINE])
        found[which] = child.match
    url = found[0].group(1)
    port = port or redirect_port(url)
    assert redirect_port(url) == port
    assert found[1].group(1) == f"ssh -L {port}:127.0.0.1:{port} alice@10.0.0.5"
    # advice to pin the port, only when it was not pinned already
    advice = f"use --redirect-port {port} to keep this port next time"
    assert (advice in child.logfile_read.getvalue()) is not pinned
    # The laptop's browser, through the tunnel, reaches 127.0.0.1:port on this host.
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.geturl().startswith(f"http://127.0.0.1:{port}/oauth/callback?")
    child.expect_exact(UPDATED)
    assert finish(child) == 0
    assert_logged_in(aws_home)


@pytest.mark.browser
def test_the_remote_flow_in_chromium_chosen_because_of_ssh(aws_home, emulator_factory,
                                                          browser) -> None:
    emu = emulator_factory()  # a person approves on the session page
    child = spawn(["login", "--endpoint-url", emu.url, "--region", "us-east-1"],
                  over_ssh(aws_home))
    child.expect_exact("Signing in from another device (this is an SSH session: "
                       "$SSH_CONNECTION is set); use --no-remote")
    child.expect(_URL)
    url = child.match.group(1)
    assert parse_qs(urlsplit(url).query)["client_id"] == ["arn:aws:signin:::devtools/cross-device"]
    child.expect_exact(PROMPT)
    page = browser.new_page()
    page.goto(url)
    page.click("#approve")
    code = page.text_content("#verification-code").strip()
    assert code
    child.sendline(code)
    child.expect_exact(UPDATED)
    assert finish(child) == 0
    assert_logged_in(aws_home)


@pytest.mark.browser
def test_the_qr_code_and_the_clipboard_carry_the_url(aws_home, emulator_factory, browser,
                                                    tmp_path: Path) -> None:
    emu = emulator_factory()
    env = dict(over_ssh(aws_home), TMUX="/tmp/tmux-1000/default,4242,0")
    child = spawn(["login", "--remote", "--qr", "--copy", "--endpoint-url", emu.url,
                   "--region", "us-east-1"], env)
    child.expect(_URL)
    url = child.match.group(1)
    child.expect_exact(PROMPT)
    shown = child.logfile_read.getvalue()
    # the clipboard: an OSC 52 sequence with exactly base64(url), and tmux's passthrough copy
    osc52 = f"\x1b]52;c;{base64.b64encode(url.encode()).decode()}\x07"
    assert osc52 in shown
    assert "\x1bPtmux;" + osc52.replace("\x1b", "\x1b\x1b") + "\x1b\\" in shown
    assert "Tried to copy the URL to your clipboard through the terminal (OSC 52)" in shown
    # the phone: decode the QR code drawn in the terminal, and open what it says
    scanned = decode(qr_matrix(shown.replace("\r", "")), tmp_path)
    assert scanned == url
    page = browser.new_page()
    page.goto(scanned)
    page.click("#approve")
    child.sendline(page.text_content("#verification-code").strip())
    child.expect_exact(UPDATED)
    assert finish(child) == 0
    assert_logged_in(aws_home)


def test_remote_flow_with_a_bad_paste_first_then_ctrl_c_writes_nothing(aws_home,
                                                                       emulator) -> None:
    child = spawn(["login", "--endpoint-url", emulator.url, "--region", "us-east-1"],
                  over_ssh(aws_home))
    child.expect(_URL)
    child.expect_exact(PROMPT)
    child.sendline("not a code")
    child.expect_exact(PROMPT)
    child.sendintr()
    assert finish(child) == 130
    assert not aws_home.config.exists()
    assert not aws_home.cache_dir.exists()

