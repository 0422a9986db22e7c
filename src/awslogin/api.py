"""The Python API behind `awslogin.get_credentials` and `awslogin.boto3_session`.

`boto3_session` gives a boto3 Session whose credentials are botocore `RefreshableCredentials`
driven by awslogin's own refresh (single flight, clock correction, cache shared with the AWS
CLI). botocore's login provider is bypassed entirely, so it works without `awscrt` and on
botocore releases that predate `login_session`.
"""

from __future__ import annotations

from typing import Any

from awslogin.credentials import REFRESH_WINDOW, Credentials, format_time, load_credentials
from awslogin.store import config

METHOD = "awslogin"
# botocore refreshes when fewer than `advisory` seconds remain and insists below `mandatory`;
# align the first with awslogin's own window so that one botocore refresh is one awslogin one.
ADVISORY_TIMEOUT = REFRESH_WINDOW
MANDATORY_TIMEOUT = 60


def get_credentials(profile: str | None = None) -> Credentials:
    """Return credentials of *profile* with at least 5 minutes left, refreshing when needed."""
    return load_credentials(profile)


def _metadata(creds: Credentials) -> dict[str, str]:
    return {
        "access_key": creds.access_key_id,
        "secret_key": creds.secret_access_key,
        "token": creds.session_token,
        "expiry_time": format_time(creds.expiration),
        "account_id": creds.account_id,
    }


def refreshable_credentials(profile: str | None = None) -> Any:
    """botocore `RefreshableCredentials` for *profile*, refreshed through awslogin."""
    from botocore.credentials import RefreshableCredentials

    name = config.profile_name(profile)

    def refresh() -> dict[str, str]:
        return _metadata(load_credentials(name))

    return RefreshableCredentials.create_from_metadata(
        metadata=refresh(),
        refresh_using=refresh,
        method=METHOD,
        advisory_timeout=ADVISORY_TIMEOUT,
        mandatory_timeout=MANDATORY_TIMEOUT,
    )


class _Provider:
    """A botocore credential provider that always answers with awslogin's credentials."""

    METHOD = METHOD
    CANONICAL_NAME = "awslogin"

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def boto3_session(profile: str | None = None, **kwargs: Any) -> Any:
    """A `boto3.Session` for *profile* whose credentials awslogin refreshes.

    The profile's other settings (region, endpoints, retries) still apply; keyword arguments go
    to `boto3.Session` (e.g. ``region_name``).
    """
    import boto3
    import botocore.session
    from botocore.credentials import CredentialResolver

    name = config.profile_name(kwargs.pop("profile_name", None) or profile)
    credentials = refreshable_credentials(name)
    core = kwargs.pop("botocore_session", None) or botocore.session.Session()
    core.set_config_variable("profile", name)  # region and other settings of that profile
    core.register_component("credential_provider", CredentialResolver([_Provider(credentials)]))
    return boto3.Session(botocore_session=core, **kwargs)
