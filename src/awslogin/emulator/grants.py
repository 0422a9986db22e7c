"""The two grants of the token endpoint (SECURITY.md A10-A15), independent of HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

from awslogin.emulator.state import (
    REFRESH_GRACE,
    AccessKey,
    CodeRecord,
    Session,
    Store,
    token_hash,
)
from awslogin.emulator.tokens import (
    SigningKey,
    new_access_key_id,
    new_refresh_token,
    new_secret_access_key,
    new_session_token,
)

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CLIENTS = (SAME_DEVICE, CROSS_DEVICE)
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # fullmatch: `$` allows a final "\n"
MAX_CODE = 512
MAX_REDIRECT_URI = 2048
MAX_REFRESH_TOKEN = 4096


class TokenError(Exception):
    """A refused token request: HTTP status, error shape, `error` code and message."""

    def __init__(self, status: int, shape: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.shape, self.code, self.message = status, shape, code, message


def invalid(message: str) -> TokenError:
    """ValidationException INVALID_REQUEST (400)."""
    return TokenError(400, "ValidationException", "INVALID_REQUEST", message)


def denied(status: int, code: str, message: str) -> TokenError:
    """AccessDeniedException (401 or 403)."""
    return TokenError(status, "AccessDeniedException", code, message)


def s256(verifier: str) -> str:
    """PKCE S256 challenge (the service calls the method SHA-256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _field(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(f"{name} is required.")
    if len(value) > limit:
        raise invalid(f"{name} is too long.")
    return value


def validate_body(body: dict[str, Any]) -> dict[str, str]:
    """Check the request body's fields (A10); the validated fields."""
    grant = body.get("grantType")
    if grant not in ("authorization_code", "refresh_token"):
        raise invalid("grantType must be authorization_code or refresh_token.")
    client_id = body.get("clientId")
    if client_id not in CLIENTS:
        raise invalid("clientId is not a known client.")
    out = {"grantType": grant, "clientId": client_id}
    if grant == "authorization_code":
        out["code"] = _field(body, "code", MAX_CODE)
        out["redirectUri"] = _field(body, "redirectUri", MAX_REDIRECT_URI)
        out["codeVerifier"] = _field(body, "codeVerifier", 128)
        if not _VERIFIER.fullmatch(out["codeVerifier"]):
            raise invalid("codeVerifier must be 43-128 characters of [A-Za-z0-9-._~].")
    else:
        out["refreshToken"] = _field(body, "refreshToken", MAX_REFRESH_TOKEN)
    return out


class Grants:
    """Issues tokens from codes and refresh tokens, following the store's settings."""

    def __init__(self, store: Store, signing_key: SigningKey) -> None:
        self.store = store
        self.signing_key = signing_key

    def _identity_faults(self, identity: str) -> None:
        faults = self.store.faults
        if identity in faults.credentials_changed:
            raise denied(
                403, "USER_CREDENTIALS_CHANGED",
                "The user's credentials changed since this session started. Sign in again.",
            )
        if identity in faults.insufficient_permissions:
            raise denied(
                403, "INSUFFICIENT_PERMISSIONS",
                "The identity lacks the SignInLocalDevelopmentAccess managed policy.",
            )

    def exchange_code(self, body: dict[str, str], jkt: str, issuer: str) -> dict[str, Any]:
        """authorization_code grant (A11, A12); revokes what a reused code issued (A5)."""
        store = self.store
        with store.lock:
            now = store.now()
            record: CodeRecord | None = store.codes.get(token_hash(body["code"]))
            if record is None:
                raise invalid("The authorization code is not valid.")
            if record.used:
                store.revoke_session(record.session_id)
                raise invalid("The authorization code was already used.")
            record.used = True
            if record.expires < now:
                raise denied(401, "AUTHCODE_EXPIRED", "The authorization code has expired.")
            if record.client_id != body["clientId"]:
                raise invalid("clientId does not match the authorization request.")
            if record.redirect_uri != body["redirectUri"]:
                raise invalid("redirectUri does not match the authorization request.")
            if not hmac.compare_digest(s256(body["codeVerifier"]), record.code_challenge):
                raise invalid("codeVerifier does not match the code challenge.")
            self._identity_faults(record.identity)
            session_id = secrets.token_hex(16)
            record.session_id = session_id
            store.add_session(
                session_id,
                Session(record.identity, record.client_id, jkt, now + store.settings.session_ttl),
            )
            output = self._issue(session_id, record.identity, now)
            store.stats.code_grants += 1
        output["idToken"] = self.signing_key.sign(
            {
                "iss": issuer,
                "sub": record.identity,
                "aud": record.client_id,
                "iat": int(now),
                "exp": int(now + store.settings.session_ttl),
                "session_arn": record.identity,
                "sid": session_id,
            }
        )
        return output

    def refresh(self, body: dict[str, str], jkt: str) -> dict[str, Any]:
        """refresh_token grant (A14, A15)."""
        store = self.store
        with store.lock:
            now = store.now()
            record = store.refresh_tokens.get(token_hash(body["refreshToken"]))
            session = store.sessions.get(record.session_id) if record else None
            if record is None or session is None or session.revoked:
                raise invalid("The refresh token is not valid.")
            if session.client_id != body["clientId"]:
                raise invalid("clientId does not match the session.")
            if not hmac.compare_digest(session.jkt, jkt):
                raise invalid("The DPoP key is not the one this session is bound to.")
            if session.expires < now:
                raise denied(401, "TOKEN_EXPIRED", "The session has expired. Sign in again.")
            if record.used_at is not None:
                if store.settings.refresh_rotation == "strict":
                    store.revoke_session(record.session_id)
                    raise invalid("The refresh token was already used; the session is revoked.")
                if now - record.used_at > REFRESH_GRACE:
                    raise invalid("The refresh token was replaced by a newer one.")
            else:
                record.used_at = now
            self._identity_faults(session.identity)
            output = self._issue(record.session_id, session.identity, now)
            store.stats.refresh_grants += 1
        return output

    def _issue(self, session_id: str, identity: str, now: float) -> dict[str, Any]:
        """New credentials and a new refresh token for a session (lock held)."""
        store = self.store
        ttl = store.settings.access_token_ttl
        key_id, secret, session_token = (
            new_access_key_id(), new_secret_access_key(), new_session_token(),
        )
        store.add_access_key(
            key_id, AccessKey(secret, session_token, identity, now + ttl, session_id)
        )
        refresh_token = new_refresh_token()
        store.add_refresh_token(refresh_token, session_id)
        return {
            "accessToken": {
                "accessKeyId": key_id,
                "secretAccessKey": secret,
                "sessionToken": session_token,
            },
            "tokenType": "aws_sigv4",
            "expiresIn": ttl,
            "refreshToken": refresh_token,
        }
