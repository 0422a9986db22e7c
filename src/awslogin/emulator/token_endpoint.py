"""`POST /v1/token` (CreateOAuth2Token): faults, DPoP, body, grants, rest-json shapes."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from awslogin.emulator.bodies import MAX_BODY, BodyTooLarge, read_capped
from awslogin.emulator.dpop import DpopError, verify_proof
from awslogin.emulator.grants import Grants, TokenError, invalid, validate_body
from awslogin.emulator.state import Store

NONCE_LIFETIME = 300
_FORM_NAMES = {
    "grant_type": "grantType",
    "client_id": "clientId",
    "code_verifier": "codeVerifier",
    "redirect_uri": "redirectUri",
    "refresh_token": "refreshToken",
}


class Nonces:
    """Server DPoP nonces (RFC 9449 §8): the current one and its predecessor are accepted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = secrets.token_urlsafe(24)
        self._previous = self._current
        self._since = time.monotonic()

    def accepted(self) -> tuple[str, ...]:
        """The nonces a proof may carry now (rotating when the current one is old)."""
        with self._lock:
            if time.monotonic() - self._since > NONCE_LIFETIME:
                self._previous, self._current = self._current, secrets.token_urlsafe(24)
                self._since = time.monotonic()
            return self._current, self._previous

    def current(self) -> str:
        """The nonce to hand out in `DPoP-Nonce`."""
        return self.accepted()[0]


def _parse_form(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        raise invalid("The request body is not a valid form.")
    body: dict[str, Any] = {}
    for name, values in pairs.items():
        if len(values) != 1:
            raise invalid("A form field appears more than once.")
        body[_FORM_NAMES.get(name, name)] = values[0]
    return body


async def read_body(request: Request) -> dict[str, Any]:
    """The token request as a dict, from a JSON or a form body."""
    try:
        raw = await read_capped(request, MAX_BODY)
    except BodyTooLarge:
        raise invalid("The request body is too large.")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return _parse_form(raw)
    if media not in ("", "application/json", "application/x-amz-json-1.1"):
        raise invalid("Send the request as JSON or as a form.")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise invalid("The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


class TokenEndpoint:
    """The Starlette handler for POST /v1/token."""

    def __init__(self, store: Store, grants: Grants) -> None:
        self.store = store
        self.grants = grants
        self.nonces = Nonces() if store.settings.dpop_nonce else None

    def _headers(self) -> dict[str, str]:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self.nonces is not None:
            headers["DPoP-Nonce"] = self.nonces.current()
        return headers

    async def __call__(self, request: Request) -> JSONResponse:
        """Answer one token request."""
        store = self.store
        with store.lock:
            store.stats.token_requests += 1
        try:
            output = await self._handle(request)
        except (TokenError, DpopError) as exc:
            if isinstance(exc, DpopError):
                exc = TokenError(400, "ValidationException", exc.code, str(exc))
            with store.lock:
                store.stats.errors += 1
            request.state.log_note = f"{exc.code}: {exc.message}"
            headers = {**self._headers(), "x-amzn-errortype": exc.shape}
            return JSONResponse(
                {"error": exc.code, "message": exc.message}, status_code=exc.status,
                headers=headers,
            )
        return JSONResponse(output, headers=self._headers())

    async def _handle(self, request: Request) -> dict[str, Any]:
        store = self.store
        faults = store.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        with store.lock:
            if faults.throttle_next > 0:
                faults.throttle_next -= 1
                raise TokenError(
                    429, "TooManyRequestsError", "INVALID_REQUEST",
                    "Rate exceeded. Retry with backoff.",
                )
            if faults.error_next > 0:
                faults.error_next -= 1
                raise TokenError(
                    500, "InternalServerException", "server_error",
                    "An internal error occurred. Retry later.",
                )
        settings = store.settings
        now = store.now()
        url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        proof = verify_proof(
            request.headers.getlist("dpop"), url, now=now,
            iat_past=settings.iat_past, iat_future=settings.iat_future,
            nonces=self.nonces.accepted() if self.nonces else (),
        )
        if not store.remember_jti(proof.jti, now + settings.iat_past + settings.iat_future):
            raise invalid("The DPoP proof jti was already used.")
        body = validate_body(await read_body(request))
        if body["grantType"] == "authorization_code":
            issuer = f"{request.url.scheme}://{request.url.netloc}"
            return self.grants.exchange_code(body, proof.jkt, issuer)
        return self.grants.refresh(body, proof.jkt)
