"""Reading the verification code the user pastes in the cross-device flow (SECURITY.md B5).

The confirmation page shows base64 of ``state={state}&code={code}``. People paste it wrapped
across lines, with stray spaces, inside quotes, or from a different login attempt; each gets a
plain message saying what to do; so does a paste that lost its last characters, which is
refused before it can spend the single-use code. No message ever repeats the pasted text.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from urllib.parse import parse_qsl

MAX_PASTE_CHARS = 16384
MAX_CODE_CHARS = 4096
MIN_CODE_CHARS = 8
MAX_STATE_CHARS = 256

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


_CUT_OFF = (
    "The code looks cut off: its last characters are missing. Copy it again, all the way to "
    "its last character, and paste it here."
)
_UNREADABLE = (
    "That verification code could not be read. Copy the whole code from the page in your "
    "browser and paste it again."
)
_DAMAGED = (
    "That verification code is incomplete or damaged. Copy the whole code from the page in "
    "your browser and paste it again."
)


def _decode(text: str) -> str:
    """Strict base64 (standard or URL-safe) to text, refusing a paste that was cut short.

    Standard base64 (as the confirmation page shows it) always carries its ``=`` padding, so
    a standard code whose length is not a multiple of 4 lost its end. URL-safe base64 (told
    apart by a ``-`` or ``_``) may leave the padding out, but a cut one almost never ends on
    the zero bits an encoder writes, and re-encoding shows it. A cut at a multiple of 4
    characters of an unpadded code cannot be seen; the service then refuses the code.
    """
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
    padded = body + "=" * (-len(body) % 4)
    if len(body) % 4 == 1 or (body != text and text != padded):
        raise BadPasteError(_CUT_OFF)  # impossible lengths, or padding that does not fit
    if body == text and padded != text and alphabet is None:
        raise BadPasteError(_CUT_OFF)  # standard base64 without the padding it always has
    try:
        raw = base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise BadPasteError(_UNREADABLE)
    encoded = base64.b64encode(raw, altchars=alphabet).decode("ascii")
    if encoded != padded:
        # the last character carries bits no encoder writes: the text stops mid-character
        raise BadPasteError(_CUT_OFF if body == text else _UNREADABLE)
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadPasteError(_UNREADABLE)


def _sane(value: str, low: int, high: int) -> bool:
    """A decoded value that can be sent on: printable, no whitespace, a plausible length."""
    return (
        low <= len(value) <= high
        and value.isprintable()
        and not any(ch.isspace() for ch in value)
    )


def parse_verification_code(text: str, expected_state: str) -> str:
    """Return the authorization code inside a pasted verification code.

    Raises `BadPasteError` (empty, too long, cut off, not base64, not exactly one `state` and
    one `code`, or values that are not printable text without whitespace) or its subclass
    `StateMismatchError` (a code from another login attempt).
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
        raise BadPasteError(_UNREADABLE)
    try:
        pairs = parse_qsl(
            query, keep_blank_values=True, strict_parsing=True, max_num_fields=10,
            encoding="ascii", errors="strict",
        )
    except ValueError:  # includes UnicodeDecodeError from a bad percent-escape
        raise BadPasteError(_DAMAGED)
    names = sorted(name for name, _ in pairs)
    if names != ["code", "state"]:
        raise BadPasteError(_DAMAGED)
    params = dict(pairs)
    state, code = params["state"], params["code"]
    # Checked after percent-decoding: `code=a%0Ab` is a line break, not a code.
    if not _sane(state, 1, MAX_STATE_CHARS) or not _sane(code, MIN_CODE_CHARS, MAX_CODE_CHARS):
        raise BadPasteError(_DAMAGED)
    if not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise StateMismatchError(
            "That code comes from a different login attempt, not the one waiting here. Open "
            "the URL printed above (not an older one), sign in, and paste the code it shows."
        )
    return code
