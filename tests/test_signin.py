"""signin.py: endpoint resolution, token calls with DPoP, retries, clock skew, error mapping.

A stub token endpoint on loopback (http.server in a thread) controls status, headers and the
Date header; the real emulator proves the calls interoperate end to end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
import urllib.parse
import urllib.request
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from awslogin import dpop, signin
from awslogin.errors import (
    AwsloginError,
    ConfigError,
    EndpointUnreachableError,
    SignInServiceError,
    UsageError,
)
from sessions import botocore_token_url

REFRESH_TOKEN = "rt-" + "R" * 40
SECRET = "S" * 40
SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
ARN = "arn:aws:sts::123456789012:assumed-role/Admin/alice"


def b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(payload: dict) -> str:
    return f"{b64e(b'{}')}.{b64e(json.dumps(payload).encode())}.{b64e(b'sig')}"


def check_proof(proof: str, url: str) -> dict:
    """Verify a DPoP proof like a server would; return its claims."""
    h, p, s = proof.split(".")
    header, claims, sig = json.loads(b64d(h)), json.loads(b64d(p)), b64d(s)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    jwk = header["jwk"]
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64d(jwk["x"]), "big"), int.from_bytes(b64d(jwk["y"]), "big"),
        ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    assert claims["htm"] == "POST" and claims["htu"] == url
    return claims


def success(id_token: str | None = None, expires_in: int = 900) -> dict:
    body = {"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": SECRET,
                            "sessionToken": "session-token"},
            "tokenType": "aws_sigv4", "expiresIn": expires_in, "refreshToken": "rt-new"}
    if id_token:
        body["idToken"] = id_token
    return body


def error(status: int, shape: str, code: str) -> tuple[int, dict, dict]:
    return status, {"x-amzn-errortype": shape}, {"error": code, "message": "nope " + code}


class Stub:
    """A token endpoint whose answers the test scripts; records every request."""

    def __init__(self) -> None:
        self.answers: list = []
        self.requests: list[dict] = []
        self.skew = 0.0  # the stub's clock minus real time
        self.max_iat_skew: float | None = None  # refuse proofs further than this from our clock
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                proof = self.headers.get("DPoP", "")
                stub.requests.append({"path": self.path, "body": body, "dpop": proof,
                                      "dpop_count": len(self.headers.get_all("DPoP") or [])})
                now = time.time() + stub.skew
                if stub.max_iat_skew is not None:
                    iat = json.loads(b64d(proof.split(".")[1]))["iat"]
                    if abs(iat - now) > stub.max_iat_skew:
                        self.reply(*error(400, "ValidationException", "INVALID_REQUEST"), now)
                        return
                answer = stub.answers.pop(0) if stub.answers else (200, {}, success())
                if isinstance(answer, dict):
                    answer = (200, {}, answer)
                self.reply(*answer, now)

            def reply(self, status: int, headers: dict, body, now: float) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response_only(status)
                self.send_header("Date", formatdate(now, usegmt=True))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub(aws_home):
    server = Stub()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _reset_skew_warning(monkeypatch):
    from awslogin import signin_errors

    monkeypatch.setattr(signin_errors, "_skew_warned", False)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(url: str, **kwargs) -> tuple[signin.SigninClient, Sleeps]:
    sleeps = Sleeps()
    return signin.SigninClient(url, sleep=sleeps, **kwargs), sleeps


# --- token calls against the stub ----------------------------------------------------------------


def test_refresh_success_request_and_result(stub) -> None:
    key = dpop.generate_key()
    c, sleeps = client(stub.url + "/", clock=lambda: 1_000_000.0, max_attempts=4)
    result = c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=key)
    assert result.access_key_id == "ASIAEXAMPLE" and result.secret_access_key == SECRET
    assert result.session_token == "session-token" and result.refresh_token == "rt-new"
    assert result.id_token is None and result.expires_in == 900
    assert result.expires_at.timestamp() == 1_000_000.0 + 900
    assert result.expires_at.tzinfo is not None
    assert SECRET not in repr(result) and "rt-new" not in repr(result)
    [request] = stub.requests
    assert request["path"] == "/v1/token" and request["dpop_count"] == 1
    assert request["body"] == {"clientId": SAME_DEVICE, "grantType": "refresh_token",
                               "refreshToken": REFRESH_TOKEN}
    claims = check_proof(request["dpop"], stub.url + "/v1/token")
    assert claims["iat"] == 1_000_000
    assert sleeps == []


def test_exchange_request_body_and_id_token(stub) -> None:
    stub.answers.append(success(id_token=jwt({"sub": ARN})))
    c, _ = client(stub.url)
    result = c.exchange_code(client_id=SAME_DEVICE, code="the-code", code_verifier="v" * 64,
                             redirect_uri="http://127.0.0.1:5/oauth/callback",
                             key=dpop.generate_key())
    assert signin.arn_from_id_token(result.id_token) == ARN
    assert stub.requests[0]["body"] == {
        "clientId": SAME_DEVICE, "grantType": "authorization_code", "code": "the-code",
        "codeVerifier": "v" * 64, "redirectUri": "http://127.0.0.1:5/oauth/callback"}


def test_refresh_retries_5xx_and_429_with_new_proof_each_time(stub) -> None:
    stub.answers += [error(500, "InternalServerException", "server_error"),
                     error(429, "TooManyRequestsError", "throttled"),
                     error(503, "ServiceUnavailable", ""), success()]
    c, sleeps = client(stub.url, max_attempts=4)
    c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert len(stub.requests) == 4 and c.attempts == 4
    jtis = {check_proof(r["dpop"], stub.url + "/v1/token")["jti"] for r in stub.requests}
    assert len(jtis) == 4
    assert len(sleeps) == 3 and all(s > 0 for s in sleeps)
    assert sleeps[2] > sleeps[0]  # backs off


def test_refresh_gives_up_after_max_attempts(stub) -> None:
    stub.answers += [error(429, "TooManyRequestsError", "")] * 5
    c, sleeps = client(stub.url, max_attempts=3)
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert len(stub.requests) == 3 and len(sleeps) == 2
    assert err.value.status == 429 and "throttling" in str(err.value)


def test_exchange_is_never_retried(stub) -> None:
    stub.answers += [error(500, "InternalServerException", "server_error"), success()]
    c, sleeps = client(stub.url, max_attempts=4)
    with pytest.raises(SignInServiceError) as err:
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=dpop.generate_key())
    assert len(stub.requests) == 1 and sleeps == []
    assert err.value.status == 500 and "server error" in str(err.value)


@pytest.mark.parametrize("answer, code, words", [
    (error(401, "AccessDeniedException", "AUTHCODE_EXPIRED"), "AUTHCODE_EXPIRED",
     "took too long"),
    (error(401, "AccessDeniedException", "TOKEN_EXPIRED"), "TOKEN_EXPIRED", "session ended"),
    (error(403, "AccessDeniedException", "USER_CREDENTIALS_CHANGED"), "USER_CREDENTIALS_CHANGED",
     "session ended"),
    (error(403, "AccessDeniedException", "INSUFFICIENT_PERMISSIONS"),
     "INSUFFICIENT_PERMISSIONS", "SignInLocalDevelopmentAccess"),
    (error(400, "ValidationException", "INVALID_REQUEST"), "INVALID_REQUEST", "INVALID_REQUEST"),
    (error(418, "Teapot", "<script>" + "x" * 100), "", "HTTP 418"),
])
def test_error_mapping(stub, answer, code, words) -> None:
    stub.answers.append(answer)
    c, sleeps = client(stub.url)
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    message = str(err.value)
    assert words in message and err.value.code == code
    assert err.value.status == answer[0]
    assert REFRESH_TOKEN not in message and "<script>" not in message and "nope" not in message
    assert sleeps == [] and len(stub.requests) == 1  # refusals are not retried
    if code in ("TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "AUTHCODE_EXPIRED"):
        assert "awslogin login" in message
    if code == "INSUFFICIENT_PERMISSIONS":
        assert "signin:AuthorizeOAuth2Access" in message
        assert "signin:CreateOAuth2Token" in message


@pytest.mark.parametrize("body", [
    {"accessToken": {"accessKeyId": "A"}, "expiresIn": 900},
    {**success(), "refreshToken": ""},
    {**success(), "idToken": 5},
])
def test_incomplete_response(stub, body) -> None:
    stub.answers += [body] * 4
    c, sleeps = client(stub.url, max_attempts=3)
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert "incomplete" in str(err.value)
    assert len(stub.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("answer", [
    (502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>"),
    (200, {}, b"<html>captive portal</html>"),
    (200, {}, b"not json at all {"),
])
def test_garbled_responses_are_plain_errors(stub, answer) -> None:
    stub.answers += [answer] * 4
    c, sleeps = client(stub.url, max_attempts=2)
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert "<html>" not in str(err.value)
    assert len(stub.requests) == 2 and len(sleeps) == 1  # a refresh tries again
    c, sleeps = client(stub.url)
    with pytest.raises(SignInServiceError):
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=dpop.generate_key())
    assert sleeps == [] and len(stub.requests) == 3  # the exchange never does


def test_unreachable_names_endpoint_and_retries(aws_home) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    c, sleeps = client(url, max_attempts=3)
    with pytest.raises(EndpointUnreachableError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert f"{url}/v1/token" in str(err.value)
    assert len(sleeps) == 2
    c, sleeps = client(url, max_attempts=3)
    with pytest.raises(EndpointUnreachableError):
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=dpop.generate_key())
    assert sleeps == []


@pytest.mark.parametrize("skew", [3600.0, -7200.0])
def test_clock_skew_is_measured_corrected_and_warned_once(stub, caplog, skew) -> None:
    stub.skew = skew
    stub.max_iat_skew = 60
    key = dpop.generate_key()
    c, sleeps = client(stub.url)
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=key)
        # first proof refused for its iat, the retry carried the corrected iat
        assert len(stub.requests) == 2 and sleeps == []
        assert abs(c.clock_offset - skew) < 5
        # later calls use the offset straight away
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=key)
        assert len(stub.requests) == 3
        iat = json.loads(b64d(stub.requests[2]["dpop"].split(".")[1]))["iat"]
        assert abs(iat - (time.time() + skew)) < 10
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    direction = "behind" if skew > 0 else "ahead of"
    import re
    shown = re.search(r"Your clock is (\d+) seconds (behind|ahead of) AWS Sign-In", warnings[0])
    assert shown and abs(int(shown.group(1)) - abs(skew)) <= 2 and shown.group(2) == direction
    assert "fix the system clock" in warnings[0]


def test_known_offset_applied_from_the_start(stub) -> None:
    stub.skew = 900.0
    stub.max_iat_skew = 60
    c, _ = client(stub.url, clock_offset=900.0)
    c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert len(stub.requests) == 1


def test_invalid_request_without_skew_is_not_retried(stub) -> None:
    stub.answers.append(error(400, "ValidationException", "INVALID_REQUEST"))
    c, _ = client(stub.url)
    with pytest.raises(SignInServiceError):
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=dpop.generate_key())
    assert len(stub.requests) == 1


def test_skew_retry_happens_once(stub) -> None:
    stub.skew = 3600.0
    stub.answers += [error(400, "ValidationException", "INVALID_REQUEST")] * 3
    c, _ = client(stub.url)
    with pytest.raises(SignInServiceError) as err:
        c.exchange_code(client_id=SAME_DEVICE, code="c", code_verifier="v" * 43,
                        redirect_uri="http://127.0.0.1:5/oauth/callback", key=dpop.generate_key())
    assert len(stub.requests) == 2
    assert "clock" in str(err.value)


def test_no_secret_in_debug_log(stub, caplog) -> None:
    stub.answers += [error(500, "InternalServerException", ""), success(jwt({"sub": ARN}))]
    c, _ = client(stub.url)
    with caplog.at_level(logging.DEBUG, logger="awslogin"):
        c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("awslogin"))
    assert "POST" in text
    for secret in (REFRESH_TOKEN, SECRET, "session-token", "rt-new",
                   *(r["dpop"] for r in stub.requests)):
        assert secret not in text


# --- endpoint resolution -------------------------------------------------------------------------


@pytest.mark.parametrize("region, url", [
    ("us-east-1", "https://us-east-1.signin.aws.amazon.com"),
    ("eu-west-3", "https://eu-west-3.signin.aws.amazon.com"),
    ("cn-north-1", "https://cn-north-1.signin.amazonaws.cn"),
    ("us-gov-west-1", "https://us-gov-west-1.signin.amazonaws-us-gov.com"),
])
def test_resolve_partitions(aws_home, region, url) -> None:
    assert signin.resolve_endpoint(region) == url


@pytest.mark.parametrize("region", ["ap-southeast-2", "eu-central-1", "cn-northwest-1",
                                    "us-gov-east-1"])
def test_resolve_matches_botocore_request_url(aws_home, region) -> None:
    assert signin.resolve_endpoint(region) + "/v1/token" == botocore_token_url(region)


def test_resolve_overrides(aws_home, monkeypatch) -> None:
    aws_home.config.write_text(
        "[profile ep]\nendpoint_url = http://127.0.0.1:1111/\n"
        "[profile svc]\nservices = s\n[services s]\nsignin =\n  endpoint_url = http://127.0.0.1:2222\n"
    )
    assert signin.resolve_endpoint("us-east-1", profile="ep") == "http://127.0.0.1:1111"
    assert signin.resolve_endpoint("us-east-1", profile="svc") == "http://127.0.0.1:2222"
    assert botocore_token_url("us-east-1", "svc") == "http://127.0.0.1:2222/v1/token"
    assert signin.resolve_endpoint("us-east-1", profile="absent") == \
        "https://us-east-1.signin.aws.amazon.com"
    assert signin.resolve_endpoint("us-east-1", profile="svc",
                                   endpoint_url="http://127.0.0.1:4/x/") == "http://127.0.0.1:4/x"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3333")
    assert signin.resolve_endpoint("us-east-1") == "http://127.0.0.1:3333"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:4444")
    assert signin.resolve_endpoint("us-east-1", profile="absent") == "http://127.0.0.1:4444"
    monkeypatch.setenv("AWS_PROFILE", "absent")
    assert signin.resolve_endpoint("us-east-1") == "http://127.0.0.1:4444"


def test_standard_endpoint_ignores_overrides(aws_home, monkeypatch) -> None:
    aws_home.config.write_text("[default]\nendpoint_url = http://127.0.0.1:1111\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:4444")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3333")
    assert signin.standard_endpoint("eu-west-1") == "https://eu-west-1.signin.aws.amazon.com"
    assert signin.standard_endpoint("cn-north-1") == "https://cn-north-1.signin.amazonaws.cn"
    monkeypatch.delenv("AWS_ENDPOINT_URL_SIGNIN")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    aws_home.config.write_text("")
    assert signin.standard_endpoint("eu-west-1") == signin.resolve_endpoint("eu-west-1")


def test_resolve_bad_input(aws_home) -> None:
    with pytest.raises(UsageError):
        signin.resolve_endpoint("us-east-1", endpoint_url="ftp://x")
    with pytest.raises(UsageError):
        signin.resolve_endpoint("not a region!")
    with pytest.raises(UsageError):
        signin.resolve_endpoint("")


BROKEN_CONFIG = (
    "[default]\nlogin_session = arn:aws:sts::1:x\nsso_session = missing\nregion = us-east-1\n"
    "[profile svc]\nservices = nosuch\nregion = us-east-1\n"
    "[profile bad]\nendpoint_url = notaurl\nregion = us-east-1\n"
)


@pytest.mark.parametrize("profile, words", [
    ("default", ['"missing" sso_session']),
    ("svc", ['"nosuch" services']),
    ("bad", ["endpoint_url", "'notaurl'", "profile bad"]),
])
def test_config_botocore_refuses_is_a_config_error_naming_the_file(aws_home, profile, words):
    aws_home.config.write_text(BROKEN_CONFIG)
    with pytest.raises(ConfigError) as caught:
        signin.resolve_endpoint("us-east-1", profile=profile)
    message = str(caught.value)
    assert str(aws_home.config) in message
    for word in words:
        assert word in message
    assert "ValueError" not in message and "region" not in message.split(".")[0]


def test_signin_client_reports_a_config_botocore_refuses(aws_home):
    aws_home.config.write_text(BROKEN_CONFIG)
    client = signin.SigninClient("http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="sso_session"):
        client.prepare()  # what login can call before the browser opens
    with pytest.raises(ConfigError, match="sso_session") as caught:
        client.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=dpop.generate_key())
    assert str(aws_home.config) in str(caught.value)


def test_endpoint_variable_that_is_not_a_url_is_named(aws_home, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", "notaurl")
    with pytest.raises(UsageError, match="AWS_ENDPOINT_URL_SIGNIN"):
        signin.resolve_endpoint("us-east-1")


# --- the identity token --------------------------------------------------------------------------


@pytest.mark.parametrize("arn", [
    ARN, "arn:aws:iam::123456789012:user/path/bob", "arn:aws:iam::123456789012:root",
    "arn:aws-cn:sts::123456789012:assumed-role/R/s@example.com",
    "arn:aws-us-gov:iam::123456789012:user/x+y=z,w.v-u_t",
])
def test_arn_from_id_token_valid(arn) -> None:
    assert signin.arn_from_id_token(jwt({"sub": arn, "aud": "x"})) == arn
    assert signin.account_from_arn(arn) == "123456789012"


@pytest.mark.parametrize("token", [
    jwt({"sub": "arn:aws:s3:::bucket"}), jwt({"sub": "arn:aws:sts::12345:assumed-role/a/b"}),
    jwt({"sub": ARN + "\n[profile evil]"}), jwt({"sub": ARN + "]"}), jwt({"sub": ARN + " x"}),
    jwt({"sub": "arn:aws:iam::123456789012:user/" + "a" * 3000}), jwt({"nosub": 1}),
    jwt({"sub": 5}), "a.b", "not-a-jwt", "x.!!!.y", f"x.{b64e(b'[1]')}.y",
])
def test_arn_from_id_token_invalid(token) -> None:
    with pytest.raises(AwsloginError) as err:
        signin.arn_from_id_token(token)
    assert "identity token" in str(err.value)


def test_account_from_bad_arn() -> None:
    with pytest.raises(AwsloginError):
        signin.account_from_arn("arn:aws:s3:::bucket")


# --- the real emulator ---------------------------------------------------------------------------


def authorize_code(base_url: str, *, redirect_port: int = 43210) -> tuple[str, str, str]:
    """Run the emulator's same-device authorize step (auto-approved); return code, verifier,
    redirect URI."""
    verifier = secrets.token_urlsafe(48)
    challenge = b64e(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = f"http://127.0.0.1:{redirect_port}/oauth/callback"
    state = "3f6f3c4e-8a0e-4b43-9a53-6a4d2f0b7c11"
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": SAME_DEVICE, "state": state,
        "code_challenge_method": "SHA-256", "scope": "openid", "redirect_uri": redirect_uri,
        "code_challenge": challenge})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    location = None
    try:
        with opener.open(f"{base_url}/v1/authorize?{query}", timeout=10) as response:
            location = response.headers.get("Location")
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location")
    assert location, "the emulator did not redirect"
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert params["state"] == [state]
    return params["code"][0], verifier, redirect_uri


def test_emulator_exchange_and_refresh(emulator, aws_home) -> None:
    key = dpop.generate_key()
    code, verifier, redirect_uri = authorize_code(emulator.url)
    c = signin.SigninClient(emulator.url)
    token = c.exchange_code(client_id=SAME_DEVICE, code=code, code_verifier=verifier,
                            redirect_uri=redirect_uri, key=key)
    arn = signin.arn_from_id_token(token.id_token)
    assert arn == "arn:aws:sts::111122223333:assumed-role/Developer/alice"
    assert signin.account_from_arn(arn) == "111122223333"
    assert c.clock_offset is not None and abs(c.clock_offset) < 5
    refreshed = c.refresh(client_id=SAME_DEVICE, refresh_token=token.refresh_token, key=key)
    assert refreshed.id_token is None
    assert refreshed.access_key_id != token.access_key_id
    # the code is single-use: a second exchange is refused, with a plain message
    with pytest.raises(SignInServiceError) as err:
        c.exchange_code(client_id=SAME_DEVICE, code=code, code_verifier=verifier,
                        redirect_uri=redirect_uri, key=key)
    assert err.value.status in (400, 401)
    assert code not in str(err.value)
    # the refresh token is bound to the key: another key is refused
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=refreshed.refresh_token,
                  key=dpop.generate_key())
    assert refreshed.refresh_token not in str(err.value)


def test_emulator_faults_are_retried(emulator_factory, aws_home) -> None:
    emu = emulator_factory("--auto-approve", "--error-first", "1")
    key = dpop.generate_key()
    code, verifier, redirect_uri = authorize_code(emu.url)
    sleeps = Sleeps()
    c = signin.SigninClient(emu.url, sleep=sleeps)
    # the exchange is never retried: the first fault ends it
    with pytest.raises(SignInServiceError) as err:
        c.exchange_code(client_id=SAME_DEVICE, code=code, code_verifier=verifier,
                        redirect_uri=redirect_uri, key=key)
    assert err.value.status == 500 and sleeps == [] and c.attempts == 1
    code, verifier, redirect_uri = authorize_code(emu.url)
    token = c.exchange_code(client_id=SAME_DEVICE, code=code, code_verifier=verifier,
                            redirect_uri=redirect_uri, key=key)
    assert token.id_token


def test_emulator_refresh_retries_faults(emulator_factory, aws_home) -> None:
    emu = emulator_factory("--auto-approve")
    key = dpop.generate_key()
    code, verifier, redirect_uri = authorize_code(emu.url)
    token = signin.SigninClient(emu.url).exchange_code(
        client_id=SAME_DEVICE, code=code, code_verifier=verifier, redirect_uri=redirect_uri,
        key=key)
    faulty = emulator_factory("--auto-approve", "--throttle-first", "1", "--error-first", "1")
    sleeps = Sleeps()
    c = signin.SigninClient(faulty.url, sleep=sleeps)
    # a refresh token from another emulator is refused, but only after the faults are retried
    with pytest.raises(SignInServiceError) as err:
        c.refresh(client_id=SAME_DEVICE, refresh_token=token.refresh_token, key=key)
    assert len(sleeps) == 2 and c.attempts == 3
    assert err.value.status == 400


def test_emulator_clock_skew_corrected(emulator_factory, aws_home, caplog) -> None:
    emu = emulator_factory("--auto-approve", "--clock-offset", "-3600")
    key = dpop.generate_key()
    code, verifier, redirect_uri = authorize_code(emu.url)
    c = signin.SigninClient(emu.url)
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        token = c.exchange_code(client_id=SAME_DEVICE, code=code, code_verifier=verifier,
                                redirect_uri=redirect_uri, key=key)
    assert c.attempts == 2
    assert abs(c.clock_offset + 3600) < 5
    assert any("ahead of AWS Sign-In" in r.getMessage() for r in caplog.records)
    c.refresh(client_id=SAME_DEVICE, refresh_token=token.refresh_token, key=key)
    assert c.attempts == 3


def test_offset_follows_the_latest_measurement(stub) -> None:
    stub.skew = 600.0
    key = dpop.generate_key()
    c, _ = client(stub.url)
    c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=key)
    assert abs(c.clock_offset - 600) < 5
    stub.skew = 0.0  # the clock was fixed
    stub.max_iat_skew = 60
    c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=key)  # still +600: refused
    c.refresh(client_id=SAME_DEVICE, refresh_token=REFRESH_TOKEN, key=key)
    assert abs(c.clock_offset) < 5
    assert len(stub.requests) == 4  # one refused proof, then straight through
    iat = json.loads(b64d(stub.requests[-1]["dpop"].split(".")[1]))["iat"]
    assert abs(iat - time.time()) < 10
