"""The emulator's token endpoint over real HTTP: botocore's `signin` client, SECURITY.md A5-A16."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime

import pytest

from conftest import start_emulator, stop_emulator
from test_emulator_support import (
    CROSS_DEVICE,
    DEFAULT_ARN,
    SAME_DEVICE,
    DpopKey,
    auto_authorize,
    create_token,
    exchange,
    post_token,
    refresh,
    running,
    set_faults,
    signin_client,
    stats,
    sts_client,
)

NO_FAULTS = {"throttle_next": 0, "error_next": 0, "latency_ms": 0, "clock_offset": 0,
             "credentials_changed": [], "insufficient_permissions": []}


@pytest.fixture(scope="module")
def shared():
    with running("--auto-approve") as emu:
        yield emu


@pytest.fixture
def base(shared) -> str:
    """The shared emulator's URL; faults are reset after each test."""
    yield shared.url
    set_faults(shared.url, **NO_FAULTS)


def code_body(grant, **changes) -> dict:
    body = {"clientId": grant.client_id, "grantType": "authorization_code", "code": grant.code,
            "codeVerifier": grant.verifier, "redirectUri": grant.redirect_uri}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def refresh_body(token: str, client_id: str = SAME_DEVICE) -> dict:
    return {"clientId": client_id, "grantType": "refresh_token", "refreshToken": token}


def assert_error(response, status: int, code: str, shape: str = "ValidationException") -> None:
    body = json.loads(response.data)
    assert (response.status, body["error"]) == (status, code), body
    assert response.headers["x-amzn-errortype"] == shape
    assert body["message"]
    assert response.headers["Cache-Control"] == "no-store"


def expect_botocore_error(base, token_input, key, shape, code):
    client = signin_client(base)
    with pytest.raises(getattr(client.exceptions, shape)) as info:
        create_token(client, token_input, key)
    assert info.value.response["error"] == code
    assert info.value.response["Error"]["Code"] == shape
    return info.value


# -- botocore: both grants ------------------------------------------------------------------


def test_code_exchange_and_refresh_through_botocore(base) -> None:
    key = DpopKey()
    out = exchange(base, auto_authorize(base), key)
    creds = out["accessToken"]
    assert creds["accessKeyId"].startswith("ASIA") and len(creds["accessKeyId"]) == 20
    assert creds["accessKeyId"][4:].isalnum() and creds["accessKeyId"][4:].isupper()
    assert len(creds["secretAccessKey"]) == 40 and creds["sessionToken"]
    assert out["tokenType"] == "aws_sigv4" and out["expiresIn"] == 900
    assert out["idToken"].count(".") == 2
    again = refresh(base, out["refreshToken"], key)
    assert "idToken" not in again
    assert again["accessToken"]["accessKeyId"] != creds["accessKeyId"]
    assert again["refreshToken"] != out["refreshToken"]
    arn = sts_client(base, again["accessToken"]).get_caller_identity()["Arn"]
    assert arn == DEFAULT_ARN


def test_cross_device_code_exchange(base) -> None:
    grant = auto_authorize(base, CROSS_DEVICE)
    assert grant.redirect_uri == f"{base}/v1/sessions/confirmation"
    out = exchange(base, grant, DpopKey())
    assert out["refreshToken"]


def test_form_body_is_accepted(base) -> None:
    key = DpopKey()
    grant = auto_authorize(base)
    form = (f"grant_type=authorization_code&client_id={SAME_DEVICE}&code={grant.code}"
            f"&code_verifier={grant.verifier}&redirect_uri={grant.redirect_uri}")
    r = post_token(base, form.encode(), dpop=key.proof(f"{base}/v1/token"),
                   content_type="application/x-www-form-urlencoded")
    assert r.status == 200, r.data
    assert json.loads(r.data)["tokenType"] == "aws_sigv4"


def test_responses_carry_no_store_and_date(base) -> None:
    key = DpopKey()
    grant = auto_authorize(base)
    r = post_token(base, code_body(grant), dpop=key.proof(f"{base}/v1/token"))
    assert r.status == 200
    assert r.headers["Cache-Control"] == "no-store"
    served = parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert abs(served - time.time()) < 60


# -- every error class through botocore -----------------------------------------------------


def test_botocore_validation_exception(base) -> None:
    grant = auto_authorize(base)
    expect_botocore_error(base, code_body(grant, code="nope"), DpopKey(),
                          "ValidationException", "INVALID_REQUEST")


def test_botocore_authcode_expired(base) -> None:
    grant = auto_authorize(base)
    set_faults(base, clock_offset=400)
    key = DpopKey()
    client = signin_client(base)
    proof = key.proof(f"{base}/v1/token", claims={"iat": int(time.time()) + 400})
    with pytest.raises(client.exceptions.AccessDeniedException) as info:
        create_token(client, code_body(grant), key, proof=proof)
    assert info.value.response["error"] == "AUTHCODE_EXPIRED"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_botocore_throttled(base) -> None:
    set_faults(base, throttle_next=1)
    err = expect_botocore_error(base, refresh_body("x"), DpopKey(), "TooManyRequestsError",
                                "INVALID_REQUEST")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_botocore_internal_error(base) -> None:
    set_faults(base, error_next=1)
    err = expect_botocore_error(base, refresh_body("x"), DpopKey(), "InternalServerException",
                                "server_error")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 500


@pytest.mark.parametrize("fault,code", [("credentials_changed", "USER_CREDENTIALS_CHANGED"),
                                        ("insufficient_permissions", "INSUFFICIENT_PERMISSIONS")])
def test_botocore_identity_faults(base, fault, code) -> None:
    key = DpopKey()
    out = exchange(base, auto_authorize(base), key)
    set_faults(base, **{fault: [DEFAULT_ARN]})
    err = expect_botocore_error(base, refresh_body(out["refreshToken"]), key,
                                "AccessDeniedException", code)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # the code exchange is refused the same way
    expect_botocore_error(base, code_body(auto_authorize(base)), key,
                          "AccessDeniedException", code)


def test_botocore_token_expired() -> None:
    emu = start_emulator("--auto-approve", "--session-ttl", "600")
    try:
        key = DpopKey()
        out = exchange(emu.url, auto_authorize(emu.url), key)
        set_faults(emu.url, clock_offset=700)
        client = signin_client(emu.url)
        proof = key.proof(f"{emu.url}/v1/token", claims={"iat": int(time.time()) + 700})
        with pytest.raises(client.exceptions.AccessDeniedException) as info:
            create_token(client, refresh_body(out["refreshToken"]), key, proof=proof)
        assert info.value.response["error"] == "TOKEN_EXPIRED"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    finally:
        stop_emulator(emu)


# -- faults and operator endpoints ----------------------------------------------------------


def test_fault_counters_count_down_and_stats_count(shared) -> None:
    emu = start_emulator("--auto-approve", "--throttle-first", "1", "--error-first", "1")
    try:
        key = DpopKey()
        grant = auto_authorize(emu.url)
        first = post_token(emu.url, code_body(grant), dpop=key.proof(f"{emu.url}/v1/token"))
        assert first.status == 429
        second = post_token(emu.url, code_body(grant), dpop=key.proof(f"{emu.url}/v1/token"))
        assert second.status == 500
        third = post_token(emu.url, code_body(grant), dpop=key.proof(f"{emu.url}/v1/token"))
        assert third.status == 200
        refresh(emu.url, json.loads(third.data)["refreshToken"], key)
        assert stats(emu.url) == {"token_requests": 4, "code_grants": 1, "refresh_grants": 1,
                                  "errors": 2}
    finally:
        stop_emulator(emu)


def test_clock_offset_moves_date_header(base) -> None:
    set_faults(base, clock_offset=-3600)
    r = post_token(base, {}, dpop=None)
    served = parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert abs(served - (time.time() - 3600)) < 60


def test_latency_fault_still_answers(base) -> None:
    set_faults(base, latency_ms=50)
    key = DpopKey()
    assert exchange(base, auto_authorize(base), key)["refreshToken"]


def test_faults_endpoint_rejects_bad_values(base) -> None:
    from test_emulator_support import HTTP

    for body in ({"throttle_next": -1}, {"bogus": 1}, {"credentials_changed": ["not-an-arn"]}):
        r = HTTP.request("POST", f"{base}/__emulator/faults", body=json.dumps(body).encode())
        assert r.status == 400


@pytest.mark.parametrize("body", [
    b'{"clock_offset": NaN}',
    b'{"clock_offset": Infinity}',
    b'{"clock_offset": -Infinity}',
    b'{"clock_offset": 1e308}',
    b'{"clock_offset": -400000000}',  # more than 10 years
    b'{"clock_offset": "60"}',
    b'{"clock_offset": null}',
    b'{"throttle_next": 1000001}',
    b'{"error_next": 1.5}',
    b'{"error_next": 1e3}',
    b'{"latency_ms": 60001}',
    b'{"latency_ms": true}',
    b'{"throttle_next": 99999999999999999999999999}',
], ids=lambda b: b.decode())
def test_faults_endpoint_refuses_out_of_range_numbers(base, body) -> None:
    from test_emulator_support import HTTP

    r = HTTP.request("POST", f"{base}/__emulator/faults", body=body,
                     headers={"Content-Type": "application/json"})
    assert r.status == 400, r.data
    assert r.headers["Content-Type"].startswith("application/json")
    assert json.loads(r.data)["message"]
    # nothing was applied, and every response still carries a valid Date header
    assert set_faults(base) == NO_FAULTS
    served = parsedate_to_datetime(get_stats_response(base).headers["Date"]).timestamp()
    assert abs(served - time.time()) < 60


def test_faults_endpoint_accepts_the_limits(base) -> None:
    limits = {"clock_offset": -315_360_000, "throttle_next": 1_000_000, "error_next": 0,
              "latency_ms": 0}
    assert set_faults(base, **limits)["clock_offset"] == -315_360_000
    served = parsedate_to_datetime(get_stats_response(base).headers["Date"]).timestamp()
    assert abs(served - (time.time() - 315_360_000)) < 60


def get_stats_response(base: str):
    from test_emulator_support import get

    r = get(f"{base}/__emulator/stats")
    assert r.status == 200
    return r


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-400000000"])
def test_clock_offset_option_must_be_finite_and_bounded(value) -> None:
    import subprocess

    from conftest import AWSLOGIN

    result = subprocess.run([*AWSLOGIN, "emulator", "--port", "0", f"--clock-offset={value}"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--clock-offset" in result.stderr
    assert "listening" not in result.stdout


def test_clock_offset_option_applies_at_start() -> None:
    emu = start_emulator("--auto-approve", "--clock-offset", "7200")
    try:
        r = post_token(emu.url, {}, dpop=None)
        served = parsedate_to_datetime(r.headers["Date"]).timestamp()
        assert abs(served - (time.time() + 7200)) < 60
        # a proof made with the real clock is now two hours old
        grant = auto_authorize(emu.url)
        r = post_token(emu.url, code_body(grant), dpop=DpopKey().proof(f"{emu.url}/v1/token"))
        assert_error(r, 400, "INVALID_REQUEST")
    finally:
        stop_emulator(emu)


def test_identity_fault_options_at_start() -> None:
    emu = start_emulator("--auto-approve", "--insufficient-permissions", DEFAULT_ARN)
    try:
        grant = auto_authorize(emu.url)
        r = post_token(emu.url, code_body(grant), dpop=DpopKey().proof(f"{emu.url}/v1/token"))
        assert_error(r, 403, "INSUFFICIENT_PERMISSIONS", "AccessDeniedException")
    finally:
        stop_emulator(emu)


def test_operator_endpoints_refuse_web_pages(base) -> None:
    from test_emulator_support import HTTP

    r = HTTP.request("POST", f"{base}/__emulator/faults", body=b'{"error_next": 5}',
                     headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert r.status == 403
    assert set_faults(base)["error_next"] == 0
