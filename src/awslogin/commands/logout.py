"""`awslogin logout [--profile NAME] [--all]`: remove cached login sessions (PROTOCOL.md §3).

Like the AWS CLI, the profile keeps its `login_session` line (a later `awslogin login` reuses
it); only the cached tokens and key go, with the session's refresh lock file beside them.
Nothing to remove is not an error, but it is said.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STILL_VALID_NOTE = (
    "Note, any local developer tools that have already loaded the access token may continue "
    "to use it until its expiration. Access tokens expire in 15 minutes."
)


def _remove_lock_file(cache_file: Path) -> None:
    """Remove ``<hash>.lock`` beside a session's ``<hash>.json`` (see `store.lock`)."""
    try:
        cache_file.with_suffix(".lock").unlink()
    except OSError:
        pass  # absent, or not ours to remove: it holds no secret


def _logout_session(session: str) -> bool:
    """Delete *session*'s cache file (under its refresh lock, so that a refresh running now
    cannot write it back afterwards) and its lock file; return whether there was a file."""
    from awslogin.store import cache
    from awslogin.store.lock import session_lock

    path = cache.cache_path(session)
    if not path.exists():
        _remove_lock_file(path)
        return False
    with session_lock(session, timeout=10):
        removed = cache.delete_token(session)
    _remove_lock_file(path)
    return removed


def run(args: Any) -> int:
    """Delete the profile's cache file, or with --all every login cache file."""
    from awslogin.store import cache, config

    if args.all:
        removed = cache.delete_all_tokens()
        for path in removed:
            _remove_lock_file(path)
        if not removed:
            print(f"No cached login session tokens found in {cache.cache_dir()}.")
            return 0
        plural = "s" if len(removed) != 1 else ""
        print(f"Removed {len(removed)} cached login credential{plural} from {cache.cache_dir()}.")
        print(STILL_VALID_NOTE)
        return 0

    profile = config.profile_name(args.profile)
    session = config.read_profile(profile).get("login_session")
    if not isinstance(session, str) or not session.strip():
        print(f"Profile {profile} has no login session; nothing to remove.")
        return 0
    session = session.strip()
    if _logout_session(session):
        # the AWS CLI's sentence, word for word
        print(f"Removed cached login credentials for profile '{profile}'. {STILL_VALID_NOTE}")
    else:
        print(
            f"Profile {profile} has no cached login credentials (session {session}); "
            "nothing to remove."
        )
    return 0
