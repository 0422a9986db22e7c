"""Debug logging that never shows a secret.

`enable_debug_logging()` sends the ``awslogin`` loggers to stderr through `RedactingFilter`,
which masks anything shaped like a secret (PEM blocks, JWTs and DPoP proofs, secret keys,
session and refresh tokens, authorization codes, verifiers) before a record is written. Code
should still avoid logging secrets in the first place; this is the safety net.
"""

from __future__ import annotations

import logging
import re
import sys

MASK = "<redacted>"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, whole block (escaped newlines too, as inside JSON)
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
     MASK),
    # JWS / JWT: three base64url segments
    (re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*"), MASK),
    # key=value / "key": "value" pairs whose key names a secret
    (re.compile(
        r"(?i)(\"?(?:secret_?access_?key|session_?token|refresh_?token|id_?token|access_?token|"
        r"code_?verifier|verifier|code|dpop_?key|dpop|authorization|x-amz-security-token|"
        r"aws_secret_access_key|aws_session_token|token|password)\"?\s*[:=]\s*\"?)"
        r"([^\"&\s,;}]+)"),
     r"\1" + MASK),
    # 40-character AWS secret keys standing alone
    (re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), MASK),
)

# long opaque tokens (session tokens, refresh tokens) that may contain '/': judged by
# `_mask_long_run`, so that a long path (a cache file's directory and hex name) stays readable
_LONG_RUN = re.compile(r"[A-Za-z0-9/+_=-]{80,}")

# URL-safe base64 runs of 40+ characters standing alone: authorization codes (43), PKCE
# verifiers (43-128), refresh tokens. Whether one is masked is decided by `_looks_random`.
# An ARN is never secret and is left whole, even when a role name in it is long and mixed.
_URLSAFE_RUN = re.compile(
    r"(?P<arn>\barn:aws[a-z-]*:[^\s\"'<>,;]*)"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])"
)
_HEX_OR_UUID = re.compile(r"[0-9a-fA-F-]+")
_RANDOM_SWITCHES = 0.25


def _char_class(ch: str) -> str:
    return "l" if ch.islower() else "u" if ch.isupper() else "d"


def _looks_random(run: str) -> bool:
    """Whether a long URL-safe run is a secret rather than a name a person should see.

    Hex (a cache file's SHA-1/SHA-256 name, a UUID) stays visible. A random base64url string
    almost always mixes lower case, upper case and digits; failing that, it still switches
    between them far more often than words (``snake_case``, ``kebab-case``, ``CamelCase``,
    where upper-to-lower inside a word does not count) ever do.
    """
    if _HEX_OR_UUID.fullmatch(run):
        return False
    letters = [ch for ch in run if ch not in "_-"]
    if len(letters) < 2:
        return False
    if any(c.islower() for c in letters) and any(c.isupper() for c in letters) and any(
        c.isdigit() for c in letters
    ):
        return True
    classes = [_char_class(ch) for ch in letters]
    pairs = zip(classes, classes[1:], strict=False)
    switches = sum(1 for a, b in pairs if a != b and (a, b) != ("u", "l"))
    return switches >= _RANDOM_SWITCHES * (len(letters) - 1)


def _mask_random_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if match.group("arn") is not None:
        return run
    return MASK if _looks_random(run) else run


def _mask_long_run(match: re.Match[str]) -> str:
    run = match.group(0)
    pieces = run.split("/")
    if "+" in run or "=" in run or len(pieces) == 1:
        return MASK
    if any(_looks_random(piece) for piece in pieces if len(piece) >= 8):
        return MASK
    return run  # a path: every component is a word or a hex name


def redact(text: str) -> str:
    """Return *text* with everything secret-shaped replaced by ``<redacted>``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = _LONG_RUN.sub(_mask_long_run, text)
    return _URLSAFE_RUN.sub(_mask_random_run, text)


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record and redacts it before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info)
            ) if exc else None
        return True


def enable_warnings(stream=None) -> None:
    """Show the ``awslogin`` logger's warnings to the user on stderr, as plain sentences.

    Library code tells the user about something worth knowing but not fatal (a skewed clock,
    a stale token handed out while the service is unreachable) with
    ``logging.getLogger("awslogin").warning(...)``; this is what makes it visible.
    """
    logger = logging.getLogger("awslogin")
    if any(getattr(h, "_awslogin_warnings", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    handler._awslogin_warnings = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.propagate = False


def enable_debug_logging(stream=None) -> None:
    """Log the ``awslogin`` loggers (and botocore's, redacted) at DEBUG to stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("awslogin")
    logger.setLevel(logging.DEBUG)
    # the debug handler replaces the plain warnings handler (it shows warnings too)
    for h in list(logger.handlers):
        if getattr(h, "_awslogin_warnings", False):
            logger.removeHandler(h)
    logger.addHandler(handler)
    # botocore logs bodies at DEBUG; keep it at INFO and redacted.
    boto = logging.getLogger("botocore")
    boto.setLevel(logging.INFO)
    boto.addHandler(handler)
