"""The browser side: `/v1/authorize` (SECURITY.md A1-A5) and the cross-device confirmation page."""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from awslogin.emulator.bodies import BodyTooLarge, read_capped
from awslogin.emulator.grants import CROSS_DEVICE, SAME_DEVICE
from awslogin.emulator.pages import render
from awslogin.emulator.state import CodeRecord, PendingAuthorization, Store
from awslogin.emulator.tokens import new_code

CONFIRMATION_PATH = "/v1/sessions/confirmation"
PENDING_TTL = 600
MAX_FORM = 16 * 1024  # the session page's form is a few hundred bytes
# Used with fullmatch (`$` would also match before a final newline). The port has no leading
# zero, so each port has one spelling; 0 and > 65535 are refused by the range check.
_LOOPBACK_REDIRECT = re.compile(r"http://(?:127\.0\.0\.1|\[::1\]):([1-9][0-9]{0,4})/oauth/callback")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_CLIENT_LABELS = {
    SAME_DEVICE: "A terminal on this computer",
    CROSS_DEVICE: "A terminal on another device",
}


class AuthorizeRefused(Exception):
    """A parameter error that is redirected back as `error=invalid_request`."""


class FormRefused(Exception):
    """A session-page form that cannot be read: (HTTP status, sentence for the error page)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_form(request: Request) -> dict[str, str]:
    """The session page's urlencoded form, read with a cap and parsed strictly."""
    try:
        raw = await read_capped(request, MAX_FORM)
    except BodyTooLarge:
        raise FormRefused(413, "The form sent is far larger than the session page sends.")
    try:
        pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        raise FormRefused(400, "The form sent is not one the session page sends.")
    if any(len(values) != 1 for values in pairs.values()):
        raise FormRefused(400, "The form sent is not one the session page sends.")
    return {name: values[0] for name, values in pairs.items()}


def verification_code(state: str, code: str) -> str:
    """What the user pastes: base64 (standard, padded) of `state=...&code=...`."""
    return base64.b64encode(urlencode([("state", state), ("code", code)]).encode()).decode()


def _with_query(uri: str, params: list[tuple[str, str]]) -> str:
    return f"{uri}?{urlencode(params)}"


def _error_page(request: Request, heading: str, message: str, status: int = 400) -> Response:
    request.state.log_note = heading
    return render("error.html", status, heading=heading, message=message)


class Authorize:
    """Handlers for GET/POST /v1/authorize and GET /v1/sessions/confirmation."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _redirect_allowed(self, request: Request, client_id: str, redirect_uri: str) -> bool:
        if client_id == SAME_DEVICE:
            match = _LOOPBACK_REDIRECT.fullmatch(redirect_uri)
            return bool(match) and 1 <= int(match.group(1)) <= 65535
        bases = {f"{request.url.scheme}://{request.url.netloc}", self.store.settings.base_url}
        return redirect_uri in {base + CONFIRMATION_PATH for base in bases}

    def _issue_code(self, pending: PendingAuthorization, identity: str) -> str:
        code = new_code()
        expires = self.store.now() + self.store.settings.code_ttl
        self.store.add_code(
            code,
            CodeRecord(pending.client_id, pending.redirect_uri, pending.code_challenge,
                       identity, expires),
        )
        return code

    async def get(self, request: Request) -> Response:
        """Validate the authorization request; show the session page or auto-approve."""
        params: dict[str, str] = {}
        duplicated = False
        for name, value in request.query_params.multi_items():
            duplicated |= name in params
            params[name] = value
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id not in _CLIENT_LABELS:
            return _error_page(
                request, "Unknown application",
                "This sign-in request comes from an application that AWS Sign-In does not "
                "know (client_id). No one was signed in.",
            )
        if not self._redirect_allowed(request, client_id, redirect_uri):
            return _error_page(
                request, "Invalid redirect address",
                "This sign-in request would send you to an address that is not allowed for "
                "this application (redirect_uri). No one was signed in.",
            )
        state = params.get("state", "")
        try:
            if duplicated:
                raise AuthorizeRefused("a parameter appears more than once")
            if params.get("response_type") != "code":
                raise AuthorizeRefused("response_type must be code")
            if params.get("scope") != "openid":
                raise AuthorizeRefused("scope must be openid")
            if not state or len(state) > 512:
                raise AuthorizeRefused("state is required")
            if params.get("code_challenge_method") != "SHA-256":
                raise AuthorizeRefused("code_challenge_method must be SHA-256")
            if not _CHALLENGE.fullmatch(params.get("code_challenge", "")):
                raise AuthorizeRefused("code_challenge must be 43 base64url characters")
        except AuthorizeRefused as exc:
            request.state.log_note = f"invalid_request: {exc}"
            query = [("error", "invalid_request"), ("error_description", str(exc))]
            if state:
                query.append(("state", state))
            return RedirectResponse(_with_query(redirect_uri, query), status_code=302)
        pending = PendingAuthorization(
            client_id, redirect_uri, state, params["code_challenge"],
            secrets.token_urlsafe(32), self.store.now() + PENDING_TTL,
        )
        settings = self.store.settings
        if settings.auto_approve:
            code = self._issue_code(pending, settings.identities[0].arn)
            return RedirectResponse(
                _with_query(redirect_uri, [("code", code), ("state", state)]), status_code=302
            )
        request_id = secrets.token_urlsafe(16)
        self.store.add_pending(request_id, pending)
        response = render(
            "select.html",
            request_id=request_id,
            csrf_token=pending.csrf_token,
            identities=settings.identities,
            client_label=_CLIENT_LABELS[client_id],
        )
        response.set_cookie(
            f"csrf_{request_id}", pending.csrf_token, max_age=PENDING_TTL,
            path="/v1/authorize", httponly=True, samesite="strict",
        )
        return response

    async def post(self, request: Request) -> Response:
        """Approve or cancel a pending request; the CSRF token must match form and cookie."""
        try:
            form = await _read_form(request)
        except FormRefused as exc:
            return _error_page(
                request, "Invalid form",
                f"{exc} Go back to the terminal and start signing in again.", exc.status,
            )
        request_id = str(form.get("request", ""))
        sent = str(form.get("csrf_token", ""))
        cookie = request.cookies.get(f"csrf_{request_id}", "")
        with self.store.lock:
            pending = self.store.pending.pop(request_id, None)
        if (
            pending is None
            or pending.expires < self.store.now()
            or not sent
            or not hmac.compare_digest(sent, pending.csrf_token)
            or not hmac.compare_digest(cookie, pending.csrf_token)
        ):
            return _error_page(
                request, "This page has expired",
                "The sign-in form was not sent from this page, or it is too old. "
                "Go back to the terminal and start signing in again.", 403,
            )
        if form.get("action") == "cancel":
            request.state.log_note = "access_denied"
            target = _with_query(
                pending.redirect_uri, [("error", "access_denied"), ("state", pending.state)]
            )
        else:
            identity = form.get("identity", "")
            if self.store.settings.identity(identity) is None:
                return _error_page(request, "Unknown session", "Choose one of the sessions shown.")
            code = self._issue_code(pending, identity)
            target = _with_query(pending.redirect_uri, [("code", code), ("state", pending.state)])
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(f"csrf_{request_id}", path="/v1/authorize")
        return response

    async def confirmation(self, request: Request) -> Response:
        """The cross-device page: the verification code to paste, or what went wrong."""
        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        error = request.query_params.get("error", "")
        if error or not code or not state:
            request.state.log_note = error or "missing code"
            message = {
                "access_denied": "You cancelled the sign-in.",
                "invalid_request": "The sign-in request was not valid.",
            }.get(error, "This page was opened without a sign-in result.")
            return render("confirmation.html", 400, verification_code="", message=message)
        return render("confirmation.html", verification_code=verification_code(state, code))
