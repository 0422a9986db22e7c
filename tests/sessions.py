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
