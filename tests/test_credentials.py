"""credentials.py without a token endpoint: cache hits, and every way a session is unusable."""

from __future__ import annotations

import json
import logging
import os

import pytest

from awslogin.credentials import load_credentials, parse_time
from awslogin.errors import CacheError, ConfigError, EndpointUnreachableError, LoginRequiredError
from awslogin.store import cache
from sessions import write_fake_session

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def _snapshot(path):
    st = os.stat(path)
    return path.read_bytes(), st.st_mtime_ns, st.st_mode


def test_cache_hit_returns_the_cached_credentials(aws_home):
    token = write_fake_session(aws_home, seconds_left=900)
    creds = load_credentials(None)
    assert creds.access_key_id == token["accessToken"]["accessKeyId"]
    assert creds.secret_access_key == "fake-secret-access-key"
    assert creds.session_token == "fake-session-token"
    assert creds.account_id == "111122223333"
    assert creds.expiration == parse_time(token["accessToken"]["expiresAt"])
    assert 800 < creds.seconds_left() <= 900


def test_repr_never_shows_secrets(aws_home):
    write_fake_session(aws_home)
    text = repr(load_credentials(None))
    assert "fake-secret" not in text and "fake-session-token" not in text


def test_profile_comes_from_aws_profile(aws_home, monkeypatch):
    write_fake_session(aws_home, "arn:aws:iam::444455556666:user/bob", profile="work")
    monkeypatch.setenv("AWS_PROFILE", "work")
    assert load_credentials(None).account_id == "444455556666"


def test_account_id_falls_back_to_the_arn(aws_home):
    token = write_fake_session(aws_home)
    del token["accessToken"]["accountId"]
    cache.save_token(ARN, token)
    assert load_credentials(None).account_id == "111122223333"


@pytest.mark.parametrize("expires", ["2030-01-02T03:04:05Z", "2030-01-02T03:04:05.123Z",
                                     "2030-01-02T03:04:05+00:00", "2030-01-02T03:04:05"])
def test_expiry_formats_of_other_writers_are_read(expires):
    assert parse_time(expires).strftime("%Y-%m-%dT%H:%M:%S%z") == "2030-01-02T03:04:05+0000"


def test_missing_profile_is_named(aws_home):
    with pytest.raises(ConfigError) as info:
        load_credentials("nosuch")
    assert "nosuch" in str(info.value) and "awslogin login --profile nosuch" in str(info.value)


def test_profile_without_login_session(aws_home):
    aws_home.config.write_text("[profile plain]\nregion = us-east-1\n")
    with pytest.raises(LoginRequiredError) as info:
        load_credentials("plain")
    assert "awslogin login --profile plain" in str(info.value)


def test_profile_with_other_credentials(aws_home):
    aws_home.config.write_text("[profile keys]\naws_access_key_id = AKIAX\n")
    with pytest.raises(ConfigError) as info:
        load_credentials("keys")
    assert "aws_access_key_id" in str(info.value)


def test_logged_out_session(aws_home):
    write_fake_session(aws_home)
    cache.delete_token(ARN)
    with pytest.raises(LoginRequiredError) as info:
        load_credentials(None)
    assert "awslogin login" in str(info.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: "{not json",
        lambda t: json.dumps([1, 2]),
        lambda t: json.dumps({k: v for k, v in t.items() if k != "refreshToken"}),
        lambda t: json.dumps({**t, "accessToken": {**t["accessToken"], "expiresAt": "soon"}}),
        lambda t: json.dumps({**t, "accessToken": {"accessKeyId": "ASIA"}}),
        lambda t: json.dumps({**t, "accessToken": "ASIA"}),
    ],
    ids=["not-json", "not-object", "no-refresh-token", "bad-date", "partial-access", "str-access"],
)
def test_malformed_cache_is_named_and_left_untouched(aws_home, damage):
    token = write_fake_session(aws_home)
    path = cache.cache_path(ARN)
    path.write_text(damage(token))
    before = _snapshot(path)
    with pytest.raises(CacheError) as info:
        load_credentials(None)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value) and "fake-" not in str(info.value)
    assert _snapshot(path) == before


def test_unusable_key_is_named_and_left_untouched(aws_home):
    write_fake_session(aws_home, seconds_left=-10, extra={"dpopKey": "-----BEGIN NONSENSE"})
    path = cache.cache_path(ARN)
    before = _snapshot(path)
    with pytest.raises(CacheError) as info:
        load_credentials(None)
    assert str(path) in str(info.value) and "DPoP key" in str(info.value)
    assert _snapshot(path) == before


def test_unreachable_endpoint_hands_out_still_valid_credentials_with_a_warning(aws_home, caplog):
    # Inside the 5-minute window but not expired; the endpoint is a closed loopback port.
    write_fake_session(aws_home, seconds_left=170, endpoint="http://127.0.0.1:9")
    path = cache.cache_path(ARN)
    before = _snapshot(path)
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        creds = load_credentials(None)
    assert creds.access_key_id == "ASIAFAKEFAKEFAKE0001"
    assert "Cannot reach AWS Sign-In" in caplog.text and "expire in 2 minutes" in caplog.text
    assert "fake-" not in caplog.text
    assert _snapshot(path) == before


def test_unreachable_endpoint_with_expired_credentials_is_an_error(aws_home):
    write_fake_session(aws_home, seconds_left=-5, endpoint="http://127.0.0.1:9")
    with pytest.raises(EndpointUnreachableError) as info:
        load_credentials(None)
    assert "127.0.0.1:9" in str(info.value)


def test_pkcs8_key_is_accepted_for_refresh(aws_home):
    # Proves the key loads: the refresh gets as far as the (closed) endpoint.
    write_fake_session(aws_home, seconds_left=-5, key_format="pkcs8", endpoint="http://127.0.0.1:9")
    with pytest.raises(EndpointUnreachableError):
        load_credentials(None)


def test_no_region_and_no_recorded_endpoint(aws_home):
    write_fake_session(aws_home, seconds_left=-5, endpoint=None, region=None)
    with pytest.raises(ConfigError) as info:
        load_credentials(None)
    assert "no region" in str(info.value)


@pytest.mark.parametrize("junk", [5, ["us-east-1"], "us east 1", "../../x"])
def test_junk_signin_region_is_a_cache_error_naming_the_file(aws_home, junk):
    write_fake_session(aws_home, seconds_left=-5, endpoint=None, extra={"signInRegion": junk})
    path = cache.cache_path(ARN)
    before = path.read_bytes()
    with pytest.raises(CacheError) as info:
        load_credentials(None)
    assert str(path) in str(info.value) and "signInRegion" in str(info.value)
    assert path.read_bytes() == before
