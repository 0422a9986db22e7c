"""Test helpers for sessions: made-up credentials, and a real login session on the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from awslogin.credentials import Credentials


def make_creds(n: int = 1, minutes: int = 60) -> Credentials:
    """Credentials numbered *n*, valid for *minutes* from now."""
    return Credentials(
        access_key_id=f"ASIAEXAMPLE{n:09d}",
        secret_access_key=f"secret-{n}",
        session_token=f"token-{n}",
        expiration=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=minutes),
        account_id="111122223333",
    )


def write_fake_session(
    home,
    arn: str = "arn:aws:sts::111122223333:assumed-role/Developer/alice",
    *,
    profile: str = "default",
    seconds_left: float = 900,
    endpoint: str | None = "http://127.0.0.1:1",
    key_format: str = "sec1",
    region: str | None = "us-east-1",
    extra: dict | None = None,
) -> dict:
    """Write a config profile and a cache entry with made-up tokens; return the entry."""
    from cryptography.hazmat.primitives import serialization

    from awslogin import dpop
    from awslogin.credentials import format_time
    from awslogin.store import cache, config

    key = dpop.generate_key()
    if key_format == "pkcs8":
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    else:
        pem = dpop.key_to_pem(key)
    values = {"login_session": arn}
    if region:
        values["region"] = region
    config.update_section(config.section_name(profile), values)
    expires = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    token = {
        "accessToken": {
            "accessKeyId": "ASIAFAKEFAKEFAKE0001",
            "secretAccessKey": "fake-secret-access-key",
            "sessionToken": "fake-session-token",
            "accountId": arn.split(":")[4],
            "expiresAt": format_time(expires),
        },
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": "fake-refresh-token",
        "idToken": "e30.eyJzdWIiOiJ4IiwiaWF0IjoxNzAwMDAwMDAwfQ.sig",
        "dpopKey": pem,
    }
    if endpoint:
        token["signinEndpoint"] = endpoint
    token.update(extra or {})
    cache.save_token(arn, token)
    return token


def authorization_code(authorize_url: str) -> str:
    """Play the browser on an ``--auto-approve`` emulator: the code from the redirect."""
    import http.client
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(authorize_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        resp = conn.getresponse()
        resp.read()
        location = resp.getheader("Location") or ""
    finally:
        conn.close()
    assert resp.status in (302, 303), f"authorize answered {resp.status}"
    query = parse_qs(urlsplit(location).query)
    assert "code" in query, f"no code in the redirect: {location.split('?')[0]}"
    return query["code"][0]


def emulator_login(
    base_url: str,
    *,
    profile: str = "default",
    region: str = "us-east-1",
    key=None,
    remember_endpoint: bool = True,
) -> str:
    """Log *profile* in on an ``--auto-approve`` emulator without a browser; return the ARN.

    Writes exactly what `awslogin login` writes: the cache entry (with ``signinEndpoint``),
    ``login_session`` and region, and (with *remember_endpoint*) the ``services`` setting that
    makes botocore refresh at the emulator too.
    """
    from awslogin import dpop, signin
    from awslogin.login import flows
    from awslogin.login.pending import start_same_device

    pending = start_same_device(base_url, 1)  # nothing listens: the redirect is not followed
    code = authorization_code(pending.authorize_url)
    key = key or dpop.generate_key()
    client = signin.SigninClient(pending.base_url)
    token = client.exchange_code(client_id=pending.client_id, code=code,
                                 code_verifier=pending.code_verifier,
                                 redirect_uri=pending.redirect_uri, key=key)
    arn = signin.arn_from_id_token(token.id_token)
    session = flows.LoginSession(login_session=arn, account_id=signin.account_from_arn(arn),
                                 base_url=pending.base_url, client_id=pending.client_id,
                                 key=key, token=token, clock_offset=client.clock_offset)
    flows.save_login(session, profile, region_to_write=region, confirm_replace=lambda _: True)
    if remember_endpoint:
        from awslogin.store import config

        config.set_services_endpoint(profile, pending.base_url)
    return arn


def emulator_stats(base_url: str) -> dict:
    """The emulator's counters (token_requests, code_grants, refresh_grants, errors)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/__emulator/stats", timeout=10) as resp:
        return json.loads(resp.read())


def emulator_faults(base_url: str, **faults) -> None:
    """Inject faults: throttle_next, error_next, latency_ms, clock_offset, ..."""
    import json
    import urllib.request

    req = urllib.request.Request(f"{base_url}/__emulator/faults", method="POST",
                                 data=json.dumps(faults).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def botocore_token_url(region: str, profile: str | None = None) -> str:
    """Where botocore itself sends CreateOAuth2Token (captured before anything is sent)."""
    import botocore
    import botocore.config
    import botocore.session

    client = botocore.session.Session(profile=profile).create_client(
        "signin", region_name=region,
        config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    seen: list[str] = []

    def capture(request, **kwargs):
        seen.append(request.url)
        raise KeyboardInterrupt  # stop before the wire

    client.meta.events.register("before-send.signin.CreateOAuth2Token", capture)
    with pytest.raises(KeyboardInterrupt):
        client.create_o_auth2_token(
            tokenInput={"clientId": "c", "grantType": "refresh_token", "refreshToken": "r"})
    return seen[0]
