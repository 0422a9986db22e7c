"""`awslogin login`, same-device: the real CLI as a subprocess against the real emulator.

The "browser" is `follow_redirects.py` given as `$BROWSER` (Python's webbrowser runs it), or
the test itself fetching the URL printed with `--no-browser`. Failure paths check that the
config file and the cache directory are exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import AWSLOGIN

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
HERE = Path(__file__).parent
FOLLOW = f"{sys.executable} {HERE / 'follow_redirects.py'} %s"
LIVED_IN = (
    "# my settings\n"
    "[default]\n"
    "region = eu-west-1\n"
    "output = json ; keep me\n"
    "\n"
    "[profile other]\n"
    "aws_access_key_id = AKIDEXAMPLE\n"
)
_AUTHORIZE = re.compile(r"^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)$", re.M)


def cache_file(aws_home, arn: str = ARN) -> Path:
    return aws_home.cache_dir / (hashlib.sha256(arn.encode()).hexdigest() + ".json")


def snapshot(aws_home) -> dict[str, bytes]:
    """Every file under the AWS home with its content (for 'nothing was written')."""
    return {str(p): p.read_bytes() for p in sorted(aws_home.root.rglob("*")) if p.is_file()}


def login(aws_home, emu, *args: str, browser: str | None = FOLLOW, timeout: float = 90,
          **env: str) -> subprocess.CompletedProcess:
    full_env = dict(aws_home.env, **env)
    if browser is not None:
        full_env["BROWSER"] = browser
    return subprocess.run(
        [*AWSLOGIN, "login", "--endpoint-url", emu.url, *args],
        env=full_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def assert_no_secrets(output: str, aws_home) -> None:
    path = cache_file(aws_home)
    if path.exists():
        token = json.loads(path.read_text())
        for secret in (token["refreshToken"], token["accessToken"]["secretAccessKey"],
                       token["accessToken"]["sessionToken"], token["idToken"]):
            assert secret not in output
        assert "PRIVATE KEY" not in output
    assert "Traceback" not in output


def test_same_device_login_with_a_browser_stand_in(aws_home, emulator, tmp_path) -> None:
    aws_home.config.write_text(LIVED_IN)
    seen = tmp_path / "browser.log"
    result = login(aws_home, emulator, "--region", "us-east-1",
                   FOLLOW_REDIRECTS_LOG=str(seen))
    assert result.returncode == 0, result.stderr
    assert f"Updated profile default to use {ARN} credentials." in result.stdout
    assert "Attempting to open your default browser." in result.stderr
    # the browser went to the emulator and ended on our loopback callback, success page
    status, final, _ = seen.read_text().split()
    assert status == "200" and re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", final)

    # config: every old line kept; login_session added; region NOT written (not prompted);
    # the profile's region (eu-west-1) differs from the login's, so signin is pinned
    config = aws_home.config.read_text()
    lines = iter(config.splitlines())
    assert all(old in lines for old in LIVED_IN.splitlines())  # all kept, in their order
    assert f"login_session = {ARN}" in config
    assert "region = us-east-1" not in config
    assert f"endpoint_url = {emulator.url}" in config

    # cache: the PROTOCOL.md §3 shape, 0600 in a 0700 directory, plus signinEndpoint
    path = cache_file(aws_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700
    token = json.loads(path.read_text())
    assert set(token["accessToken"]) == {"accessKeyId", "secretAccessKey", "sessionToken",
                                         "accountId", "expiresAt"}
    assert token["accessToken"]["accountId"] == "111122223333"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", token["accessToken"]["expiresAt"])
    assert token["tokenType"] == "aws_sigv4"
    assert token["clientId"] == "arn:aws:signin:::devtools/same-device"
    assert token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert token["signinEndpoint"] == emulator.url
    assert token["refreshToken"] and token["idToken"].count(".") == 2
    assert_no_secrets(result.stdout + result.stderr, aws_home)


def test_named_profile_gets_its_own_section(aws_home, emulator) -> None:
    result = login(aws_home, emulator, "--region", "us-east-1", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert f"Updated profile dev to use {ARN} credentials." in result.stdout
    assert '"--profile dev"' in result.stdout
    assert f"[profile dev]\nlogin_session = {ARN}" in aws_home.config.read_text()


def test_aws_profile_names_the_profile_without_the_option(aws_home, emulator) -> None:
    aws_home.config.write_text(LIVED_IN)
    result = login(aws_home, emulator, "--region", "us-east-1", AWS_PROFILE="work")
    assert result.returncode == 0, result.stderr
    assert f"Updated profile work to use {ARN} credentials." in result.stdout
    assert '"--profile work"' in result.stdout
    config = aws_home.config.read_text()
    assert config.startswith(LIVED_IN)  # [default] untouched: no login_session there
    assert f"[profile work]\nlogin_session = {ARN}\n" in config
    assert config.count("login_session") == 1
    assert cache_file(aws_home).is_file()


def test_no_browser_prints_the_url_alone_and_waits_for_the_callback(aws_home, emulator) -> None:
    proc = subprocess.Popen(
        [*AWSLOGIN, "login", "--no-browser", "--endpoint-url", emulator.url,
         "--region", "us-east-1"],
        env=aws_home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )
    before: list[str] = []
    try:
        url = read_authorize_url(proc, before)
        # the person opens the URL in a browser on this machine
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Browser will not be automatically opened.\n" in before
    assert f"Updated profile default to use {ARN} credentials." in out


def test_headless_without_a_terminal_prints_the_url_and_opens_no_browser(aws_home, emulator):
    """No display, no $BROWSER, stdin not a terminal: the URL is printed as with --no-browser."""
    proc = subprocess.Popen(
        [*AWSLOGIN, "login", "--endpoint-url", emulator.url, "--region", "us-east-1"],
        env=aws_home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )
    before: list[str] = []
    try:
        url = read_authorize_url(proc, before)
        with urllib.request.urlopen(url, timeout=30) as response:  # a browser that reaches us
            assert response.status == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    text = "".join(before) + err
    assert text.startswith("Printing the sign-in URL for a browser that can reach this machine")
    assert "Browser will not be automatically opened.\nPlease visit the following URL:\n\n" in text
    assert "Attempting to open" not in text
    assert "could not be opened" not in text
    assert f"Updated profile default to use {ARN} credentials." in out


def read_authorize_url(proc: subprocess.Popen, seen: list[str] | None = None) -> str:
    """Read stderr lines (into *seen*) until the authorize URL, alone on its line, appears."""
    assert proc.stderr is not None
    seen = [] if seen is None else seen
    for line in proc.stderr:
        seen.append(line)
        match = _AUTHORIZE.match(line.rstrip("\n"))
        if match:
            return match.group(1)
    raise AssertionError("no URL printed: " + "".join(seen))


def test_forged_callbacks_do_not_end_the_login(aws_home, emulator) -> None:
    proc = subprocess.Popen(
        [*AWSLOGIN, "login", "--no-browser", "--endpoint-url", emulator.url,
         "--region", "us-east-1"],
        env=aws_home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        url = read_authorize_url(proc)
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        port = urlsplit(redirect).port
        # the receiver listens on loopback only
        assert urlsplit(redirect).hostname == "127.0.0.1"
        for query in ("code=forged&state=wrong", "error=access_denied&state=wrong",
                      "error=access_denied"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(f"{redirect}?{query}", timeout=10)
            assert info.value.code == 400
        assert proc.poll() is None  # still waiting
        with urllib.request.urlopen(url, timeout=30) as response:  # the real sign-in
            assert response.status == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert ARN in out
    with socket.socket() as s:  # the callback port is closed once the login is over
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_redirect_port_is_used_and_a_busy_one_is_a_clear_error(aws_home, emulator) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        before = snapshot(aws_home)
        result = login(aws_home, emulator, "--region", "us-east-1", "--redirect-port", str(port))
        assert result.returncode == 2, result.stderr
        assert f"Port {port}" in result.stderr and "--redirect-port" in result.stderr
        assert "Traceback" not in result.stderr
        assert snapshot(aws_home) == before
    # now free: the login uses exactly that port
    result = login(aws_home, emulator, "--region", "us-east-1", "--redirect-port", str(port))
    assert result.returncode == 0, result.stderr
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Foauth%2Fcallback" in result.stderr


def test_timeout_gives_up_and_writes_nothing(aws_home, emulator) -> None:
    aws_home.config.write_text(LIVED_IN)
    before = snapshot(aws_home)
    result = login(aws_home, emulator, "--region", "us-east-1", "--no-browser",
                   "--timeout", "1.5", browser=None)
    assert result.returncode == 1
    assert "not completed within 1.5 seconds" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(aws_home) == before
    assert not aws_home.cache_dir.exists()


def test_browser_that_cannot_open_points_to_remote(aws_home, emulator) -> None:
    result = login(aws_home, emulator, "--region", "us-east-1", "--timeout", "3",
                   browser="false %s")
    assert result.returncode == 1
    assert "The browser could not be opened" in result.stderr
    assert "--remote" in result.stderr
    assert _AUTHORIZE.search(result.stderr)  # the URL was printed alone on its line


def test_insufficient_permissions_is_explained_and_writes_nothing(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--insufficient-permissions", ARN)
    aws_home.config.write_text(LIVED_IN)
    before = snapshot(aws_home)
    result = login(aws_home, emu, "--region", "us-east-1")
    assert result.returncode == 1
    assert "SignInLocalDevelopmentAccess" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(aws_home) == before


def test_expired_code_says_log_in_again_and_writes_nothing(aws_home, emulator_factory) -> None:
    # every token request waits 2.5 s, so the 1-second code has expired when it is checked
    emu = emulator_factory("--auto-approve", "--code-ttl", "1", "--latency-ms", "2500")
    before = snapshot(aws_home)
    result = login(aws_home, emu, "--region", "us-east-1")
    assert result.returncode == 1, result.stderr
    assert "awslogin login again" in result.stderr
    assert snapshot(aws_home) == before


@pytest.mark.parametrize(
    ("key", "kind"),
    [("aws_access_key_id = AKID", "Access Key"), ("sso_role_name = Admin", "SSO"),
     ("sso_account_id = 111122223333", "SSO"), ("role_arn = arn:aws:iam::1:role/x", "Assume Role"),
     ("web_identity_token_file = /t", "Web Identity"), ("credential_process = /bin/x", "")],
)
def test_profiles_with_other_credentials_are_refused_before_sign_in(aws_home, emulator, key,
                                                                    kind) -> None:
    aws_home.config.write_text(f"[profile work]\nregion = us-east-1\n{key}\n")
    before = snapshot(aws_home)
    result = login(aws_home, emulator, "--profile", "work", browser="false %s")
    assert result.returncode == 1
    assert "Profile work already uses" in result.stderr and kind in result.stderr
    assert key.split(" =")[0] in result.stderr
    assert "--profile" in result.stderr
    assert "Attempting to open" not in result.stderr  # refused before any browser
    assert snapshot(aws_home) == before


def test_replacing_another_session_without_a_terminal_is_refused(aws_home, emulator) -> None:
    old = "arn:aws:iam::111122223333:user/bob"
    aws_home.config.write_text(f"[default]\nregion = us-east-1\nlogin_session = {old}\n")
    before = snapshot(aws_home)
    result = login(aws_home, emulator)
    assert result.returncode == 1
    assert old in result.stderr and "--profile" in result.stderr
    assert snapshot(aws_home) == before


def test_no_region_and_no_terminal_asks_for_region(aws_home, emulator) -> None:
    result = login(aws_home, emulator, browser="false %s")
    assert result.returncode == 2
    assert "--region" in result.stderr
    assert "Traceback" not in result.stderr
    assert not aws_home.config.exists()


def test_region_from_environment_is_used(aws_home, emulator) -> None:
    result = login(aws_home, emulator, AWS_REGION="ap-northeast-1")
    assert result.returncode == 0, result.stderr
    lines = aws_home.config.read_text().splitlines()
    assert f"login_session = {ARN}" in lines
    assert not [line for line in lines if line.startswith("region")]  # not prompted: not written


def test_concurrent_stray_connection_does_not_block(aws_home, emulator) -> None:
    """An idle connection to the callback port does not stop the real callback."""
    proc = subprocess.Popen(
        [*AWSLOGIN, "login", "--no-browser", "--endpoint-url", emulator.url,
         "--region", "us-east-1"],
        env=aws_home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )
    idle = None
    try:
        url = read_authorize_url(proc)
        port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        idle.sendall(b"GET /oauth/callback?")  # never finished
        done = threading.Event()

        def browse() -> None:
            with urllib.request.urlopen(url, timeout=30):
                done.set()

        t = threading.Thread(target=browse)
        t.start()
        t.join(60)
        assert done.is_set()
        out, err = proc.communicate(timeout=60)
    finally:
        if idle is not None:
            idle.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert ARN in out


def test_debug_output_has_no_secrets(aws_home, emulator) -> None:
    result = login(aws_home, emulator, "--region", "us-east-1", "--debug")
    assert result.returncode == 0, result.stderr
    assert_no_secrets(result.stdout + result.stderr, aws_home)
    token = json.loads(cache_file(aws_home).read_text())
    assert token["dpopKey"] not in result.stderr
    assert os.environ.get("AWS_ACCESS_KEY_ID") is None


def test_ctrl_c_while_waiting_for_the_browser_writes_nothing(aws_home, emulator) -> None:
    import pexpect

    aws_home.config.write_text(LIVED_IN)
    before = snapshot(aws_home)
    child = pexpect.spawn(
        AWSLOGIN[0], [*AWSLOGIN[1:], "login", "--no-browser", "--endpoint-url", emulator.url,
                      "--region", "us-east-1"],
        env=dict(aws_home.env, TERM="xterm"), encoding="utf-8", timeout=60,
        dimensions=(50, 300),
    )
    child.expect(r"(?m)^(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)\r?$")
    url = child.match.group(1)
    child.expect_exact("Waiting for the sign-in")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "cancelled" in child.before and "nothing was changed" in child.before
    assert "Traceback" not in child.before
    assert snapshot(aws_home) == before
    port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_profile_name_other_tools_cannot_read_is_refused_first(aws_home, emulator) -> None:
    result = login(aws_home, emulator, "--profile", "my profile", "--region", "us-east-1",
                   browser="false %s")
    assert result.returncode == 2
    assert result.stderr == (
        "The profile name 'my profile' cannot be written to the config file (no [ ], quotes, "
        "spaces, line breaks or control characters). Choose another --profile.\n"
    )
    assert snapshot(aws_home) == {}


def test_unwritable_aws_profile_is_a_usage_error_too(aws_home, emulator) -> None:
    result = login(aws_home, emulator, "--region", "us-east-1", browser="false %s",
                   AWS_PROFILE="bad]name")
    assert result.returncode == 2
    assert "The profile name 'bad]name' cannot be written" in result.stderr
    assert "Choose another --profile." in result.stderr
    assert "Attempting to open" not in result.stderr and snapshot(aws_home) == {}
