"""Compatibility with botocore's own login provider (with awscrt), in both directions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from awslogin.credentials import load_credentials
from awslogin.store import cache
from sessions import emulator_login, emulator_stats

pytest.importorskip("awscrt")


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
