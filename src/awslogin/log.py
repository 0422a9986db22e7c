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
    # long opaque tokens (session tokens, refresh tokens, codes)
    (re.compile(r"[A-Za-z0-9/+_=-]{80,}"), MASK),
)


def redact(text: str) -> str:
    """Return *text* with everything secret-shaped replaced by ``<redacted>``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
