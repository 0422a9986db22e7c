"""`awslogin credential-process`: the `credential_process` JSON for any AWS tool.

This runs once per tool process, so it is the hot path. `run` is the full command (refresh,
every error message). `fast_path` answers the common case, a cache hit, with nothing but
``json``, ``configparser``, ``hashlib`` and ``datetime``, before argparse and the rest of the
CLI load; whenever anything is unusual it returns None and the full command takes over, so it
can only ever print what `run` would print.
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


def _login_session(profile: str) -> str | None:
    import configparser

    parser = configparser.RawConfigParser()
    try:
        if not parser.read(_path("AWS_CONFIG_FILE", "config"), encoding="utf-8"):
            return None
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    wanted = "default" if profile == "default" else f"profile {profile}"
    # Only the plain spelling of the header, and only when no variant spelling
    # (`[profile  x]`, `[profile "x"]`, both default forms) could compete for it.
    variants = [s for s in parser.sections() if s.split() and s.split()[-1].strip("\"'") ==
                profile]
    if variants != [wanted]:
        return None
    value = parser.get(wanted, "login_session", fallback="").strip()
    return value or None


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


def _cached_document(login_session: str) -> str | None:
    import hashlib
    import json
    from datetime import datetime, timezone

    key = hashlib.sha256(login_session.encode("utf-8")).hexdigest()
    cache_dir = _path("AWS_LOGIN_CACHE_DIRECTORY", "login", "cache")
    with open(os.path.join(cache_dir, key + ".json"), "rb") as f:
        token = json.loads(f.read())
    for field in ("accessToken", "refreshToken", "clientId", "dpopKey"):
        if field not in token:
            return None
    access = token["accessToken"]
    values = [access.get(k) for k in ("accessKeyId", "secretAccessKey", "sessionToken",
                                      "expiresAt")]
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
    account = access.get("accountId")
    if not isinstance(account, str) or not account:
        return None
    # The same bytes as export.process_json (a test holds the two together).
    return json.dumps({
        "Version": 1,
        "AccessKeyId": values[0],
        "SecretAccessKey": values[1],
        "SessionToken": values[2],
        "Expiration": expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "AccountId": account,
    })
