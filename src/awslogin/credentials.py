"""Credentials of a `login_session` profile: read the cache, refresh once for everyone.

`load_credentials` is the hot path of `credential-process`: on a cache hit it reads the config
file and one JSON file and imports nothing heavy (no botocore, cryptography or HTTP client).
When fewer than *min_ttl* seconds remain it refreshes under `store.lock.session_lock`
(SECURITY.md B8): under the lock it reads the cache again and skips the call when another
process or thread has refreshed meanwhile, so N waiting processes make one token call.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from awslogin.errors import (
    CacheError,
    ConfigError,
    EndpointUnreachableError,
    LoginRequiredError,
    SignInServiceError,
)
from awslogin.store import cache, config

REFRESH_WINDOW = 300.0  # seconds: refresh when fewer remain, like the SDKs

_log = logging.getLogger("awslogin.credentials")
_user = logging.getLogger("awslogin")


@dataclass(frozen=True)
class Credentials:
    """Temporary AWS credentials. ``expiration`` is an aware UTC datetime (local clock)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    account_id: str

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds until expiry by the local clock (negative once expired)."""
        return self.expiration.timestamp() - (time.time() if now is None else now)


@dataclass
class Session:
    """A profile's login session as found on disk: the config settings and the cache entry."""

    profile: str
    login_session: str
    settings: dict[str, Any]
    cache_file: Path
    token: dict[str, Any]


def login_hint(profile: str) -> str:
    """The command that fixes a missing or ended session for *profile*."""
    return "awslogin login" if profile == "default" else f"awslogin login --profile {profile}"


def parse_time(text: str) -> datetime:
    """Parse the cache's ``expiresAt`` (ISO 8601, ``Z`` or an offset; naive means UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, as the AWS CLI writes ``expiresAt``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _account_from_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def login_session_of(profile: str) -> tuple[str, dict[str, Any]]:
    """The profile's ``login_session`` value and settings; a plain error when it has none."""
    settings = config.read_profile(profile)
    session = settings.get("login_session")
    if isinstance(session, str) and session.strip():
        return session.strip(), settings
    if not settings and profile != "default":
        raise ConfigError(
            f"The profile {profile} does not exist in {config.config_path()}. "
            f"Run {login_hint(profile)} to create it."
        )
    other = [k for k in config.CONFLICTING_KEYS if k in settings]
    if other:
        hint = ""
        if other[0] == "credential_process":
            target = _process_target(settings["credential_process"])
            hint = (f" Use --profile {target} (the login profile it points to)." if target else
                    " Use --profile NAME (the login profile it points to).")
        raise ConfigError(
            f"The profile {profile} uses other credentials ({other[0]}), not a login session; "
            f"awslogin serves only login_session profiles.{hint}"
        )
    raise LoginRequiredError(
        f"The profile {profile} has no login session. Run {login_hint(profile)} first."
    )


def _process_target(line: Any) -> str | None:
    """The profile of an ``awslogin credential-process --profile NAME`` line, if it is one."""
    import shlex

    try:
        words = shlex.split(line) if isinstance(line, str) else []
    except ValueError:
        return None
    if "credential-process" not in words:
        return None
    for here, word in enumerate(words):
        if word == "--profile" and here + 1 < len(words):
            return words[here + 1] or None
        if word.startswith("--profile="):
            return word[len("--profile="):] or None
    return None


def open_session(profile: str | None) -> Session:
    """Find the profile's session and read its cache entry (no refresh, no network)."""
    name = config.profile_name(profile)
    login_session, settings = login_session_of(name)
    return Session(
        profile=name,
        login_session=login_session,
        settings=settings,
        cache_file=cache.cache_path(login_session),
        token=_load_token(name, login_session),
    )


def _load_token(profile: str, login_session: str) -> dict[str, Any]:
    token = cache.load_token(login_session)
    if token is None:
        raise LoginRequiredError(
            f"There is no cached session for the profile {profile} (it was never logged in "
            f"on this machine, or it was logged out). Run {login_hint(profile)}."
        )
    return token


def credentials_from_token(token: dict[str, Any], login_session: str, path: Path) -> Credentials:
    """Turn a cache entry into `Credentials`; `CacheError` naming *path* when it is unusable."""
    access = token.get("accessToken")
    if not isinstance(access, dict):
        raise _incomplete(path, "accessToken")
    for key in ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt"):
        if not isinstance(access.get(key), str) or not access[key]:
            raise _incomplete(path, f"accessToken.{key}")
    try:
        expiration = parse_time(access["expiresAt"])
    except ValueError:
        raise CacheError(
            f"The login cache file {path} has an unreadable expiresAt date. "
            "It was left as it is; log in again to replace it."
        )
    account = access.get("accountId")
    return Credentials(
        access_key_id=access["accessKeyId"],
        secret_access_key=access["secretAccessKey"],
        session_token=access["sessionToken"],
        expiration=expiration,
        account_id=account if isinstance(account, str) and account else _account_from_arn(
            login_session
        ),
    )


def _incomplete(path: Path, what: str) -> CacheError:
    return CacheError(
        f"The login cache file {path} is incomplete (no {what}). "
        "It was left as it is; log in again to replace it."
    )


def load_credentials(profile: str | None, *, min_ttl: float = REFRESH_WINDOW) -> Credentials:
    """Credentials of *profile*, refreshed first when fewer than *min_ttl* seconds remain."""
    session = open_session(profile)
    creds = credentials_from_token(session.token, session.login_session, session.cache_file)
    if creds.seconds_left() > min_ttl:
        return creds
    return refresh_session(session, min_ttl=min_ttl)


def refresh_session(session: Session, *, min_ttl: float = REFRESH_WINDOW) -> Credentials:
    """Refresh *session* once for all processes and threads (SECURITY.md B8)."""
    from awslogin.store.lock import session_lock

    with session_lock(session.login_session):
        # Someone may have refreshed while we waited for the lock: read the cache again.
        token = _load_token(session.profile, session.login_session)
        creds = credentials_from_token(token, session.login_session, session.cache_file)
        if creds.seconds_left() > min_ttl:
            _log.debug("session refreshed by another process meanwhile; no token call")
            return creds
        return _refresh(session, token, creds)


def _missing_refresh_fields(token: dict[str, Any]) -> list[str]:
    return [k for k in ("refreshToken", "clientId", "dpopKey")
            if not isinstance(token.get(k), str) or not token[k]]


def _recorded_region(session: Session, token: dict[str, Any]) -> str | None:
    """The cache's ``signInRegion`` when it has a region's shape; `CacheError` when it is junk."""
    import re

    value = token.get("signInRegion")
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"[a-z]{2,}(-[a-z0-9]+)+", value):
        return value
    raise CacheError(
        f"The login cache file {session.cache_file} has a signInRegion that is not a region "
        f"name. It was left as it is; run {login_hint(session.profile)}."
    )


def refresh_endpoint(session: Session, token: dict[str, Any]) -> str:
    """Where to refresh: the endpoint that issued the token, else botocore's resolution."""
    recorded = token.get("signinEndpoint")
    if isinstance(recorded, str) and recorded:
        return recorded.rstrip("/")
    from awslogin import signin

    # botocore's order: the token's signInRegion, then its `region` setting (env, profile).
    region = (
        _recorded_region(session, token)
        or os.environ.get("AWS_DEFAULT_REGION")
        or session.settings.get("region")
    )
    if not region:
        raise ConfigError(
            f"The profile {session.profile} has no region, so awslogin cannot tell which "
            f"Sign-In endpoint to refresh at. Set one: aws configure set region REGION "
            f"--profile {session.profile}."
        )
    return signin.resolve_endpoint(region, profile=session.profile, endpoint_url=None)


def _refresh(session: Session, token: dict[str, Any], creds: Credentials) -> Credentials:
    missing = _missing_refresh_fields(token)
    if missing:
        raise CacheError(
            f"The login cache file {session.cache_file} is incomplete (no {missing[0]}), so "
            f"the session cannot be refreshed. It was left as it is; run "
            f"{login_hint(session.profile)}."
        )
    from awslogin import dpop, signin

    try:
        key = dpop.load_key(token["dpopKey"])
    except CacheError:
        raise CacheError(
            f"The DPoP key in the login cache file {session.cache_file} is not a P-256 private "
            f"key, so the session cannot be refreshed. It was left as it is; run "
            f"{login_hint(session.profile)}."
        )
    offset = token.get("clockOffset")
    offset = float(offset) if isinstance(offset, (int, float)) else None
    endpoint = refresh_endpoint(session, token)
    # The stored offset corrects the first proof's iat; the client measures it again (B10).
    client = signin.SigninClient(endpoint, clock_offset=offset)
    _log.debug("refreshing the session of profile %s at %s", session.profile, endpoint)
    try:
        result = client.refresh(
            client_id=token["clientId"], refresh_token=token["refreshToken"], key=key
        )
    except (EndpointUnreachableError, SignInServiceError) as exc:
        if _service_unavailable(exc) and creds.seconds_left() > 0:
            minutes = max(1, int(creds.seconds_left() // 60))
            _user.warning(
                "%s Meanwhile awslogin hands out the current credentials of profile %s, which "
                "expire in %d minute%s.",
                str(exc), session.profile, minutes, "" if minutes == 1 else "s",
            )
            return creds
        raise
    new_token = _refreshed_token(token, result, creds)
    offset = client.clock_offset if client.clock_offset is not None else offset
    if offset is not None:
        new_token["clockOffset"] = round(offset, 3)
    cache.save_token(session.login_session, new_token)
    return credentials_from_token(new_token, session.login_session, session.cache_file)


def _service_unavailable(exc: Exception) -> bool:
    """Unreachable, throttled or failing (after signin's retries), as opposed to a refusal."""
    if isinstance(exc, EndpointUnreachableError):
        return True
    status = getattr(exc, "status", 0) or 0
    return status == 429 or status >= 500


def _refreshed_token(token: dict[str, Any], result: Any, old: Credentials) -> dict[str, Any]:
    """The cache entry after a refresh: new access token (same accountId), new refresh token.

    ``expiresAt`` is by the local clock (the response's arrival plus ``expiresIn``), as every
    reader compares it with its own clock. Everything else (idToken, dpopKey, clientId, other
    writers' fields) is kept.
    """
    new = dict(token)
    new["accessToken"] = {
        "accessKeyId": result.access_key_id,
        "secretAccessKey": result.secret_access_key,
        "sessionToken": result.session_token,
        "accountId": old.account_id,
        "expiresAt": format_time(result.expires_at),
    }
    if result.refresh_token:
        new["refreshToken"] = result.refresh_token
    return new
