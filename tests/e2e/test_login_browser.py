"""Same-device login with a real browser: chromium opens the URL `awslogin login --no-browser`
prints, the person picks a console session on the emulator's page and clicks Allow (or
Cancel), and chromium's redirect reaches awslogin's loopback callback.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import AWSLOGIN

ALICE = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
BOB = "arn:aws:iam::444455556666:user/bob"
_AUTHORIZE = re.compile(r"^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)$")

pytestmark = pytest.mark.browser


def start_login(aws_home, emu) -> subprocess.Popen:
    return subprocess.Popen(
        [*AWSLOGIN, "login", "--no-browser", "--endpoint-url", emu.url, "--region",
         "us-east-1"],
        env=aws_home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )


def printed_url(proc: subprocess.Popen) -> str:
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        match = _AUTHORIZE.match(line.rstrip("\n"))
        if match:
            return match.group(1)
    raise AssertionError("no URL printed: " + "".join(seen))


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_chromium_picks_a_session_and_approves(aws_home, emulator_factory, browser) -> None:
    emu = emulator_factory("--identity", ALICE, "--identity", BOB)
    proc = start_login(aws_home, emu)
    try:
        url = printed_url(proc)
        page = browser.new_page()
        page.goto(url)
        page.check(f'input[name="identity"][value="{BOB}"]')
        page.click("#approve")
        page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/oauth/callback\?.*"))
        assert "close this window" in page.content()
        page.close()
    finally:
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert f"Updated profile default to use {BOB} credentials." in out
    assert f"login_session = {BOB}" in aws_home.config.read_text()


def test_cancel_in_chromium_ends_the_login_and_writes_nothing(aws_home, emulator_factory,
                                                              browser) -> None:
    emu = emulator_factory()
    proc = start_login(aws_home, emu)
    try:
        page = browser.new_page()
        page.goto(printed_url(proc))
        page.click("#cancel")
        page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/oauth/callback\?.*"))
        page.close()
    finally:
        out, err = stop(proc)
    assert proc.returncode == 1
    assert "cancelled in the browser" in err and "nothing was changed" in err
    assert "Traceback" not in err
    assert not aws_home.config.exists() and not aws_home.cache_dir.exists()
