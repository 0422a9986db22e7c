"""awslogin: sign in to AWS with your AWS Management Console session, and use it everywhere.

The public API is small and loads nothing heavy until it is used:

- `get_credentials(profile=None)`: fresh credentials for a `login_session` profile.
- `boto3_session(profile=None, **kwargs)`: a boto3 Session whose credentials awslogin refreshes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`: importing it costs the credential-process hot path

__version__ = "0.1.0"
__all__ = ["__version__", "boto3_session", "get_credentials"]

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from awslogin.credentials import Credentials


def get_credentials(profile: str | None = None) -> Credentials:
    """Return usable credentials for *profile*, refreshing the session first when needed."""
    from awslogin.api import get_credentials as _get

    return _get(profile)


def boto3_session(profile: str | None = None, **kwargs: Any) -> Any:
    """Return a `boto3.Session` whose credentials come from (and are refreshed by) awslogin."""
    from awslogin.api import boto3_session as _session

    return _session(profile, **kwargs)
