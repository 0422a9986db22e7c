"""The emulator's Starlette application: routes, the request log, operator endpoints."""

from __future__ import annotations

import json
import sys
import time
from email.utils import formatdate
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from awslogin.emulator.authorize import Authorize
from awslogin.emulator.bodies import BodyTooLarge, read_capped
from awslogin.emulator.grants import Grants
from awslogin.emulator.identities import parse_identity
from awslogin.emulator.options import (
    MAX_FAULT_COUNT,
    MAX_LATENCY_MS,
    clock_offset_problem,
)
from awslogin.emulator.pages import render
from awslogin.emulator.state import Store
from awslogin.emulator.sts import StsEndpoint
from awslogin.emulator.token_endpoint import TokenEndpoint
from awslogin.emulator.tokens import SigningKey

_INT_FAULTS = {"throttle_next": MAX_FAULT_COUNT, "error_next": MAX_FAULT_COUNT,
               "latency_ms": MAX_LATENCY_MS}
_ARN_FAULTS = ("credentials_changed", "insufficient_permissions")


def _printable(text: str) -> str:
    """One short line whatever the input (no CR/LF or control characters reach the log)."""
    return text.encode("unicode_escape").decode("ascii")[:200]


class RequestLog:
    """ASGI middleware: one stderr line per request (method, path, status, ms) and `Date`.

    The `Date` header comes from the emulator's clock (so `--clock-offset` shows in it). Only
    the path is logged, never the query string (it can hold codes) nor any body or header.
    """

    def __init__(self, app: Any, store: Store, stream: TextIO | None = None) -> None:
        self.app = app
        self.store = store
        self.stream = stream

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Run the request, stamping `Date` and logging one line when it is done."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_with_date(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(self.store.now(), usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_date)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            note = _printable(str((scope.get("state") or {}).get("log_note") or ""))
            path = _printable(scope["path"])
            line = f"{scope['method']} {path} {status[0]} {elapsed:.1f}ms"
            try:
                print(f"{line} {note}" if note else line, file=self.stream or sys.stderr,
                      flush=True)
            except (OSError, ValueError):
                pass


def _operator_allowed(request: Request) -> bool:
    """Loopback callers only, and never a web page (browsers send `Origin` on a POST)."""
    host = request.client.host if request.client else ""
    loopback = host == "::1" or host.startswith("127.")
    origin = request.headers.get("origin")
    return loopback and (origin is None or origin == f"{request.url.scheme}://{request.url.netloc}")


def _no_constant(name: str) -> object:
    """json.loads hook: NaN and Infinity are not JSON numbers, so refuse them."""
    raise ValueError(f"{name} is not a number")


def _apply_faults(store: Store, changes: object) -> str | None:
    """Apply a POST /__emulator/faults body; an error sentence when it is invalid."""
    if not isinstance(changes, dict):
        return "Send a JSON object."
    unknown = set(changes) - {*_INT_FAULTS, *_ARN_FAULTS, "clock_offset"}
    if unknown:
        return f"Unknown fault(s): {', '.join(sorted(unknown))}."
    for name, limit in _INT_FAULTS.items():
        value = changes.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            return f"{name} must be a whole number from 0 to {limit}."
    problem = clock_offset_problem(changes.get("clock_offset", 0))
    if problem:
        return problem
    for name in _ARN_FAULTS:
        arns = changes.get(name, [])
        if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
            return f"{name} must be a list of ARNs."
        try:
            for arn in arns:
                parse_identity(arn)
        except ValueError as exc:
            return str(exc)
    with store.lock:
        for name, value in changes.items():
            setattr(store.faults, name, set(value) if name in _ARN_FAULTS else value)
    return None


def build_app(store: Store, *, log_stream: TextIO | None = None) -> Any:
    """The ASGI application serving everything the emulator offers."""
    signing_key = SigningKey()
    grants = Grants(store, signing_key)
    authorize = Authorize(store)
    token = TokenEndpoint(store, grants)
    sts = StsEndpoint(store)
    settings = store.settings

    async def landing(request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return render(
            "landing.html",
            base_url=base,
            identities=settings.identities,
            auto_approve=settings.auto_approve,
            rotation=settings.refresh_rotation,
            access_token_ttl=settings.access_token_ttl,
            session_ttl=settings.session_ttl,
            faults=json.dumps(store.faults.as_json()),
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(signing_key.jwks())

    async def openid_configuration(request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/v1/authorize",
                "token_endpoint": f"{base}/v1/token",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["SHA-256"],
                "dpop_signing_alg_values_supported": ["ES256"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }
        )

    async def stats(request: Request) -> Response:
        if not _operator_allowed(request):
            return JSONResponse({"message": "Loopback only."}, status_code=403)
        with store.lock:
            s = store.stats
            body = {
                "token_requests": s.token_requests,
                "code_grants": s.code_grants,
                "refresh_grants": s.refresh_grants,
                "errors": s.errors,
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def faults(request: Request) -> Response:
        if not _operator_allowed(request):
            return JSONResponse({"message": "Loopback only."}, status_code=403)
        try:
            changes = json.loads(await read_capped(request) or b"{}",
                                 parse_constant=_no_constant)
        except (BodyTooLarge, ValueError):
            message = "Send a JSON object (at most 64 KiB; NaN and Infinity are not numbers)."
            return JSONResponse({"message": message}, status_code=400)
        problem = _apply_faults(store, changes)
        if problem:
            return JSONResponse({"message": problem}, status_code=400)
        return JSONResponse(store.faults.as_json())

    routes = [
        Route("/", landing, methods=["GET"]),
        Route("/", sts.__call__, methods=["POST"]),
        Route("/v1/authorize", authorize.get, methods=["GET"]),
        Route("/v1/authorize", authorize.post, methods=["POST"]),
        Route("/v1/sessions/confirmation", authorize.confirmation, methods=["GET"]),
        Route("/v1/token", token.__call__, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/__emulator/stats", stats, methods=["GET"]),
        Route("/__emulator/faults", faults, methods=["POST"]),
    ]
    return RequestLog(Starlette(routes=routes), store, log_stream)
