"""`awslogin exec --ephemeral --remote`: the real CLI in a pseudo-terminal, the real emulator.

Each test snapshots the isolated home (names, types, modes, sizes, mtimes of every file and
directory), the temp directory the CLI is given and its working directory, runs an ephemeral
exec whose child calls STS on the emulator, and checks that nothing at all differs: after a
success across a forced access-token expiry, after the child fails, after Ctrl-C in the child,
and after Ctrl-C at the code prompt.
"""

from __future__ import annotations

import html
import io
import os
import re
import stat
import sys
import textwrap
import urllib.request
from pathlib import Path

import pexpect
import pytest

from conftest import AWSLOGIN

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
PROMPT = "Enter the authorization code displayed in your browser: "
_URL = re.compile(r"^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)\r?$", re.M)
_CODE = re.compile(r'id="verification-code"[^>]*>\s*([^<\s]+)\s*<')

CHILD = textwrap.dedent(
    """
    import os, sys, time
    import boto3
    from botocore.exceptions import ClientError

    mode = sys.argv[1]
    endpoint = os.environ["EMULATOR_URL"]
    session = boto3.Session()
    sts = session.client("sts", endpoint_url=endpoint)
    print("FIRST", sts.get_caller_identity()["Arn"], flush=True)
    if mode == "fail":
        print("CHILD FAILING", flush=True)
        sys.exit(3)
    if mode == "wait":
        print("CHILD WAITING", flush=True)
        try:
            while True:
                time.sleep(1)  # until the test's Ctrl-C arrives (bounded by pexpect's timeout)
        except KeyboardInterrupt:
            print("CHILD INTERRUPTED", flush=True)
            sys.exit(130)
    # The credentials served for the first call, used directly: valid now, expired later.
    first = session.get_credentials().get_frozen_credentials()
    pinned = boto3.client(
        "sts", endpoint_url=endpoint, aws_access_key_id=first.access_key,
        aws_secret_access_key=first.secret_key, aws_session_token=first.token,
    )
    pinned.get_caller_identity()
    deadline = time.monotonic() + 60
    while True:  # wait for the condition: STS itself says the first credentials expired
        try:
            pinned.get_caller_identity()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExpiredToken":
                raise
            break
        if time.monotonic() > deadline:
            sys.exit("the first credentials never expired")
        time.sleep(0.2)
    print("EXPIRED", flush=True)
    arn = sts.get_caller_identity()["Arn"]  # the SDK fetches fresh ones from the endpoint
    second = session.get_credentials().get_frozen_credentials()
    assert second.access_key != first.access_key, "not refreshed"
    print("SECOND", arn, flush=True)
    """
)


def snapshot(*roots: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and directory under *roots* (roots included): mode, size, mtime."""
    seen: dict[str, tuple[int, int, int]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in ["", *dirnames, *filenames]:
                path = Path(dirpath, name) if name else Path(dirpath)
                st = path.lstat()
                size = st.st_size if not stat.S_ISDIR(st.st_mode) else 0
                seen[str(path)] = (st.st_mode, size, st.st_mtime_ns)
    return seen


def fetch_verification_code(url: str) -> str:
    """Play the user's browser on an auto-approving emulator: follow the URL, read the code."""
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode("utf-8")
    match = _CODE.search(page)
    assert match, page[:2000]
    return html.unescape(match.group(1))


@pytest.fixture
def setting(aws_home, emulator_factory, tmp_path):
    """An emulator with 5-second credentials, a lived-in home, and the child script."""
    emu = emulator_factory("--auto-approve", "--access-token-ttl", "5")
    aws_home.config.write_text(
        "# my settings\n[default]\nregion = eu-west-1\n\n[profile other]\nregion = us-west-2\n"
    )
    aws_home.cache_dir.mkdir(parents=True)
    os.chmod(aws_home.cache_dir, 0o700)
    other = aws_home.cache_dir / ("0" * 64 + ".json")
    other.write_text('{"accessToken": {}}')
    os.chmod(other, 0o600)
    script_dir = tmp_path / "child"
    script_dir.mkdir()
    script = script_dir / "child.py"
    script.write_text(CHILD)
    tmp = tmp_path / "tmp"
    work = tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    env = dict(aws_home.env, EMULATOR_URL=emu.url, TMPDIR=str(tmp), TERM="xterm")
    follow = script_dir / "follow-browser"  # a $BROWSER stand-in: follows the redirects
    follow.write_text(
        f"#!{sys.executable}\nimport sys, urllib.request\n"
        "urllib.request.urlopen(sys.argv[1], timeout=30).read()\n"
    )
    follow.chmod(0o755)
    watched = (aws_home.root, tmp, work, script_dir)
    return emu, script, env, work, watched


def spawn(emu, script: Path, env: dict, work: Path, mode: str,
          flow: tuple[str, ...] = ("--remote",)) -> pexpect.spawn:
    child = pexpect.spawn(
        AWSLOGIN[0],
        [*AWSLOGIN[1:], "exec", "--ephemeral", *flow, "--endpoint-url", emu.url,
         "--region", "us-east-1", "--", sys.executable, str(script), mode],
        env=env, cwd=str(work), encoding="utf-8", timeout=90, dimensions=(40, 120),
    )
    child.logfile_read = io.StringIO()  # the whole transcript, for the assertions and failures
    return child


def sign_in(child: pexpect.spawn) -> None:
    child.expect(_URL)
    url = child.match.group(1)
    child.expect_exact(PROMPT)
    child.sendline(fetch_verification_code(url))


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()
    assert "Traceback" not in transcript, transcript
    assert "Signing in to us-east-1 (--region) for this command only" in transcript
    return child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus


def test_ephemeral_exec_survives_a_token_expiry_and_leaves_nothing(setting) -> None:
    emu, script, env, work, watched = setting
    before = snapshot(*watched)
    child = spawn(emu, script, env, work, "ok")
    sign_in(child)
    child.expect_exact(f"FIRST {IDENTITY}")
    child.expect_exact("EXPIRED")
    child.expect_exact(f"SECOND {IDENTITY}")
    assert finish(child) == 0, child.logfile_read.getvalue()
    assert snapshot(*watched) == before


def test_a_failing_command_keeps_its_exit_code_and_leaves_nothing(setting) -> None:
    emu, script, env, work, watched = setting
    before = snapshot(*watched)
    child = spawn(emu, script, env, work, "fail")
    sign_in(child)
    child.expect_exact(f"FIRST {IDENTITY}")
    child.expect_exact("CHILD FAILING")
    assert finish(child) == 3
    assert snapshot(*watched) == before


def test_ctrl_c_in_the_command_leaves_nothing(setting) -> None:
    emu, script, env, work, watched = setting
    before = snapshot(*watched)
    child = spawn(emu, script, env, work, "wait")
    sign_in(child)
    child.expect_exact(f"FIRST {IDENTITY}")
    child.expect_exact("CHILD WAITING")
    child.sendintr()  # Ctrl-C: the terminal signals the whole foreground process group
    child.expect_exact("CHILD INTERRUPTED")
    assert finish(child) == 130
    assert snapshot(*watched) == before


def test_ctrl_c_at_the_code_prompt_leaves_nothing(setting) -> None:
    emu, script, env, work, watched = setting
    before = snapshot(*watched)
    child = spawn(emu, script, env, work, "ok")
    child.expect(_URL)
    child.expect_exact(PROMPT)
    child.sendintr()
    assert finish(child) == 130
    assert snapshot(*watched) == before


def test_same_device_ephemeral_exec_chosen_by_browser_leaves_nothing(setting) -> None:
    """Either flow: here $BROWSER is set, so the browser on this machine gets the callback."""
    emu, script, env, work, watched = setting
    env = dict(env, BROWSER=str(script.parent / "follow-browser"))
    before = snapshot(*watched)
    child = spawn(emu, script, env, work, "ok", flow=())
    child.expect_exact("Signing in with a browser on this machine ($BROWSER is set)")
    child.expect_exact(f"FIRST {IDENTITY}")
    child.expect_exact(f"SECOND {IDENTITY}")
    assert finish(child) == 0, child.logfile_read.getvalue()
    assert "same-device" in child.logfile_read.getvalue()
    assert snapshot(*watched) == before
