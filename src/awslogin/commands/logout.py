"""`awslogin logout [--profile NAME] [--all]`: remove cached login sessions (PROTOCOL.md §3).

Like the AWS CLI, the profile keeps its `login_session` line (a later `awslogin login` reuses
it); only the cached tokens and key go. Nothing to remove is not an error, but it is said.
"""

from __future__ import annotations

import sys
from typing import Any

STILL_VALID_NOTE = (
    "Note, any local developer tools that have already loaded the access token may continue "
    "to use it until its expiration. Access tokens expire in 15 minutes."
)


def run(args: Any) -> int:
    """Delete the profile's cache file, or with --all every login cache file."""
    from awslogin.store import cache, config

    if args.all:
        removed = cache.delete_all_tokens()
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
        print(f"warning: no login session found for profile '{profile}'", file=sys.stderr)
        return 0
    session = session.strip()
    if cache.delete_token(session):
        print(
            f"Removed cached login credentials for profile '{profile}' (session {session}). "
            + STILL_VALID_NOTE
        )
    else:
        print(
            f"Profile '{profile}' has no cached login credentials to remove (session {session}); "
            "it was already logged out."
        )
    return 0
