"""How the Sign-In client tells the user what went wrong: one plain sentence per case.

Used by `awslogin.signin` only. Messages are built from status codes, the service's error
codes (checked to be short plain names) and URLs; never from response bodies, tokens or
proofs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from awslogin.errors import SignInServiceError

SKEW_WARNING_SECONDS = 60.0  # offsets beyond this are worth a warning and a retry
_SAFE_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")
_user = logging.getLogger("awslogin")
_skew_warned = False

_RELOGIN = "Run awslogin login to sign in again."
_MESSAGES = {
    "AUTHCODE_EXPIRED": "The sign-in took too long and its code expired. Run awslogin login again.",
    "TOKEN_EXPIRED": "Your session ended: it reached its maximum duration. " + _RELOGIN,
    "USER_CREDENTIALS_CHANGED": (
        "Your session ended because the identity's credentials changed (for example a new "
        "password). " + _RELOGIN
    ),
    "INSUFFICIENT_PERMISSIONS": (
        "Your identity may not use console credentials for local development: it needs the "
        "SignInLocalDevelopmentAccess managed policy (or signin:AuthorizeOAuth2Access and "
        "signin:CreateOAuth2Token). Ask an administrator, then run awslogin login again."
    ),
}


def safe_code(value: Any) -> str:
    """A service-supplied code fit for a message: short and plain, else dropped."""
    return value if isinstance(value, str) and _SAFE_CODE.match(value) else ""


def service_error(status: int, shape: str, code: str, *, exchange: bool,
                  skew: float | None) -> SignInServiceError:
    """The error for a token endpoint refusal (*exchange*: the call was a code exchange)."""
    message = _MESSAGES.get(code)
    if message is None and (status == 429 or shape == "TooManyRequestsError"):
        # throttling carries error INVALID_REQUEST too (the service model says so)
        message = ("AWS Sign-In is throttling requests (HTTP 429) and kept refusing after "
                   "retries. Wait a minute and try again.")
    if message is None and code == "INVALID_REQUEST":
        if exchange:
            message = ("AWS Sign-In rejected the sign-in code (INVALID_REQUEST): it is invalid, "
                       "expired or was already used. Run awslogin login again.")
        else:
            message = ("AWS Sign-In rejected the session (INVALID_REQUEST): it is no longer "
                       "valid, or it was issued by another endpoint. " + _RELOGIN)
        if skew is not None and abs(skew) > SKEW_WARNING_SECONDS:
            message += f" Your clock is {skew_words(skew)} AWS Sign-In: fix the system clock."
    if message is None and status >= 500:
        message = (f"AWS Sign-In had a server error (HTTP {status}). "
                   "Try again in a few minutes.")
    if message is None:
        detail = ", ".join(x for x in (shape, code) if x) or "no details"
        message = (f"AWS Sign-In answered with an unexpected error (HTTP {status}, {detail}). "
                   + (_RELOGIN if status in (400, 401, 403) else "Try again later."))
    return SignInServiceError(message, code=code, shape=shape, status=status)


def skew_words(offset: float) -> str:
    """'N seconds behind' / 'N seconds ahead of' for an offset (service minus local)."""
    seconds = abs(round(offset))
    return f"{seconds} seconds {'behind' if offset > 0 else 'ahead of'}"


def warn_skew(offset: float) -> None:
    """Tell the user about a skewed clock, once per process."""
    global _skew_warned
    if _skew_warned:
        return
    _skew_warned = True
    _user.warning(
        "Your clock is %s AWS Sign-In; awslogin corrects for it, but other tools may fail: "
        "fix the system clock.", skew_words(offset)
    )


def network_reason(exc: Exception) -> str:
    """A few words for a botocore network failure (never its text, which may hold a URL query)."""
    import botocore.exceptions

    if isinstance(exc, (botocore.exceptions.ConnectTimeoutError,
                        botocore.exceptions.ReadTimeoutError)):
        return "timed out"
    if isinstance(exc, botocore.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, botocore.exceptions.ConnectionClosedError):
        return "connection closed"
    if isinstance(exc, botocore.exceptions.ProxyConnectionError):
        return "proxy connection failed"
    return "connection failed"
