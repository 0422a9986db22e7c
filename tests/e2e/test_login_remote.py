"""`awslogin login --remote` under a pseudo-terminal: a person reads a code and types it.

The test plays the other device: it fetches the printed authorize URL from the auto-approving
emulator, follows it to the confirmation page and reads `#verification-code`, then types the
code (or a mangled one) into the CLI's terminal. Also the questions a terminal allows: the
region prompt and replacing another session.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import urllib.request
from pathlib import Path

import pexpect
import pytest

from conftest import AWSLOGIN

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
PROMPT = "Enter the authorization code displayed in your browser: "
UPDATED = f"Updated profile default to use {ARN} credentials."
_URL = re.compile(r"(?m)^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)\r?$")
_CODE = re.compile(r'id="verification-code"[^>]*>\s*([^<\s]+)\s*<')


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def cache_file(aws_home, arn: str = ARN) -> Path:
    return aws_home.cache_dir / (hashlib.sha256(arn.encode()).hexdigest() + ".json")


def spawn(aws_home, emu, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        AWSLOGIN[0], [*AWSLOGIN[1:], "login", "--endpoint-url", emu.url, *args],
        env=dict(aws_home.env, TERM="xterm"), encoding="utf-8", timeout=60,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()
    return child


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()
    assert "Traceback" not in transcript, transcript
    status = child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus
    return status, transcript


def verification_code(url: str) -> str:
    """The other device: open the URL (auto-approved), read the code off the confirmation page."""
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode("utf-8")
        assert "/v1/sessions/confirmation" in response.geturl()
    match = _CODE.search(page)
    assert match, page[:2000]
    return html.unescape(match.group(1))


def read_url(child: pexpect.spawn) -> str:
    child.expect(_URL)
    url = child.match.group(1)
    child.expect_exact(PROMPT)
    return url


def test_cross_device_with_a_bad_paste_first(aws_home, emulator) -> None:
    aws_home.config.write_text("[default]\nregion = us-east-1\n")
    child = spawn(aws_home, emulator, "--remote")
    child.expect_exact("Browser will not be automatically opened.")
    child.expect_exact("Please visit the following URL:")
    url = read_url(child)
    assert "client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device" in url
    code = verification_code(url)
    child.sendline("this is not it!")
    child.expect_exact("That is not a verification code")
    child.expect_exact(PROMPT)
    child.sendline(code)
    child.expect_exact(UPDATED)
    status, transcript = finish(child)
    assert status == 0
    assert code not in transcript  # the terminal did not echo it, nor did awslogin
    token = cache_file(aws_home).read_text()
    assert '"clientId": "arn:aws:signin:::devtools/cross-device"' in token
    assert f"login_session = {ARN}" in aws_home.config.read_text()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: "\n".join(c[i:i + 30] for i in range(0, len(c), 30)),  # wrapped over lines
        lambda c: f'"{c}"',
        lambda c: "  " + " ".join(c[i:i + 8] for i in range(0, len(c), 8)) + "  ",
    ],
    ids=["several-lines", "quoted", "spaces"],
)
def test_pasted_code_wrapped_quoted_or_spaced_is_accepted(aws_home, emulator, mangle) -> None:
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    code = verification_code(read_url(child))
    child.send(mangle(code) + "\n")  # one paste, as a terminal delivers it
    child.expect_exact(UPDATED)
    status, _ = finish(child)
    assert status == 0


@pytest.mark.parametrize("missing", [1, 3])
def test_a_cut_off_paste_is_refused_and_the_code_still_works(aws_home, emulator, missing) -> None:
    """A paste missing its last characters must not spend the single-use code."""
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    code = verification_code(read_url(child))
    assert code.endswith("=")  # the page shows standard, padded base64
    child.sendline(code[:-missing])
    child.expect_exact("The code looks cut off")
    child.expect_exact(PROMPT)
    child.sendline(code)  # the same code, whole: it was not used up
    child.expect_exact(UPDATED)
    status, transcript = finish(child)
    assert status == 0
    assert code[:-missing] not in transcript


def test_code_from_another_login_attempt_gets_its_own_message(aws_home, emulator) -> None:
    first = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    stale = verification_code(read_url(first))
    first.sendintr()
    assert finish(first)[0] == 130
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    url = read_url(child)
    child.sendline(stale)
    child.expect_exact("different login attempt")
    child.expect_exact(PROMPT)
    child.sendline(verification_code(url))
    child.expect_exact(UPDATED)
    assert finish(child)[0] == 0


def test_three_bad_pastes_end_the_login_and_write_nothing(aws_home, emulator) -> None:
    aws_home.config.write_text("# keep\n[default]\nregion = us-east-1\n")
    before = snapshot(aws_home.root)
    child = spawn(aws_home, emulator, "--remote")
    read_url(child)
    for text in ("nope!", base64.b64encode(b"state=x").decode(), "!!!"):
        child.sendline(text)
        child.expect("paste it again")  # each gets its message (and a new prompt)
    child.expect("No valid authorization code after 3 attempts")
    status, transcript = finish(child)
    assert status == 1
    assert "nothing was changed" in transcript
    assert snapshot(aws_home.root) == before


def test_end_of_input_and_ctrl_c_end_cleanly_and_write_nothing(aws_home, emulator) -> None:
    before = snapshot(aws_home.root)
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    read_url(child)
    child.sendeof()
    status, transcript = finish(child)
    assert status == 130 and "end of input" in transcript
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1")
    read_url(child)
    child.sendintr()
    status, transcript = finish(child)
    assert status == 130 and "cancelled" in transcript
    assert snapshot(aws_home.root) == before
    assert not aws_home.cache_dir.exists()


def test_remote_timeout_gives_up_and_writes_nothing(aws_home, emulator) -> None:
    before = snapshot(aws_home.root)
    child = spawn(aws_home, emulator, "--remote", "--region", "us-east-1", "--timeout", "2")
    read_url(child)
    child.expect_exact("not completed within 2 seconds")
    status, transcript = finish(child)
    assert status == 1
    assert "nothing was changed" in transcript
    assert snapshot(aws_home.root) == before


def test_region_prompt_default_and_validation(aws_home, emulator) -> None:
    child = spawn(aws_home, emulator, "--remote")
    child.expect_exact("No AWS region has been configured.")
    child.expect_exact("AWS Region [us-east-1]: ")
    child.sendline("mars-north-1")
    child.expect_exact("is not an AWS Region")
    child.expect_exact("AWS Region [us-east-1]: ")
    child.sendline("")  # the default
    url = read_url(child)
    child.sendline(verification_code(url))
    child.expect_exact(UPDATED)
    assert finish(child)[0] == 0
    config = aws_home.config.read_text()
    assert "region = us-east-1" in config.splitlines()  # prompted, so written


def test_replacing_another_session_asks_first(aws_home, emulator) -> None:
    old = "arn:aws:iam::111122223333:user/bob"
    original = f"[default]\nregion = us-east-1\nlogin_session = {old}\n"
    aws_home.config.write_text(original)
    child = spawn(aws_home, emulator, "--remote")
    child.sendline(verification_code(read_url(child)))
    child.expect_exact(f"Profile default is already configured to use session {old}. "
                       f"Do you want to overwrite it to use {ARN} instead? (y/n): ")
    child.sendline("maybe")
    child.expect_exact('Invalid response. Please enter "y" or "n"')
    child.sendline("n")
    status, transcript = finish(child)
    assert status == 1 and "--profile" in transcript
    assert aws_home.config.read_text() == original
    assert not cache_file(aws_home).exists()

    child = spawn(aws_home, emulator, "--remote")
    child.sendline(verification_code(read_url(child)))
    child.expect_exact("(y/n): ")
    child.sendline("y")
    child.expect_exact(UPDATED)
    assert finish(child)[0] == 0
    assert f"login_session = {ARN}" in aws_home.config.read_text()
    assert old not in aws_home.config.read_text()
