"""A login waiting for its authorization code: the values "start" makes and "finish" consumes.

Both browser flows (PROTOCOL.md §1) begin the same way: a fresh `state` (UUID4), a PKCE
verifier with 384 bits of entropy and its S256 challenge, a client id and a redirect URI. This
module makes that value and the authorize URL built from it; it does no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

SAME_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/cross-device"
CALLBACK_PATH = "/oauth/callback"
CONFIRMATION_PATH = "/v1/sessions/confirmation"

# 48 random bytes -> 64 characters of [A-Za-z0-9-_]: the AWS CLI's length, 384 bits.
_VERIFIER_BYTES = 48


def new_state() -> str:
    """A fresh, unguessable `state` value (SECURITY.md B4)."""
    return str(uuid.uuid4())


def new_code_verifier() -> str:
    """A PKCE verifier: 64 characters from the RFC 7636 alphabet, 384 bits of entropy."""
    return secrets.token_urlsafe(_VERIFIER_BYTES)


def code_challenge(verifier: str) -> str:
    """The S256 challenge: base64url(sha256(verifier)) without `=` padding (43 characters)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class PendingLogin:
    """One login attempt between opening the authorize URL and exchanging the code."""

    base_url: str
    client_id: str
    redirect_uri: str
    state: str
    code_verifier: str = field(repr=False)
    code_challenge: str

    @property
    def authorize_url(self) -> str:
        """The URL the user opens in a browser, in the AWS CLI's parameter order."""
        query = urlencode(
            [
                ("response_type", "code"),
                ("client_id", self.client_id),
                ("state", self.state),
                ("code_challenge_method", "SHA-256"),
                ("scope", "openid"),
                ("redirect_uri", self.redirect_uri),
                ("code_challenge", self.code_challenge),
            ],
            safe="",
        )
        return f"{self.base_url}/v1/authorize?{query}"


def _start(base_url: str, client_id: str, redirect_uri: str) -> PendingLogin:
    verifier = new_code_verifier()
    return PendingLogin(
        base_url=base_url.rstrip("/"),
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=new_state(),
        code_verifier=verifier,
        code_challenge=code_challenge(verifier),
    )


def start_same_device(base_url: str, port: int) -> PendingLogin:
    """Begin a same-device login whose browser comes back to the loopback receiver on *port*."""
    return _start(
        base_url, SAME_DEVICE_CLIENT_ID, f"http://127.0.0.1:{port}{CALLBACK_PATH}"
    )


def start_cross_device(base_url: str) -> PendingLogin:
    """Begin a cross-device login whose browser ends on the service's confirmation page."""
    base = base_url.rstrip("/")
    return _start(base, CROSS_DEVICE_CLIENT_ID, f"{base}{CONFIRMATION_PATH}")
