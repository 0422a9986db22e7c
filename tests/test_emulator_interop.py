"""Interoperability: an emulator session, cached in PROTOCOL.md format, used by boto3 itself.

boto3 (with awscrt) reads the `login_session` profile, finds the cached access token expired,
refreshes it through botocore's own login credential provider against the emulator (its DPoP
proof, its request shape), writes the cache back, and calls STS GetCallerIdentity.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from test_emulator_support import (
    DEFAULT_ARN,
    SAME_DEVICE,
    DpopKey,
    auto_authorize,
    exchange,
    set_faults,
    stats,
)

try:
    import awscrt  # noqa: F401  (botocore's login provider needs it)
except ImportError:
    # skipping silently in CI would hide every compatibility check: fail there instead
    if os.environ.get("CI"):
        pytest.fail("awscrt is required in CI (pip install awscrt)", pytrace=False)
    pytest.skip("awscrt is not installed (pip install awscrt)", allow_module_level=True)

BOTO3_CALL = """
import json, boto3
session = boto3.Session(profile_name="emu")
identity = session.client("sts").get_caller_identity()
creds = session.get_credentials().get_frozen_credentials()
print(json.dumps({"arn": identity["Arn"], "account": identity["Account"],
                  "key": creds.access_key}))
"""


def write_session(aws_home, arn: str, out: dict, key: DpopKey, expires_at: datetime) -> str:
    """Cache entry and profile exactly as PROTOCOL.md §3 describes; the cache file path."""
    aws_home.cache_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    path = aws_home.cache_dir / (hashlib.sha256(arn.encode()).hexdigest() + ".json")
    entry = {
        "accessToken": {
            **out["accessToken"],
            "accountId": arn.split(":")[4],
            "expiresAt": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "tokenType": out["tokenType"],
        "clientId": SAME_DEVICE,
        "refreshToken": out["refreshToken"],
        "idToken": out["idToken"],
        "dpopKey": key.pem,
    }
    path.write_text(json.dumps(entry))
    os.chmod(path, 0o600)
    aws_home.config.write_text(f"[profile emu]\nlogin_session = {arn}\nregion = us-east-1\n")
    return str(path)


def run_boto3(aws_home, endpoint: str) -> dict:
    env = {**aws_home.env, "AWS_ENDPOINT_URL": endpoint}
    result = subprocess.run([sys.executable, "-c", BOTO3_CALL], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_botocore_login_provider_refreshes_an_emulator_session(aws_home, emulator) -> None:
    key = DpopKey()
    out = exchange(emulator.url, auto_authorize(emulator.url), key)
    expired = datetime.now(timezone.utc) - timedelta(minutes=1)
    path = write_session(aws_home, DEFAULT_ARN, out, key, expired)
    before = stats(emulator.url)

    result = run_boto3(aws_home, emulator.url)

    assert result["arn"] == DEFAULT_ARN and result["account"] == "111122223333"
    after = stats(emulator.url)
    assert after["refresh_grants"] == before["refresh_grants"] + 1
    assert after["errors"] == before["errors"]
    cached = json.loads(Path(path).read_text())
    assert cached["refreshToken"] != out["refreshToken"]
    assert cached["accessToken"]["accessKeyId"] == result["key"]
    assert result["key"] != out["accessToken"]["accessKeyId"]
    assert cached["accessToken"]["accountId"] == "111122223333"
    new_expiry = datetime.strptime(cached["accessToken"]["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert new_expiry.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    assert cached["idToken"] == out["idToken"] and cached["dpopKey"] == key.pem

    # A second process finds the refreshed token fresh and makes no token call.
    again = run_boto3(aws_home, emulator.url)
    assert again["key"] == result["key"]
    assert stats(emulator.url)["token_requests"] == after["token_requests"]


def test_botocore_maps_credentials_changed_to_login_again(aws_home, emulator) -> None:
    key = DpopKey()
    out = exchange(emulator.url, auto_authorize(emulator.url), key)
    set_faults(emulator.url, credentials_changed=[DEFAULT_ARN])
    write_session(aws_home, DEFAULT_ARN, out, key, datetime.now(timezone.utc))
    env = {**aws_home.env, "AWS_ENDPOINT_URL": emulator.url}
    result = subprocess.run([sys.executable, "-c", BOTO3_CALL], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "LoginRefreshRequired" in result.stderr
