"""Where the Sign-In service is: botocore's own resolution of the `signin` service.

Re-exported by `awslogin.signin`. The URL is taken from the request botocore would send
(stopped before the wire), because for `signin` the operation's endpoint rules differ from
`client.meta.endpoint_url`.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from awslogin.errors import AwsloginError, ConfigError, UsageError

TOKEN_PATH = "/v1/token"
_INVALID_ENDPOINT = "Invalid endpoint: "  # botocore's ValueError for a configured endpoint URL


def config_file_path() -> str:
    """The shared config file botocore reads (`AWS_CONFIG_FILE`, else ~/.aws/config)."""
    raw = os.environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
    return os.path.expanduser(os.path.expandvars(raw))


def config_failure(exc: Exception, *, profile: str | None = None) -> AwsloginError:
    """The plain error for a botocore failure caused by the config file or environment.

    botocore's own sentence names the section and setting at fault (it carries names, never
    secrets), so it is kept and framed with the file to fix.
    """
    path = config_file_path()
    text = str(exc).strip()
    if isinstance(exc, ValueError) and text.startswith(_INVALID_ENDPOINT):
        url = text[len(_INVALID_ENDPOINT):]
        for variable in ("AWS_ENDPOINT_URL_SIGNIN", "AWS_ENDPOINT_URL"):
            if os.environ.get(variable) == url:
                return UsageError(
                    f"The environment variable {variable} holds {url!r}, which is not a valid "
                    "endpoint URL. Fix or unset it and try again."
                )
        where = f"the profile {profile}" if profile else "the profile in use"
        return ConfigError(
            f"The endpoint_url setting {url!r} of {where} (or of its services section) in "
            f"{path} is not a valid URL. Fix it in that file and try again."
        )
    if text and not text.endswith("."):
        text += "."
    whose = f" of the profile {profile}" if profile and f'"{profile}"' not in text else ""
    return ConfigError(
        f"The AWS config file {path} has a setting{whose} that AWS tools cannot use: {text} "
        "Fix the file and try again."
    )


def botocore_session(profile: str | None) -> Any:
    """A botocore Session for *profile*; with None, one that ignores AWS_PROFILE too."""
    import botocore.session

    if profile is not None:
        return botocore.session.Session(profile=profile)
    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


def check_url(url: str) -> str:
    """*url* as a base URL (http or https, no query, no trailing slash), else `UsageError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or \
            parts.fragment or any(ch.isspace() for ch in url):
        raise UsageError(
            f"The endpoint URL {url!r} is not an http(s) URL. Give one like "
            "https://us-east-1.signin.aws.amazon.com."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def resolve_endpoint(
    region: str, *, profile: str | None = None, endpoint_url: str | None = None
) -> str:
    """Return the Sign-In base URL (no trailing slash) exactly as botocore resolves `signin`.

    Honours `endpoint_url`, AWS_ENDPOINT_URL_SIGNIN, AWS_ENDPOINT_URL, the profile's
    `endpoint_url` and `services` section, and the partitions. A profile that is not in the
    config file resolves as if no profile were set.
    """
    import botocore
    import botocore.config
    import botocore.exceptions

    if endpoint_url:
        return check_url(endpoint_url)
    if not region:
        raise UsageError("No AWS region is set. Pass --region (for example --region us-east-1).")
    config = botocore.config.Config(signature_version=botocore.UNSIGNED)
    try:
        try:
            client = botocore_session(profile).create_client(
                "signin", region_name=region, config=config
            )
        except botocore.exceptions.ProfileNotFound:
            client = botocore_session(None).create_client(
                "signin", region_name=region, config=config
            )
        url = _token_url_of(client)
    except botocore.exceptions.ConfigParseError:
        raise ConfigError(
            f"The AWS config file {config_file_path()} cannot be parsed, so the Sign-In endpoint "
            "cannot be resolved. Fix the file and try again."
        )
    except (botocore.exceptions.InvalidRegionError, botocore.exceptions.NoRegionError):
        raise UsageError(f"{region!r} is not a valid AWS region name.")
    except botocore.exceptions.EndpointResolutionError as exc:
        raise UsageError(
            f"No AWS Sign-In endpoint is known for the region {region!r} ({type(exc).__name__})."
        )
    except ValueError as exc:
        if str(exc).startswith(_INVALID_ENDPOINT):
            raise config_failure(exc, profile=profile)
        raise UsageError(
            f"No AWS Sign-In endpoint is known for the region {region!r} ({type(exc).__name__})."
        )
    except botocore.exceptions.BotoCoreError as exc:  # e.g. InvalidConfigError
        raise config_failure(exc, profile=profile)
    return check_url(url[: -len(TOKEN_PATH)] if url.endswith(TOKEN_PATH) else url)


def standard_endpoint(region: str) -> str:
    """The Sign-In base URL of *region*'s partition, ignoring every endpoint setting.

    Use this (not `client.meta.endpoint_url`, which differs for `signin`) to tell whether an
    endpoint is the standard one.
    """
    import botocore
    import botocore.config
    import botocore.exceptions

    session = botocore_session(None)
    session.set_config_variable("ignore_configured_endpoint_urls", True)
    config = botocore.config.Config(signature_version=botocore.UNSIGNED)
    try:
        client = session.create_client("signin", region_name=region, config=config)
        url = _token_url_of(client)
    except botocore.exceptions.ConfigParseError:
        raise ConfigError(
            f"The AWS config file {config_file_path()} cannot be parsed, so the Sign-In endpoint "
            "cannot be resolved. Fix the file and try again."
        )
    except botocore.exceptions.InvalidConfigError as exc:
        raise config_failure(exc)
    except (botocore.exceptions.BotoCoreError, ValueError):
        raise UsageError(f"{region!r} is not a valid AWS region name.")
    return check_url(url[: -len(TOKEN_PATH)] if url.endswith(TOKEN_PATH) else url)


class _Captured(Exception):
    """Stops a request in `before-send` once its URL is known (nothing goes on the wire)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _token_url_of(client: Any) -> str:
    """The URL botocore would POST CreateOAuth2Token to.

    `client.meta.endpoint_url` is not it: the operation's own endpoint-rule parameters pick
    `https://{region}.signin.aws.amazon.com`, so ask the client for the real request URL.
    """

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(urlunsplit(urlsplit(request.url)._replace(query="", fragment="")))

    client.meta.events.register_first("before-send.signin.CreateOAuth2Token", capture)
    try:
        client.create_o_auth2_token(
            tokenInput={"clientId": "x", "grantType": "refresh_token", "refreshToken": "x"}
        )
    except _Captured as captured:
        return captured.url
    raise UsageError("botocore did not produce a Sign-In request URL.")  # pragma: no cover
