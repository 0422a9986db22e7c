"""Refresh against the real emulator on loopback: when, what is written, and every error."""

from __future__ import annotations

import json
import logging
import os

import pytest

from awslogin.credentials import load_credentials
from awslogin.errors import SignInServiceError
from awslogin.store import cache, config
from sessions import emulator_faults, emulator_login, emulator_stats

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def _expire(arn: str, seconds_left: float) -> dict:
    """Move the cached access token's expiry to *seconds_left* from now; return the entry."""
    from datetime import datetime, timedelta, timezone

    token = cache.load_token(arn)
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    token["accessToken"]["expiresAt"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    cache.save_token(arn, token)
    return token


def test_a_fresh_session_is_a_cache_hit(aws_home, emulator):
    arn = emulator_login(emulator.url)
    before = emulator_stats(emulator.url)["token_requests"]
    creds = load_credentials(None)
    assert creds.access_key_id == cache.load_token(arn)["accessToken"]["accessKeyId"]
    assert emulator_stats(emulator.url)["token_requests"] == before


@pytest.mark.parametrize("seconds_left", [-60, 120], ids=["expired", "inside-5-minutes"])
def test_refresh_writes_new_tokens_and_keeps_the_rest(aws_home, emulator, seconds_left):
    arn = emulator_login(emulator.url)
    old = _expire(arn, seconds_left)
    creds = load_credentials(None)
    new = cache.load_token(arn)
    assert emulator_stats(emulator.url)["refresh_grants"] == 1
    assert creds.access_key_id == new["accessToken"]["accessKeyId"]
    assert creds.access_key_id != old["accessToken"]["accessKeyId"]
    assert creds.seconds_left() > 800
    assert new["accessToken"]["accountId"] == "111122223333"
    assert new["refreshToken"] != old["refreshToken"]
    for kept in ("idToken", "dpopKey", "clientId", "tokenType", "signinEndpoint"):
        assert new[kept] == old[kept]
    assert isinstance(new["clockOffset"], (int, float))
    assert oct(os.stat(cache.cache_path(arn)).st_mode & 0o777) == "0o600"


def test_refresh_goes_to_the_recorded_endpoint(aws_home, emulator_factory):
    issuing = emulator_factory("--auto-approve")
    other = emulator_factory("--auto-approve")
    arn = emulator_login(issuing.url, remember_endpoint=False)
    _expire(arn, -1)
    os.environ["AWS_ENDPOINT_URL_SIGNIN"] = other.url  # would win if the record were ignored
    try:
        load_credentials(None)
    finally:
        del os.environ["AWS_ENDPOINT_URL_SIGNIN"]
    assert emulator_stats(issuing.url)["refresh_grants"] == 1
    assert emulator_stats(other.url)["token_requests"] == 0


def test_without_a_recorded_endpoint_the_profile_settings_resolve_it(aws_home, emulator):
    # A cache written by another tool has no signinEndpoint: resolve like botocore does.
    arn = emulator_login(emulator.url)
    token = _expire(arn, -1)
    del token["signinEndpoint"]
    cache.save_token(arn, token)
    load_credentials(None)
    assert emulator_stats(emulator.url)["refresh_grants"] == 1
    assert "signinEndpoint" not in cache.load_token(arn)


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ("credentials_changed", "USER_CREDENTIALS_CHANGED", "awslogin login"),
        ("insufficient_permissions", "INSUFFICIENT_PERMISSIONS", "SignInLocalDevelopmentAccess"),
    ],
)
def test_refusals_are_plain_errors_and_leave_the_cache(aws_home, emulator, fault, code, words):
    arn = emulator_login(emulator.url)
    _expire(arn, -1)
    before = cache.cache_path(arn).read_bytes()
    emulator_faults(emulator.url, **{fault: [IDENTITY]})
    with pytest.raises(SignInServiceError) as info:
        load_credentials(None)
    assert info.value.code == code and words in str(info.value)
    assert cache.cache_path(arn).read_bytes() == before


def test_session_past_its_lifetime_says_log_in_again(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--session-ttl", "60")
    arn = emulator_login(emu.url)
    _expire(arn, -1)
    before = cache.cache_path(arn).read_bytes()
    # Move the service's clock past the session's end instead of waiting for it; the client
    # corrects its proofs for the offset (B10), so only the session's lifetime is at stake.
    emulator_faults(emu.url, clock_offset=120)
    with pytest.raises(SignInServiceError) as info:
        load_credentials(None)
    assert info.value.code == "TOKEN_EXPIRED" and "awslogin login" in str(info.value)
    assert cache.cache_path(arn).read_bytes() == before
    assert emulator_stats(emu.url)["refresh_grants"] == 0


def test_throttling_and_server_errors_are_retried_with_fresh_proofs(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn, -1)
    emulator_faults(emulator.url, throttle_next=1, error_next=1)
    creds = load_credentials(None)
    stats = emulator_stats(emulator.url)
    assert stats["refresh_grants"] == 1 and stats["errors"] >= 2
    assert creds.seconds_left() > 800  # a replayed proof would have been refused (B9)
    assert cache.load_token(arn)["accessToken"]["accessKeyId"] == creds.access_key_id


def test_service_down_with_valid_credentials_hands_them_out(aws_home, emulator, caplog):
    arn = emulator_login(emulator.url)
    old = _expire(arn, 200)
    emulator_faults(emulator.url, error_next=10)
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        creds = load_credentials(None)
    assert creds.access_key_id == old["accessToken"]["accessKeyId"]
    assert "server error" in caplog.text and "expire in 3 minutes" in caplog.text


def test_service_down_with_expired_credentials_fails(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn, -1)
    emulator_faults(emulator.url, error_next=10)
    with pytest.raises(SignInServiceError) as info:
        load_credentials(None)
    assert info.value.status == 500 and "\n" not in str(info.value)


def test_clock_offset_is_measured_stored_and_used(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--clock-offset", "600")
    arn = emulator_login(emu.url)
    _expire(arn, -1)
    creds = load_credentials(None)  # iat would be 10 minutes off without the correction
    offset = cache.load_token(arn)["clockOffset"]
    assert 590 <= offset <= 610
    assert creds.seconds_left() > 800  # expiry stays on the local clock


def test_other_profile_settings_are_untouched(aws_home, emulator):
    arn = emulator_login(emulator.url, profile="work")
    before = aws_home.config.read_text()
    _expire(arn, -1)
    load_credentials("work")
    assert aws_home.config.read_text() == before
    assert config.read_profile("work")["login_session"] == arn
    assert json.loads(cache.cache_path(arn).read_text())["accessToken"]


def test_endless_throttling_is_reported_as_throttling(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn, -1)
    emulator_faults(emulator.url, throttle_next=10)
    with pytest.raises(SignInServiceError) as info:
        load_credentials(None)
    assert info.value.status == 429
    assert "throttl" in str(info.value).lower()
