"""`awslogin credential-process`: the `credential_process` JSON for any AWS tool.

This runs once per tool process, so it is the hot path. `run` is the full command (refresh,
every error message). `fast_path` answers the common case, a cache hit, with nothing but
``json`` and ``datetime``, before argparse and the rest of the CLI load; whenever anything is
unusual it returns None and the full command takes over, so it can only ever print what `run`
would print.
"""

from __future__ import annotations

import os
import sys

_FAST_MIN_TTL = 300.0  # = credentials.REFRESH_WINDOW (not imported: it would load dataclasses)


def run(args) -> int:  # noqa: ANN001 (argparse.Namespace; argparse not imported here)
    """Print the profile's credentials as `credential_process` JSON, refreshing when needed."""
    from awslogin.credentials import load_credentials
    from awslogin.export import format_credentials

    creds = load_credentials(args.profile)
    sys.stdout.write(format_credentials(creds, "process"))
    sys.stdout.flush()
    return 0


def _profile_from(argv: list[str]) -> str | None:
    """The profile when *argv* is only ``[--profile NAME]``; '' for no option; None otherwise."""
    if not argv:
        return ""
    if len(argv) == 2 and argv[0] == "--profile" and not argv[1].startswith("-"):
        return argv[1]
    if len(argv) == 1 and argv[0].startswith("--profile=") and len(argv[0]) > 10:
        return argv[0][10:]
    return None


def _path(variable: str, *default: str) -> str:
    raw = os.environ.get(variable) or os.path.join("~", ".aws", *default)
    return os.path.expanduser(os.path.expandvars(raw))


def _option(line: str) -> tuple[str, str] | None:
    """``key = value`` / ``key: value`` split at the first delimiter, as configparser does."""
    cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
    if cut <= 0 or not line[:cut].strip():
        return None
    return line[:cut].strip().lower(), line[cut + 1:].strip()


def _login_session(profile: str) -> str | None:
    """``login_session`` of *profile*, read the way configparser reads it, or None if unsure.

    configparser itself costs more to import than this whole path may take, so this reads the
    plain, common shape of the file line by line and gives up (None: the full command reads
    it with configparser) on anything where the two could disagree: duplicates, options before
    a section, indented lines that do not continue an option, a header spelled another way.
    """
    try:
        with open(_path("AWS_CONFIG_FILE", "config"), encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    wanted = "default" if profile == "default" else f"profile {profile}"
    seen: set[tuple[str, str]] = set()
    headers: list[str] = []
    section: str | None = None
    last_option: str | None = None
    found: str | None = None
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if raw[0].isspace():  # a continuation line of the last option
            if last_option is None or (section == wanted and last_option == "login_session"):
                return None
            continue
        if line.startswith("["):
            end = line.rfind("]")
            if end < 2:
                return None
            section, last_option = line[1:end], None
            if section in headers:
                return None  # configparser refuses duplicate sections
            headers.append(section)
            continue
        option = _option(line)
        if section is None or option is None or (section, option[0]) in seen:
            return None  # configparser raises for these: let it say so
        seen.add((section, option[0]))
        last_option = option[0]
        if section == wanted and option[0] == "login_session":
            found = option[1]
    if "DEFAULT" in headers:
        return None  # configparser copies its keys into every section
    variants = [h for h in headers if h.split() and h.split()[-1].strip("\"'") == profile]
    if variants != [wanted]:
        return None
    return found or None


def fast_path(argv: list[str]) -> int | None:
    """Print the credentials of a cache hit and return 0; None when the full command must run."""
    if os.environ.get("AWSLOGIN_DEBUG") == "1":
        return None
    profile = _profile_from(argv)
    if profile is None:
        return None
    profile = profile or os.environ.get("AWS_PROFILE") or "default"
    try:
        session = _login_session(profile)
        if session is None:
            return None
        document = _cached_document(session)
    except Exception:  # anything unexpected: the full command explains it properly
        return None
    if document is None:
        return None
    sys.stdout.write(document + "\n")
    sys.stdout.flush()
    return 0


class _ScanContext:
    """What CPython's C JSON scanner reads from a decoder: plain `json.loads` settings."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity
    memo: dict = {}


def _json_codec():
    """(loads, quote) without the json package, whose `re` import is most of this path's cost.

    CPython's C accelerator `_json` is what `json` itself uses underneath; elsewhere, `json`.
    """
    try:
        from _json import encode_basestring_ascii, make_scanner
    except ImportError:  # pragma: no cover - not CPython
        import json

        return json.loads, lambda s: json.dumps(s)

    scan = make_scanner(_ScanContext())

    def loads(text: str):
        value, end = scan(text, 0)  # StopIteration on leading blanks or junk: caller gives up
        if text[end:].strip():
            raise ValueError("extra data")
        return value

    return loads, encode_basestring_ascii


def _cached_document(login_session: str) -> str | None:
    from datetime import datetime, timezone

    try:  # CPython's own SHA-256: hashlib would load OpenSSL, which costs milliseconds here
        from _sha2 import sha256  # Python >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.10, 3.11
        except ImportError:
            from hashlib import sha256
    loads, quote = _json_codec()
    key = sha256(login_session.encode("utf-8")).hexdigest()
    cache_dir = _path("AWS_LOGIN_CACHE_DIRECTORY", "login", "cache")
    with open(os.path.join(cache_dir, key + ".json"), encoding="utf-8") as f:
        # A file or directory open to others: the full command tightens it (SECURITY.md B6).
        if os.fstat(f.fileno()).st_mode & 0o077 or os.stat(cache_dir).st_mode & 0o077:
            return None
        token = loads(f.read())
    if not isinstance(token, dict):
        return None
    for field in ("accessToken", "refreshToken", "clientId", "dpopKey"):
        if field not in token:
            return None
    access = token["accessToken"]
    if not isinstance(access, dict):
        return None
    names = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId")
    values = [access.get(k) for k in ("accessKeyId", "secretAccessKey", "sessionToken",
                                      "expiresAt", "accountId")]
    if not all(isinstance(v, str) and v for v in values):
        return None
    text = values[3].strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    expires = datetime.fromisoformat(text)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    if expires.timestamp() - datetime.now(timezone.utc).timestamp() <= _FAST_MIN_TTL:
        return None
    values[3] = expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # The same bytes as json.dumps in export.process_json (a test holds the two together).
    fields = ", ".join(f"{quote(n)}: {quote(v)}" for n, v in zip(names, values, strict=True))
    return f'{{"Version": 1, {fields}}}'
