"""Bodies over the size limit are refused while they arrive, not after being buffered (A10).

Each test streams a chunked body (no Content-Length) far over the 64 KiB limit with stdlib
`http.client`. The generator stops sending as soon as the emulator has answered, so a server
that reads the whole body first would only answer after all of it was sent: the tests assert
the refusal came early, that it has the endpoint's error shape, and that the server still works.
"""

from __future__ import annotations

import http.client
import json
import select
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from test_emulator_support import DpopKey, auto_authorize, exchange, running

LIMIT = 64 * 1024
CHUNK = 16 * 1024
TOTAL = 64 * 1024 * 1024  # 1024 times the limit


@dataclass
class Streamed:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    sent: int


def post_chunked(base: str, path: str, headers: dict[str, str]) -> Streamed:
    """POST up to TOTAL bytes chunked; stop sending once the server has answered."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.connect()
    sock = conn.sock
    sent = 0

    def body():
        nonlocal sent
        while sent < TOTAL:
            if select.select([sock], [], [], 0)[0]:
                return  # the answer is there: stop sending
            sent += CHUNK
            yield b"a" * CHUNK

    try:
        try:
            conn.request("POST", path, body=body(), headers=headers, encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed its side after answering; the answer is still readable
        response = conn.getresponse()
        return Streamed(response.status, response.msg, response.read(), sent)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def base():
    with running("--auto-approve") as emu:
        yield emu.url


def assert_still_healthy(base: str) -> None:
    key = DpopKey()
    out = exchange(base, auto_authorize(base), key)
    assert out["accessToken"]["accessKeyId"]


def test_token_endpoint_refuses_endless_chunked_body(base) -> None:
    r = post_chunked(base, "/v1/token", {
        "Content-Type": "application/json", "DPoP": DpopKey().proof(f"{base}/v1/token"),
    })
    assert r.sent < TOTAL, "the emulator only answered after reading the whole body"
    assert r.status == 400
    assert r.headers["x-amzn-errortype"] == "ValidationException"
    assert json.loads(r.body)["error"] == "INVALID_REQUEST"
    assert_still_healthy(base)


def test_sts_refuses_endless_chunked_body(base) -> None:
    r = post_chunked(base, "/", {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.sent < TOTAL, "the emulator only answered after reading the whole body"
    assert r.status == 400
    assert r.headers["Content-Type"].startswith("text/xml")
    assert b"<ErrorResponse" in r.body and b"<Code>ValidationError</Code>" in r.body
    assert_still_healthy(base)


def test_authorize_form_refuses_endless_chunked_body(base) -> None:
    r = post_chunked(base, "/v1/authorize",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.sent < TOTAL, "the emulator only answered after reading the whole body"
    assert r.status == 413
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Location" not in r.headers
    assert_still_healthy(base)
