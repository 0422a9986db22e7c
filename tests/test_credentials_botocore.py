"""Compatibility with botocore's own login provider (with awscrt), in both directions."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from awslogin.credentials import load_credentials
from awslogin.store import cache
from sessions import emulator_login, emulator_stats

try:
    import awscrt  # noqa: F401  (botocore's login provider needs it)
except ImportError:
    # skipping silently in CI would hide every compatibility check: fail there instead
    if os.environ.get("CI"):
        pytest.fail("awscrt is required in CI (pip install awscrt)", pytrace=False)
    pytest.skip("awscrt is not installed (pip install awscrt)", allow_module_level=True)


def _expire(arn: str, *, strip_awslogin_fields: bool = False) -> dict:
    token = cache.load_token(arn)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    if strip_awslogin_fields:
        token.pop("signinEndpoint", None)
        token.pop("clockOffset", None)
    cache.save_token(arn, token)
    return token


def _botocore_credentials(profile: str = "default"):
    import botocore.session

    session = botocore.session.Session(profile=profile)
    creds = session.get_credentials()
    assert creds is not None and creds.method == "login"
    return creds.get_frozen_credentials()


def test_a_cache_refreshed_by_botocore_is_read_and_refreshed_by_awslogin(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn, strip_awslogin_fields=True)  # exactly what the AWS CLI / botocore keep
    frozen = _botocore_credentials()  # botocore refreshes at the emulator and writes the cache
    written = cache.load_token(arn)
    assert written["accessToken"]["accessKeyId"] == frozen.access_key
    assert "signinEndpoint" not in written
    assert emulator_stats(emulator.url)["refresh_grants"] == 1

    # awslogin reads botocore's entry as it is (a cache hit)...
    assert load_credentials(None).access_key_id == frozen.access_key
    # ...and refreshes with the refresh token botocore stored.
    _expire(arn)
    mine = load_credentials(None)
    assert mine.access_key_id not in (frozen.access_key,)
    assert emulator_stats(emulator.url)["refresh_grants"] == 2


def test_a_cache_refreshed_by_awslogin_is_read_and_refreshed_by_botocore(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    mine = load_credentials(None)
    assert emulator_stats(emulator.url)["refresh_grants"] == 1
    assert _botocore_credentials().access_key == mine.access_key_id  # botocore reads it

    # Close to expiry: botocore refreshes with the refresh token awslogin wrote.
    token = cache.load_token(arn)
    soon = datetime.now(timezone.utc) + timedelta(seconds=30)
    token["accessToken"]["expiresAt"] = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    cache.save_token(arn, token)
    theirs = _botocore_credentials()
    assert theirs.access_key != mine.access_key_id
    assert emulator_stats(emulator.url)["refresh_grants"] == 2
    after = cache.load_token(arn)
    assert after["accessToken"]["accountId"] == "111122223333"
    assert after["signinEndpoint"] == emulator.url  # botocore keeps fields it does not know
    assert load_credentials(None).access_key_id == theirs.access_key


def test_a_pkcs8_key_written_by_another_tool_refreshes(aws_home, emulator):
    from cryptography.hazmat.primitives import serialization

    from awslogin import dpop

    arn = emulator_login(emulator.url)
    token = _expire(arn)
    key = dpop.load_key(token["dpopKey"])
    token["dpopKey"] = key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()
    cache.save_token(arn, token)
    assert load_credentials(None).seconds_left() > 800
    assert cache.load_token(arn)["dpopKey"].startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("module", ["test_credentials_botocore.py", "test_emulator_interop.py"])
def test_without_awscrt_these_tests_fail_in_ci_and_skip_elsewhere(aws_home, tmp_path, module):
    import subprocess
    import sys
    from pathlib import Path

    blocker = tmp_path / "block" / "awscrt"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('awscrt hidden by the test')\n")
    here = Path(__file__).parent
    env = {**aws_home.env, "PYTHONPATH": str(blocker.parent)}
    env.pop("CI", None)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
            str(here / module)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                         cwd=here.parent)
    assert out.returncode == 5, out.stdout  # nothing collected: the module was skipped
    out = subprocess.run(args, env={**env, "CI": "true"}, capture_output=True, text=True,
                         timeout=120, cwd=here.parent)
    assert out.returncode not in (0, 5) and "awscrt is required in CI" in out.stdout
