"""`awslogin status`: what the profile's session is, and whether it can be used (exit 0)."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
import time
from datetime import datetime, timezone
from typing import Any

from awslogin.errors import EXIT_FAILURE, AwsloginError
from awslogin.store.config import profile_name


def _id_token_iat(id_token: Any) -> datetime | None:
    """When the login happened: the ``iat`` claim of the idToken (no verification needed)."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["iat"]), timezone.utc)
    except (ValueError, KeyError, TypeError, OverflowError):
        return None


def _endpoint(session: Any) -> str | None:
    from awslogin.credentials import refresh_endpoint as endpoint_of

    try:
        return endpoint_of(session, session.token)
    except AwsloginError:
        return None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds <= 0:
        return "0m 00s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def collect(profile: str | None) -> dict[str, Any]:
    """The session's facts, refreshing first when fewer than 5 minutes remain."""
    from awslogin.credentials import (
        REFRESH_WINDOW,
        credentials_from_token,
        format_time,
        open_session,
        refresh_session,
    )

    session = open_session(profile)
    creds = credentials_from_token(session.token, session.login_session, session.cache_file)
    problem = None
    if creds.seconds_left() <= REFRESH_WINDOW:
        try:
            creds = refresh_session(session)
            session = open_session(session.profile)
        except AwsloginError as exc:
            problem = str(exc)
    left = creds.seconds_left()
    login_time = _id_token_iat(session.token.get("idToken"))
    offset = session.token.get("clockOffset")
    return {
        "profile": session.profile,
        "identity": session.login_session,
        "account": creds.account_id,
        "region": session.settings.get("region"),
        "endpoint": _endpoint(session),
        "expiresAt": format_time(creds.expiration),
        "secondsLeft": max(0, int(left)),
        "loginTime": format_time(login_time) if login_time else None,
        "clockOffset": round(offset, 1) if isinstance(offset, (int, float)) else None,
        "cacheFile": str(session.cache_file),
        "usable": left > 0,
        "problem": problem,
    }


def _offset_words(offset: float) -> str:
    # the service's Date header has a resolution of one second: smaller offsets are noise
    if abs(offset) < 2:
        return "none measurable (this computer's clock agrees with AWS Sign-In)"
    way = "behind" if offset > 0 else "ahead of"
    return f"{offset:+.0f}s (this computer's clock is {abs(offset):.0f}s {way} AWS Sign-In)"


def _text(info: dict[str, Any]) -> str:
    rows = [
        ("Profile", info["profile"]),
        ("Identity", info["identity"]),
        ("Account", info["account"]),
        ("Region", info["region"] or "(not set)"),
        ("Endpoint", info["endpoint"] or "(unknown)"),
        ("Expires", f"{info['expiresAt']} ({_duration(info['secondsLeft'])} left)"
         if info["usable"] else f"{info['expiresAt']} (expired)"),
    ]
    if info["loginTime"]:
        ago = time.time() - datetime.fromisoformat(
            info["loginTime"].replace("Z", "+00:00")).timestamp()
        since = "just now" if ago < 60 else f"{_duration(ago)} ago"
        rows.append(("Logged in", f"{info['loginTime']} ({since})"))
    if info["clockOffset"] is not None:
        rows.append(("Clock offset", _offset_words(info["clockOffset"])))
    rows.append(("Usable", "yes" if info["usable"] else "no"))
    out = "\n".join(f"{k + ':':<14}{v}" for k, v in rows) + "\n"
    if info["problem"]:
        out += info["problem"] + "\n"
    return out


def run(args: argparse.Namespace) -> int:
    """Print the session (text, ``--json``, or nothing with ``-q``); exit 0 when usable."""
    logger = logging.getLogger("awslogin")
    saved = logger.level
    if args.quiet:
        logger.setLevel(logging.CRITICAL)  # -q prints nothing, warnings included
    try:
        info = collect(args.profile)
    except AwsloginError as exc:
        if args.quiet:
            return exc.exit_code or EXIT_FAILURE
        if args.json:
            doc = {"profile": profile_name(args.profile), "usable": False, "problem": str(exc)}
            sys.stdout.write(json.dumps(doc) + "\n")
            return exc.exit_code or EXIT_FAILURE
        raise
    finally:
        logger.setLevel(saved)
    if args.json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    elif not args.quiet:
        sys.stdout.write(_text(info))
    return 0 if info["usable"] else EXIT_FAILURE
