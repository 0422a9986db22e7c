"""One test per token-endpoint rejection of SECURITY.md A5-A15: status and `error` each."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest

from conftest import start_emulator, stop_emulator
from test_emulator_support import (
    CROSS_DEVICE,
    SAME_DEVICE,
    DpopKey,
    Grant,
    authorize_url,
    auto_authorize,
    b64url,
    default_redirect,
    exchange,
    get,
    post_token,
    query_of,
    refresh,
    running,
    sts_client,
)
from test_emulator_token import assert_error, code_body, refresh_body


@pytest.fixture(scope="module")
def emu():
    with running("--auto-approve") as e:
        yield e


@pytest.fixture
def base(emu) -> str:
    return emu.url


def token_url(base: str) -> str:
    return f"{base}/v1/token"


def fresh_code(base: str):
    return auto_authorize(base)


def refused(base, *, body=None, dpop=..., key=None, status=400, code="INVALID_REQUEST",
            shape="ValidationException"):
    key = key or DpopKey()
    if body is None:
        body = code_body(fresh_code(base))
    if dpop is ...:
        dpop = key.proof(token_url(base))
    r = post_token(base, body, dpop=dpop)
    assert_error(r, status, code, shape)
    return r


# -- A6: the DPoP header and proof -------------------------------------------------------------


def test_a6_missing_dpop_header(base) -> None:
    refused(base, dpop=None)


def test_a6_two_dpop_headers(base) -> None:
    key = DpopKey()
    refused(base, dpop=[key.proof(token_url(base)), key.proof(token_url(base))])


def test_a6_not_a_compact_jws(base) -> None:
    refused(base, dpop="not.a-jws")


def test_a6_wrong_typ(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), header={"typ": "JWT"}))


@pytest.mark.parametrize("alg", ["none", "ES384", "RS256", "HS256"])
def test_a6_alg_other_than_es256(base, alg) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), header={"alg": alg}))


def test_a6_private_key_in_jwk(base) -> None:
    key = DpopKey()
    d = key.key.private_numbers().private_value.to_bytes(32, "big")
    from test_emulator_support import b64url

    refused(base, dpop=key.proof(token_url(base), header={"jwk": {**key.jwk, "d": b64url(d)}}))


def test_a6_jwk_not_p256(base) -> None:
    key = DpopKey()
    refused(base, dpop=key.proof(token_url(base), header={"jwk": {**key.jwk, "crv": "P-384"}}))


def test_a6_signature_by_another_key(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), signer=DpopKey()))


def test_a6_tampered_payload(base) -> None:
    key = DpopKey()
    header, _, sig = key.proof(token_url(base)).split(".")
    _, payload, _ = key.proof(token_url(base), claims={"jti": "other"}).split(".")
    refused(base, dpop=f"{header}.{payload}.{sig}")


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_a6_required_claim_missing(base, claim) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), drop=(claim,)))


# -- A7: htm and htu -----------------------------------------------------------------------------


def test_a7_htm_not_post(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), claims={"htm": "GET"}))


@pytest.mark.parametrize("htu", ["{base}/v1/other", "https://{host}/v1/token",
                                 "http://evil.example/v1/token", "{base}/v1/token/",
                                 "http://u:p@{host}/v1/token", "http://u@{host}/v1/token",
                                 "http://@{host}/v1/token"])
def test_a7_htu_not_this_endpoint(base, htu) -> None:
    url = htu.format(base=base, host=base.split("//")[1])
    refused(base, dpop=DpopKey().proof(url, claims={"htu": url}))


def test_a7_htu_normalised_query_ignored(base) -> None:
    key = DpopKey()
    url = token_url(base).replace("http://", "HTTP://") + "?ignored=1#frag"
    r = post_token(base, code_body(fresh_code(base)), dpop=key.proof(url))
    assert r.status == 200, r.data


# -- A8: iat window and jti replay -------------------------------------------------------------


def test_a8_iat_too_old(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), claims={"iat": int(time.time()) - 301}))


def test_a8_iat_in_the_future(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), claims={"iat": int(time.time()) + 120}))


def test_a8_iat_not_a_number(base) -> None:
    refused(base, dpop=DpopKey().proof(token_url(base), claims={"iat": "now"}))


def test_a8_jti_replay(base) -> None:
    key = DpopKey()
    out = exchange(base, fresh_code(base), key)
    proof = key.proof(token_url(base))
    first = post_token(base, refresh_body(out["refreshToken"]), dpop=proof)
    assert first.status == 200
    again = json.loads(first.data)["refreshToken"]
    refused(base, body=refresh_body(again), dpop=proof)


def test_a8_iat_window_is_configurable() -> None:
    emu = start_emulator("--auto-approve", "--dpop-iat-window", "30:5")
    try:
        refused(emu.url, dpop=DpopKey().proof(token_url(emu.url),
                                              claims={"iat": int(time.time()) - 60}))
        refused(emu.url, dpop=DpopKey().proof(token_url(emu.url),
                                              claims={"iat": int(time.time()) + 30}))
    finally:
        stop_emulator(emu)


# -- A9: nonce mode ----------------------------------------------------------------------------


def test_a9_nonce_mode() -> None:
    emu = start_emulator("--auto-approve", "--dpop-nonce")
    try:
        key = DpopKey()
        grant = auto_authorize(emu.url)
        r = refused(emu.url, body=code_body(grant), key=key, code="use_dpop_nonce")
        nonce = r.headers["DPoP-Nonce"]
        assert nonce
        wrong = key.proof(token_url(emu.url), claims={"nonce": "made-up"})
        refused(emu.url, body=code_body(grant), dpop=wrong, code="use_dpop_nonce")
        ok = post_token(emu.url, code_body(grant),
                        dpop=key.proof(token_url(emu.url), claims={"nonce": nonce}))
        assert ok.status == 200, ok.data
        assert ok.headers["DPoP-Nonce"]
    finally:
        stop_emulator(emu)


# -- A10: bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"grantType": "client_credentials"},
    {"grantType": None},
    {"clientId": "arn:aws:signin:::devtools/other"},
    {"codeVerifier": "short"},
    {"codeVerifier": "a" * 129},
    {"codeVerifier": "a" * 42 + "!"},
    {"codeVerifier": None},
    {"code": "c" * 513},
    {"code": None},
    {"redirectUri": "http://127.0.0.1:1/" + "x" * 2048},
    {"redirectUri": None},
], ids=lambda c: ",".join(f"{k}={str(v)[:12]}" for k, v in c.items()))
def test_a10_invalid_code_exchange_body(base, changes) -> None:
    refused(base, body=code_body(fresh_code(base), **changes))


def test_a10_verifier_with_trailing_newline(base) -> None:
    """A verifier ending in a newline is refused even when its S256 matches the challenge."""
    verifier = "v" * 64 + "\n"
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    r = get(authorize_url(base, challenge=challenge))
    assert r.status == 302, r.data[:300]
    code = query_of(r.headers["Location"])["code"]
    grant = Grant(code, verifier, default_redirect(base, SAME_DEVICE), SAME_DEVICE, "")
    refused(base, body=code_body(grant))


def test_a10_refresh_token_too_long(base) -> None:
    refused(base, body=refresh_body("r" * 4097))


def test_a10_refresh_token_missing(base) -> None:
    refused(base, body={"clientId": SAME_DEVICE, "grantType": "refresh_token"})


def test_a10_body_not_json(base) -> None:
    refused(base, body=b"{not json")


def test_a10_body_not_an_object(base) -> None:
    refused(base, body=b"[1, 2]")


# -- A11, A12: the code ------------------------------------------------------------------------


def test_a11_unknown_code(base) -> None:
    refused(base, body=code_body(fresh_code(base), code=str(uuid.uuid4())))


def test_a11_expired_code() -> None:
    emu = start_emulator("--auto-approve", "--code-ttl", "60")
    try:
        grant = auto_authorize(emu.url)
        from test_emulator_support import set_faults

        set_faults(emu.url, clock_offset=61)
        proof = DpopKey().proof(token_url(emu.url), claims={"iat": int(time.time()) + 61})
        refused(emu.url, body=code_body(grant), dpop=proof, status=401, code="AUTHCODE_EXPIRED",
                shape="AccessDeniedException")
    finally:
        stop_emulator(emu)


def jump_clock(url: str, seconds: int, key: DpopKey | None = None) -> str:
    """Move the emulator's clock *seconds* ahead (past the purge interval too); a proof for it."""
    from test_emulator_support import set_faults

    set_faults(url, clock_offset=seconds)
    return (key or DpopKey()).proof(token_url(url), claims={"iat": int(time.time()) + seconds})


def test_a11_expired_code_is_still_reported_expired_after_a_purge() -> None:
    emu = start_emulator("--auto-approve", "--code-ttl", "1")
    try:
        grant = auto_authorize(emu.url)
        # The jump passes the code's expiry and the purge interval, so this request purges.
        proof = jump_clock(emu.url, 120)
        refused(emu.url, body=code_body(grant), dpop=proof, status=401, code="AUTHCODE_EXPIRED",
                shape="AccessDeniedException")
    finally:
        stop_emulator(emu)


def test_a11_expired_code_is_forgotten_after_the_retention_window() -> None:
    emu = start_emulator("--auto-approve", "--code-ttl", "1")
    try:
        grant = auto_authorize(emu.url)
        proof = jump_clock(emu.url, 3600)  # far past expiry + max(ttl, 10 min)
        refused(emu.url, body=code_body(grant), dpop=proof)
    finally:
        stop_emulator(emu)


def test_a12_client_id_differs(base) -> None:
    refused(base, body=code_body(fresh_code(base), clientId=CROSS_DEVICE))


def test_a12_redirect_uri_differs(base) -> None:
    refused(base, body=code_body(fresh_code(base),
                                 redirectUri="http://127.0.0.1:54322/oauth/callback"))


def test_a12_verifier_does_not_match_challenge(base) -> None:
    refused(base, body=code_body(fresh_code(base), codeVerifier="v" * 64))


# -- A5: single use, reuse revokes -------------------------------------------------------------


def test_a5_code_reuse_refused_and_revokes_tokens(base) -> None:
    key = DpopKey()
    grant = fresh_code(base)
    out = exchange(base, grant, key)
    refused(base, body=code_body(grant), key=key)
    refused(base, body=refresh_body(out["refreshToken"]), key=key)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        sts_client(base, out["accessToken"]).get_caller_identity()
    assert info.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_a5_failed_exchange_still_consumes_code(base) -> None:
    key = DpopKey()
    grant = fresh_code(base)
    refused(base, body=code_body(grant, codeVerifier="v" * 64), key=key)
    refused(base, body=code_body(grant), key=key)


# -- A13, A14: binding and lifetime of refresh tokens ------------------------------------------


def test_a13_refresh_with_another_key(base) -> None:
    out = exchange(base, fresh_code(base), DpopKey())
    refused(base, body=refresh_body(out["refreshToken"]), key=DpopKey())


def test_a14_refresh_with_another_client(base) -> None:
    key = DpopKey()
    out = exchange(base, fresh_code(base), key)
    refused(base, body=refresh_body(out["refreshToken"], CROSS_DEVICE), key=key)


def test_a14_unknown_refresh_token(base) -> None:
    refused(base, body=refresh_body("aorAAAAAG" + "x" * 60))


def test_a14_session_past_lifetime() -> None:
    emu = start_emulator("--auto-approve", "--session-ttl", "120")
    try:
        from test_emulator_support import set_faults

        key = DpopKey()
        out = exchange(emu.url, auto_authorize(emu.url), key)
        set_faults(emu.url, clock_offset=121)
        proof = key.proof(token_url(emu.url), claims={"iat": int(time.time()) + 121})
        refused(emu.url, body=refresh_body(out["refreshToken"]), dpop=proof, status=401,
                code="TOKEN_EXPIRED", shape="AccessDeniedException")
    finally:
        stop_emulator(emu)


def test_a14_session_still_reported_expired_after_a_purge() -> None:
    emu = start_emulator("--auto-approve", "--session-ttl", "2")
    try:
        key = DpopKey()
        out = exchange(emu.url, auto_authorize(emu.url), key)
        proof = jump_clock(emu.url, 120, key)  # past the session's end and the purge interval
        refused(emu.url, body=refresh_body(out["refreshToken"]), dpop=proof, status=401,
                code="TOKEN_EXPIRED", shape="AccessDeniedException")
    finally:
        stop_emulator(emu)


# -- A15: rotation policies --------------------------------------------------------------------


def test_a15_aws_rotation_allows_reuse_within_window(base) -> None:
    key = DpopKey()
    out = exchange(base, fresh_code(base), key)
    first = refresh(base, out["refreshToken"], key)
    second = refresh(base, out["refreshToken"], key)  # a concurrent process with the old token
    assert first["refreshToken"] != second["refreshToken"]
    assert refresh(base, first["refreshToken"], key)["refreshToken"]


def test_a15_aws_rotation_old_token_expires_after_window() -> None:
    emu = start_emulator("--auto-approve")
    try:
        from test_emulator_support import set_faults

        key = DpopKey()
        out = exchange(emu.url, auto_authorize(emu.url), key)
        refresh(emu.url, out["refreshToken"], key)
        set_faults(emu.url, clock_offset=61)
        proof = key.proof(token_url(emu.url), claims={"iat": int(time.time()) + 61})
        refused(emu.url, body=refresh_body(out["refreshToken"]), dpop=proof)
    finally:
        stop_emulator(emu)


def test_a15_strict_rotation_reuse_revokes_family() -> None:
    emu = start_emulator("--auto-approve", "--refresh-rotation", "strict")
    try:
        key = DpopKey()
        out = exchange(emu.url, auto_authorize(emu.url), key)
        newer = refresh(emu.url, out["refreshToken"], key)
        refused(emu.url, body=refresh_body(out["refreshToken"]), key=key)
        refused(emu.url, body=refresh_body(newer["refreshToken"]), key=key)
    finally:
        stop_emulator(emu)
