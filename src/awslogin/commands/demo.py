"""`awslogin demo`: the whole system on the built-in emulator, in a throw-away directory.

It starts `awslogin emulator` as a separate process on a free loopback port (they meet only
over HTTP, as with the real service), runs the real same-device flow against it, shows what was
written, proves the credentials with STS GetCallerIdentity through boto3, forces the access
token to expire and proves the refresh. The user's own `~/.aws` is never read or written.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from awslogin.errors import AwsloginError

PROFILE = "default"
REGION = "us-east-1"
_SECRET_FIELDS = ("secretAccessKey", "sessionToken", "refreshToken", "idToken", "dpopKey")


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when the identity was verified before and after a refresh."""
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="awslogin-demo-") as tmp, _isolated_env(
        Path(tmp)
    ) as files, _emulator(auto_approve=not args.browser) as base_url:
        say = _printer(out)
        say(f"awslogin demo, in the throw-away directory {tmp} (your ~/.aws is not touched).")
        say(f"1. Started the AWS Sign-In emulator: {base_url}")
        os.environ["AWS_ENDPOINT_URL_STS"] = base_url
        _sign_in(base_url, browser=args.browser, say=say)
        _show_files(files, say)
        first = _caller_identity(say, step=4)
        _expire_access_token(files["cache_dir"], say)
        second = _caller_identity(say, step=6)
        if first["key"] == second["key"]:
            raise AwsloginError("The demo expected a refreshed access key, but got the old one.")
        if first["arn"] != second["arn"]:
            raise AwsloginError("The identity changed across the refresh; that is a bug.")
        say("")
        say(f"Verified identity: {second['arn']}")
    return 0


def _printer(out):
    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    return say


@contextlib.contextmanager
def _isolated_env(root: Path) -> Iterator[dict[str, Path]]:
    """Point every AWS file at *root* for the duration, and hide the caller's AWS settings."""
    saved = dict(os.environ)
    files = {
        "config": root / ".aws" / "config",
        "credentials": root / ".aws" / "credentials",
        "cache_dir": root / ".aws" / "login" / "cache",
    }
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = str(files["config"])
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(files["credentials"])
    os.environ["AWS_LOGIN_CACHE_DIRECTORY"] = str(files["cache_dir"])
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        yield files
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _emulator(*, auto_approve: bool) -> Iterator[str]:
    """Run `awslogin emulator --port 0` in a child process; yield its base URL."""
    cmd = [sys.executable, "-m", "awslogin", "emulator", "--port", "0"]
    if auto_approve:
        cmd.append("--auto-approve")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ)
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        prefix = "AWS Sign-In emulator listening on "
        if not line or not line[0].startswith(prefix):
            raise AwsloginError("The demo could not start the emulator. Run it with --debug.")
        yield line[0][len(prefix) :].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _follow_in_background(url: str) -> bool:
    """Stand in for the person at the browser: load the URL and follow its redirects.

    The emulator runs with --auto-approve, so the authorize URL redirects straight to the local
    callback, exactly what a browser does after the user picks their console session.
    """

    def fetch() -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=30).read()

    threading.Thread(target=fetch, daemon=True).start()
    return True


def _sign_in(base_url: str, *, browser: bool, say) -> None:
    from awslogin.login.flows import LoginOptions, perform_login, remember_endpoint, save_login

    options = LoginOptions(base_url=base_url, remote=False, open_browser=True, timeout=300.0)
    if browser:
        say("2. Signing in with the same-device flow: pick the session in your browser.")
        session = perform_login(options, out=sys.stdout)  # the real `webbrowser` module
    else:
        say("2. Signing in with the same-device flow. No person is here to click, so awslogin")
        say("   follows the sign-in URL itself, as a browser would, and the emulator approves.")
        session = perform_login(options, out=io.StringIO(), open_url=_follow_in_background)
    save_login(session, PROFILE, region_to_write=REGION, confirm_replace=None)
    if remember_endpoint(session, PROFILE, login_region=REGION):
        say(f"   Saved the Sign-In endpoint {base_url} in the profile: every SDK refreshes there.")
    say(f"   Updated profile {PROFILE} to use {session.login_session} credentials.")


def _show_files(files: dict[str, Path], say) -> None:
    say(f"3. The shared config file ({files['config']}):")
    for line in files["config"].read_text().splitlines():
        say(f"     {line}")
    for path in sorted(files["cache_dir"].glob("*.json")):
        mode = path.stat().st_mode & 0o777
        say(f"   The token cache entry ({path.name}, mode {mode:04o}), secrets hidden:")
        entry = json.loads(path.read_text())
        for line in json.dumps(_hide_secrets(entry), indent=2).splitlines():
            say(f"     {line}")


def _hide_secrets(value):
    if isinstance(value, dict):
        return {
            k: ("<hidden>" if k in _SECRET_FIELDS else _hide_secrets(v)) for k, v in value.items()
        }
    return value


def _boto3_session():
    """botocore's own login provider when awscrt is installed, else awslogin's bridge."""
    import boto3

    try:
        import awscrt  # noqa: F401

        return boto3.Session(profile_name=PROFILE), "botocore's own login provider"
    except ImportError:
        import awslogin

        return awslogin.boto3_session(PROFILE), "awslogin.boto3_session()"


def _caller_identity(say, *, step: int) -> dict[str, str]:
    session, how = _boto3_session()
    sts = session.client("sts", region_name=REGION)
    identity = sts.get_caller_identity()
    key = session.get_credentials().get_frozen_credentials().access_key
    say(f"{step}. STS GetCallerIdentity through boto3 ({how}):")
    say(f"     Arn {identity['Arn']}, Account {identity['Account']}, access key {key}")
    return {"arn": identity["Arn"], "key": key}


def _expire_access_token(cache_dir: Path, say) -> None:
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in cache_dir.glob("*.json"):
        entry = json.loads(path.read_text())
        entry["accessToken"]["expiresAt"] = past
        from awslogin.store.atomic import write_private

        write_private(path, json.dumps(entry).encode())
    say(f"5. Forced the access token to expire (expiresAt = {past}); the next call refreshes it.")
