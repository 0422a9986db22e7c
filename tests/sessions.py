"""Test helpers for sessions: made-up credentials, and a real login session on the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
