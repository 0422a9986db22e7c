"""Reading the verification code the user pastes in the cross-device flow (SECURITY.md B5).

The confirmation page shows base64 of ``state={state}&code={code}``. People paste it wrapped
across lines, with stray spaces, inside quotes, or from a different login attempt; each gets a
plain message saying what to do. No message ever repeats the pasted text.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from urllib.parse import parse_qs

MAX_PASTE_CHARS = 16384
MAX_CODE_CHARS = 4096

_QUOTES = {'"': '"', "'": "'", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019", "<": ">"}
# Bracketed-paste markers some terminals add around pasted text.
_PASTE_MARKERS = re.compile(r"\x1b\[20[01]~")
_STANDARD = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class BadPasteError(ValueError):
    """The pasted text is not a usable verification code; ``str()`` says what to do."""


class StateMismatchError(BadPasteError):
    """The pasted code is genuine-looking but belongs to another login attempt."""


def normalise(text: str) -> str:
    """Drop whitespace everywhere (line wraps, spaces) and quotes around the whole paste."""
    text = _PASTE_MARKERS.sub("", text)
    text = "".join(text.split())
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = "".join(text[1:-1].split())
    return text


def _decode(text: str) -> str:
    if _STANDARD.fullmatch(text):
        alphabet = None
    elif _URLSAFE.fullmatch(text):
        alphabet = b"-_"
    else:
        raise BadPasteError(
            "That is not a verification code: it has characters a code never contains. "
            "Copy the code shown on the page in your browser and paste it again."
        )
    body = text.rstrip("=")
    if len(body) % 4 == 1:
        raise BadPasteError(
            "That verification code is incomplete. Copy the whole code from the page in "
            "your browser and paste it again."
        )
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded, altchars=alphabet, validate=True)
        return raw.decode("ascii")
    except (binascii.Error, ValueError):
        raise BadPasteError(
            "That verification code could not be read. Copy the whole code from the page in "
            "your browser and paste it again."
        )


def parse_verification_code(text: str, expected_state: str) -> str:
    """Return the authorization code inside a pasted verification code.

    Raises `BadPasteError` (empty, too long, not base64, not ``state=..&code=..``) or its
    subclass `StateMismatchError` (a code from another login attempt).
    """
    if len(text) > MAX_PASTE_CHARS:
        raise BadPasteError(
            "That is far longer than a verification code. Copy only the code shown on the "
            "page in your browser and paste it again."
        )
    cleaned = normalise(text)
    if not cleaned:
        raise BadPasteError("No code was entered. Paste the code shown in your browser.")
    query = _decode(cleaned)
    if not query.isprintable():
        raise BadPasteError(
            "That verification code could not be read. Copy the whole code from the page in "
            "your browser and paste it again."
        )
    try:
        params = parse_qs(query, strict_parsing=True, max_num_fields=10)
    except ValueError:
        params = {}
    states, codes = params.get("state", []), params.get("code", [])
    if len(states) != 1 or len(codes) != 1 or not codes[0] or len(codes[0]) > MAX_CODE_CHARS:
        raise BadPasteError(
            "That verification code is incomplete or damaged. Copy the whole code from the "
            "page in your browser and paste it again."
        )
    if not hmac.compare_digest(states[0].encode(), expected_state.encode()):
        raise StateMismatchError(
            "That code comes from a different login attempt, not the one waiting here. Open "
            "the URL printed above (not an older one), sign in, and paste the code it shows."
        )
    return codes[0]
