"""The emulator's browser side over real HTTP: SECURITY.md A1-A4, pages, JWKS and idTokens."""

from __future__ import annotations

import base64
import json
import re
import uuid
from html import unescape
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from test_emulator_support import (
    CROSS_DEVICE,
    DEFAULT_ARN,
    HTTP,
    SAME_DEVICE,
    DpopKey,
    authorize_url,
    auto_authorize,
    exchange,
    get,
    pkce,
    query_of,
    running,
)

ROOT = "arn:aws:iam::444455556666:root"
USER = "arn:aws:iam::444455556666:user/ops/bob"


@pytest.fixture(scope="module")
def auto():
    with running("--auto-approve") as e:
        yield e.url


@pytest.fixture(scope="module")
def manual():
    with running("--identity", DEFAULT_ARN, "--identity", USER, "--identity", ROOT) as e:
        yield e.url


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_error_page(r) -> None:
    assert r.status == 400
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")


# -- A1, A2: no redirect for a bad client or redirect URI ----------------------------------------


@pytest.mark.parametrize("client_id", ["", "arn:aws:signin:::devtools/evil", "same-device"])
def test_a1_unknown_client_gets_error_page(auto, client_id) -> None:
    assert_error_page(get(authorize_url(auto, client_id=client_id,
                                        redirect_uri="http://127.0.0.1:5000/oauth/callback")))


@pytest.mark.parametrize("redirect", [
    "http://evil.example/oauth/callback",
    "http://127.0.0.1:5000/oauth/callback/x",
    "http://127.0.0.1:5000/other",
    "https://127.0.0.1:5000/oauth/callback",
    "http://localhost:5000/oauth/callback",
    "http://127.0.0.1/oauth/callback",
    "http://127.0.0.1:99999/oauth/callback",
    "http://127.0.0.1:5000/oauth/callback?x=1",
    "{base}/v1/sessions/confirmation",
    "http://127.0.0.1:80/oauth/callback\n",  # `$` matches before a final newline
    "http://[::1]:5000/oauth/callback\n",
    "http://127.0.0.1:080/oauth/callback",  # no leading zeros: one port, one spelling
    "http://127.0.0.1:00080/oauth/callback",
    "http://127.0.0.1:0/oauth/callback",
    "http://127.0.0.1:00/oauth/callback",
])
def test_a2_same_device_redirect_must_be_loopback_callback(auto, redirect) -> None:
    url = authorize_url(auto, client_id=SAME_DEVICE, redirect_uri=redirect.format(base=auto))
    assert_error_page(get(url))


@pytest.mark.parametrize("redirect", [
    "http://127.0.0.1:5000/oauth/callback",
    "http://evil.example/v1/sessions/confirmation",
    "{base}/v1/sessions/confirmation/x",
    "{base}/v1/sessions/confirmation\n",
])
def test_a2_cross_device_redirect_must_be_confirmation_page(auto, redirect) -> None:
    url = authorize_url(auto, client_id=CROSS_DEVICE, redirect_uri=redirect.format(base=auto))
    assert_error_page(get(url))


def test_a2_ipv6_loopback_redirect_is_allowed(auto) -> None:
    r = get(authorize_url(auto, redirect_uri="http://[::1]:5000/oauth/callback"))
    assert r.status == 302
    assert r.headers["Location"].startswith("http://[::1]:5000/oauth/callback?code=")


# -- A3: parameter errors go back as error=invalid_request ---------------------------------------


@pytest.mark.parametrize("changes", [
    {"response_type": "token"},
    {"response_type": None},
    {"scope": "openid profile"},
    {"scope": None},
    {"code_challenge_method": "plain"},
    {"code_challenge_method": "S256"},
    {"code_challenge_method": None},
    {"code_challenge": None},
    {"code_challenge": "x" * 42},
    {"code_challenge": "x" * 42 + "="},
    {"code_challenge": "x" * 43 + "\n"},
])
def test_a3_parameter_errors_redirect_with_invalid_request(auto, changes) -> None:
    state = str(uuid.uuid4())
    r = get(authorize_url(auto, state=state, **changes))
    assert r.status == 302
    q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request"
    assert q["state"] == state
    assert "code" not in q


def test_a3_missing_state_is_refused(auto) -> None:
    url = authorize_url(auto).replace("state=", "nostate=")
    r = get(url)
    assert r.status == 302
    q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and "code" not in q


def test_a3_repeated_parameter_is_refused(auto) -> None:
    r = get(authorize_url(auto) + "&scope=openid")
    assert query_of(r.headers["Location"])["error"] == "invalid_request"


def test_a3_cross_device_error_lands_on_confirmation_page(auto) -> None:
    r = get(authorize_url(auto, client_id=CROSS_DEVICE, code_challenge_method="plain"))
    location = r.headers["Location"]
    assert location.startswith(f"{auto}/v1/sessions/confirmation?")
    page = get(location)
    assert page.status == 400
    assert b"verification-code" not in page.data


# -- A4: the session page, CSRF, cancel -----------------------------------------------------------


def session_page(base: str, **kw):
    state = str(uuid.uuid4())
    r = get(authorize_url(base, state=state, **kw))
    assert r.status == 200, r.data[:300]
    html = r.data.decode()
    fields = dict(re.findall(r'name="(request|csrf_token)" value="([^"]+)"', html))
    cookie = r.headers["Set-Cookie"].split(";")[0]
    return state, html, fields, cookie


def decide(base: str, fields: dict, cookie: str | None, **form):
    body = "&".join(f"{k}={v}" for k, v in {**fields, **form}.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    return HTTP.request("POST", f"{base}/v1/authorize", body=body.encode(), headers=headers,
                        redirect=False)


def test_a4_session_page_lists_identities_and_approves_chosen_one(manual) -> None:
    state, html, fields, cookie = session_page(manual)
    radios = re.findall(r'<input type="radio" name="identity" value="([^"]+)"( checked)?', html)
    assert [unescape(v) for v, _ in radios] == [DEFAULT_ARN, USER, ROOT]
    assert radios[0][1] == " checked" and not radios[1][1]
    assert 'id="approve"' in html and 'id="cancel"' in html
    assert "4444-5555-6666" in html and "IAM user" in html and "Root user" in html
    r = decide(manual, fields, cookie, identity=USER, action="approve")
    assert r.status == 303
    q = query_of(r.headers["Location"])
    assert r.headers["Location"].startswith("http://127.0.0.1:54321/oauth/callback?")
    assert q["state"] == state and q["code"]


def test_a4_cancel_redirects_access_denied(manual) -> None:
    state, _, fields, cookie = session_page(manual)
    r = decide(manual, fields, cookie, identity=DEFAULT_ARN, action="cancel")
    assert r.status == 303
    assert query_of(r.headers["Location"]) == {"error": "access_denied", "state": state}


@pytest.mark.parametrize("tamper", ["no-cookie", "wrong-token", "no-token", "wrong-request"])
def test_a4_csrf_protection(manual, tamper) -> None:
    _, _, fields, cookie = session_page(manual)
    if tamper == "no-cookie":
        cookie = None
    elif tamper == "wrong-token":
        fields["csrf_token"] = "x" * 43
    elif tamper == "no-token":
        del fields["csrf_token"]
    else:
        fields["request"] = "nope"
    r = decide(manual, fields, cookie, identity=DEFAULT_ARN, action="approve")
    assert r.status == 403
    assert "Location" not in r.headers


def test_a4_form_is_single_use(manual) -> None:
    _, _, fields, cookie = session_page(manual)
    assert decide(manual, fields, cookie, identity=DEFAULT_ARN, action="approve").status == 303
    assert decide(manual, fields, cookie, identity=DEFAULT_ARN, action="approve").status == 403


def test_a4_unknown_identity_refused(manual) -> None:
    _, _, fields, cookie = session_page(manual)
    r = decide(manual, fields, cookie, identity="arn:aws:iam::999999999999:root",
               action="approve")
    assert r.status == 400 and "Location" not in r.headers


def test_a4_page_cannot_be_framed(manual) -> None:
    r = get(authorize_url(manual))
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_approved_identity_is_the_idtoken_subject(manual) -> None:
    verifier, challenge = pkce()
    _, _, fields, cookie = session_page(manual, challenge=challenge)
    q = query_of(decide(manual, fields, cookie, identity=ROOT, action="approve")
                 .headers["Location"])
    from test_emulator_support import Grant

    grant = Grant(q["code"], verifier, "http://127.0.0.1:54321/oauth/callback", SAME_DEVICE,
                  q["state"])
    claims = json.loads(b64url_decode(exchange(manual, grant, DpopKey())["idToken"]
                                      .split(".")[1]))
    assert claims["sub"] == ROOT


# -- confirmation page, landing page, JWKS -------------------------------------------------------


def test_confirmation_page_shows_verification_code(auto) -> None:
    grant = auto_authorize(auto, CROSS_DEVICE)
    location = f"{auto}/v1/sessions/confirmation?code={grant.code}&state={grant.state}"
    page = get(location).data.decode()
    code = re.search(r'id="verification-code"[^>]*>([^<]+)<', page).group(1).strip()
    decoded = base64.b64decode(code, validate=True).decode()
    assert decoded == f"state={grant.state}&code={grant.code}"
    assert parse_qs(decoded) == {"state": [grant.state], "code": [grant.code]}
    assert 'id="copy"' in page and "terminal" in page


def test_idtoken_verifies_with_jwks(auto) -> None:
    out = exchange(auto, auto_authorize(auto), DpopKey())
    header_b64, claims_b64, sig_b64 = out["idToken"].split(".")
    header = json.loads(b64url_decode(header_b64))
    claims = json.loads(b64url_decode(claims_b64))
    jwks = json.loads(get(f"{auto}/.well-known/jwks.json").data)
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert header["alg"] == "ES256" and jwk["crv"] == "P-256"
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"),
        int.from_bytes(b64url_decode(jwk["y"]), "big"), ec.SECP256R1()).public_key()
    sig = b64url_decode(sig_b64)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    assert claims["sub"] == DEFAULT_ARN and claims["session_arn"] == DEFAULT_ARN
    assert claims["aud"] == SAME_DEVICE and claims["iss"] == auto
    assert claims["exp"] > claims["iat"]


def test_landing_page_documents_emulator(manual) -> None:
    page = get(f"{manual}/").data.decode()
    assert manual in page
    for text in (USER, ROOT, "/__emulator/stats", "/__emulator/faults", "throttle_next",
                 "GetCallerIdentity"):
        assert text in page


def test_stats_and_faults_are_json(auto) -> None:
    body = json.loads(get(f"{auto}/__emulator/stats").data)
    assert set(body) == {"token_requests", "code_grants", "refresh_grants", "errors"}
    assert all(isinstance(v, int) for v in body.values())


def test_fault_arn_with_trailing_newline_is_refused(auto) -> None:
    r = HTTP.request("POST", f"{auto}/__emulator/faults",
                     body=json.dumps({"credentials_changed": [DEFAULT_ARN + "\n"]}).encode(),
                     headers={"Content-Type": "application/json"})
    assert r.status == 400, r.data
    assert json.loads(r.data)["message"]
