"""STS GetCallerIdentity on the emulator: SigV4 verified with the issued secret, STS errors."""

from __future__ import annotations

import hashlib
import re

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from awslogin.emulator import sigv4
from test_emulator_support import (
    DEFAULT_ARN,
    HTTP,
    DpopKey,
    auto_authorize,
    exchange,
    running,
    set_faults,
    sts_client,
)

BODY = "Action=GetCallerIdentity&Version=2011-06-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture(scope="module")
def emu():
    with running("--auto-approve", "--access-token-ttl", "3600") as e:
        yield e


@pytest.fixture
def base(emu) -> str:
    yield emu.url
    set_faults(emu.url, clock_offset=0)


@pytest.fixture
def creds(base) -> dict:
    return exchange(base, auto_authorize(base), DpopKey())["accessToken"]


def signed(base: str, creds: dict, *, body: str = BODY, service: str = "sts",
           token: bool = True) -> AWSRequest:
    request = AWSRequest(method="POST", url=f"{base}/", data=body,
                         headers={"Content-Type": FORM})
    credentials = Credentials(creds["accessKeyId"], creds["secretAccessKey"],
                              creds["sessionToken"] if token else None)
    SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, *, body: str | None = None, headers: dict | None = None):
    prepared = request.prepare()
    all_headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    all_headers.update(headers or {})
    data = body.encode() if body is not None else prepared.body
    if isinstance(data, str):
        data = data.encode()
    return HTTP.request("POST", prepared.url, body=data, headers=all_headers)


def error_code(response) -> str:
    assert response.status == 403, response.data
    return re.search(rb"<Code>([^<]+)</Code>", response.data).group(1).decode()


def test_get_caller_identity_with_issued_credentials(base, creds) -> None:
    reply = sts_client(base, creds).get_caller_identity()
    assert reply["Arn"] == DEFAULT_ARN
    assert reply["Account"] == "111122223333"
    assert reply["UserId"].startswith("AROA") and reply["UserId"].endswith(":alice")


def test_signed_request_passes_verbatim(base, creds) -> None:
    r = send(signed(base, creds))
    assert r.status == 200 and DEFAULT_ARN.encode() in r.data


def test_altered_body_is_refused(base, creds) -> None:
    r = send(signed(base, creds), body=BODY + "&Extra=1")
    assert error_code(r) == "SignatureDoesNotMatch"


def test_altered_signed_header_is_refused(base, creds) -> None:
    r = send(signed(base, creds), headers={"Content-Type": "text/plain"})
    assert error_code(r) == "SignatureDoesNotMatch"


def test_wrong_secret_is_refused(base, creds) -> None:
    r = send(signed(base, {**creds, "secretAccessKey": "x" * 40}))
    assert error_code(r) == "SignatureDoesNotMatch"


def test_wrong_service_scope_is_refused(base, creds) -> None:
    assert error_code(send(signed(base, creds, service="iam"))) == "SignatureDoesNotMatch"


def test_unsigned_session_token_is_refused(base, creds) -> None:
    request = signed(base, creds, token=False)
    r = send(request, headers={"X-Amz-Security-Token": creds["sessionToken"]})
    assert error_code(r) == "SignatureDoesNotMatch"


def test_unknown_key_is_invalid_client_token(base, creds) -> None:
    with pytest.raises(ClientError) as info:
        sts_client(base, {**creds, "accessKeyId": "ASIA" + "Z" * 16}).get_caller_identity()
    assert info.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_session_token_is_invalid_client_token(base, creds) -> None:
    with pytest.raises(ClientError) as info:
        sts_client(base, {**creds, "sessionToken": "forged"}).get_caller_identity()
    assert info.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_missing_authorization(base) -> None:
    r = HTTP.request("POST", f"{base}/", body=BODY.encode(), headers={"Content-Type": FORM})
    assert error_code(r) == "MissingAuthenticationToken"


def test_request_outside_fifteen_minutes_is_refused(base, creds) -> None:
    set_faults(base, clock_offset=16 * 60)
    with pytest.raises(ClientError) as info:
        sts_client(base, creds).get_caller_identity()
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_expired_credentials(base, creds) -> None:
    set_faults(base, clock_offset=3601)
    with pytest.raises(ClientError) as info:
        sts_client(base, creds).get_caller_identity()
    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_other_actions_are_not_implemented(base, creds) -> None:
    r = send(signed(base, creds, body="Action=AssumeRole&Version=2011-06-15"))
    assert r.status == 400 and b"InvalidAction" in r.data


# -- sigv4 module against botocore's signer, without HTTP ---------------------------------------


def _headers(request: AWSRequest) -> list[tuple[str, str]]:
    prepared = request.prepare()
    return [("host", "127.0.0.1:9"), *prepared.headers.items()]


def _verify(request: AWSRequest, secret: str, *, query: str = "", body: bytes | None = None):
    prepared = request.prepare()
    auth = sigv4.parse_authorization(prepared.headers["Authorization"])
    amz = prepared.headers["X-Amz-Date"]
    import calendar
    import time

    now = calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ"))
    sigv4.verify(method="POST", raw_path="/", raw_query=query, headers=_headers(request),
                 body=body if body is not None else prepared.body.encode(), auth=auth,
                 secret=secret, service="sts", now=now)


def test_sigv4_accepts_botocore_signature_with_query() -> None:
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/?b=2&a=1%20x", data=BODY,
                         headers={"Content-Type": FORM})
    SigV4Auth(Credentials("ASIAEXAMPLE", "s" * 40, "tok"), "sts", "us-east-1").add_auth(request)
    _verify(request, "s" * 40, query="b=2&a=1%20x")
    with pytest.raises(sigv4.SignatureError):
        _verify(request, "s" * 40, query="b=3&a=1%20x")
    with pytest.raises(sigv4.SignatureError):
        _verify(request, "s" * 40, query="b=2&a=1%20x", body=b"Action=Other")


def test_sigv4_payload_hash_header_must_match() -> None:
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=BODY,
                         headers={"Content-Type": FORM,
                                  "X-Amz-Content-Sha256": hashlib.sha256(b"other").hexdigest()})
    SigV4Auth(Credentials("ASIAEXAMPLE", "s" * 40), "sts", "us-east-1").add_auth(request)
    with pytest.raises(sigv4.SignatureError):
        _verify(request, "s" * 40)
