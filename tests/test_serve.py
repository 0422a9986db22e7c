"""The loopback container-credentials endpoint, read by botocore's own container provider."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from awslogin.credentials import Credentials
from awslogin.errors import LoginRequiredError
from awslogin.serve import CredentialsServer
from sessions import make_creds


def _get(server: CredentialsServer, *, token: str | None = None, host: str | None = None,
         path: str = "/awslogin/credentials", method: str = "GET"):
    port = int(server.url.split(":")[2].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": server.token if token is None else token}
    if host is not None:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", host)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
    else:
        conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    body = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, body


def test_botocore_container_provider_reads_and_refreshes_from_it(monkeypatch):
    from botocore.credentials import ContainerProvider

    calls = []

    def source() -> Credentials:
        calls.append(1)
        # Expiring soon, so botocore must come back for each use.
        return make_creds(len(calls), minutes=1)

    with CredentialsServer(source) as server:
        env = server.environment()
        assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
        assert len(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]) >= 32
        creds = ContainerProvider(environ=env).load()
        first = creds.get_frozen_credentials()
        n = len(calls)
        assert first.access_key == f"ASIAEXAMPLE{n:09d}"
        assert first.secret_key == f"secret-{n}" and first.token == f"token-{n}"
        second = creds.get_frozen_credentials()
        assert len(calls) == n + 1  # botocore came back for fresh credentials
        assert second.access_key == f"ASIAEXAMPLE{n + 1:09d}"


def test_each_server_has_its_own_random_token():
    a, b = CredentialsServer(make_creds), CredentialsServer(make_creds)
    try:
        assert a.token != b.token and a.url != b.url
    finally:
        a.close()
        b.close()


def test_wrong_token_host_path_or_method_get_nothing():
    with CredentialsServer(make_creds) as server:
        assert _get(server)[0] == 200
        status, body = _get(server, token="wrong")
        assert status == 401 and "AccessKeyId" not in body
        assert _get(server, token="")[0] == 401
        port = server.url.split(":")[2].split("/")[0]
        assert _get(server, host=f"attacker.example:{port}")[0] == 400  # DNS rebinding
        assert _get(server, path="/")[0] == 404
        assert _get(server, method="POST")[0] == 405


def test_source_errors_become_an_http_error_with_the_plain_message(caplog):
    def source() -> Credentials:
        raise LoginRequiredError("Your session ended: run awslogin login.")

    with CredentialsServer(source) as server:
        status, body = _get(server)
    assert status == 503
    assert body["Message"] == "Your session ended: run awslogin login."
    assert "Your session ended" in caplog.text  # the user of `exec` is told too


def test_close_releases_the_port():
    server = CredentialsServer(make_creds).start()
    url = server.url
    server.close()
    port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/awslogin/credentials")
        conn.getresponse()


def test_concurrent_requests_are_served():
    with CredentialsServer(make_creds) as server:
        results: list[int] = []

        def hit() -> None:
            results.append(_get(server)[0])

        threads = [threading.Thread(target=hit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    assert results == [200] * 8
