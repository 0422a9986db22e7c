"""The AWS Sign-In service client: endpoint resolution, token calls with DPoP, error mapping.

The wire work is botocore's own `signin` client (`CreateOAuth2Token`, rest-json, unsigned),
so requests look exactly like the AWS CLI's. awslogin adds what botocore does not do: a fresh
DPoP proof on every HTTP attempt, bounded retries with jitter for refreshes (never for the
single-use code exchange), clock-skew measurement from the `Date` header with correction of
the proof's `iat`, and plain-sentence errors that never contain a secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from awslogin.errors import (
    AwsloginError,
    ConfigError,
    EndpointUnreachableError,
    SignInServiceError,
    UsageError,
)
from awslogin.log import redact
from awslogin.signin_endpoint import (
    TOKEN_PATH,
    botocore_session,
    config_failure,
    config_file_path,
    resolve_endpoint,
    standard_endpoint,
)
from awslogin.signin_errors import (
    SKEW_WARNING_SECONDS,
    network_reason,
    safe_code,
    service_error,
    warn_skew,
)

_SKEW_APPLIED_SECONDS = 5.0  # below this the Date header's 1 s resolution is just noise
_BACKOFF_BASE = 0.5
_BACKOFF_CAP = 8.0
_CONNECT_TIMEOUT = 10
_READ_TIMEOUT = 30
_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):(?P<service>sts|iam)::(?P<account>\d{12})"
    r":(?P<resource>[A-Za-z0-9+=,.@_/:-]+)\Z"
)
_MAX_ARN_LENGTH = 2048

_log = logging.getLogger("awslogin.signin")

__all__ = [
    "SigninClient",
    "TokenResult",
    "account_from_arn",
    "arn_from_id_token",
    "resolve_endpoint",
    "standard_endpoint",
]


@dataclass(frozen=True)
class TokenResult:
    """What the token endpoint issued. ``expires_at`` is by the local clock (see `refresh`)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires_in: int
    refresh_token: str = field(repr=False)
    id_token: str | None = field(repr=False)
    expires_at: datetime


# --- the client ----------------------------------------------------------------------


@dataclass
class _Attempt:
    """One HTTP attempt's outcome."""

    result: TokenResult | None = None
    error: AwsloginError | None = None
    retryable: bool = False
    retry_after: float | None = None
    code: str = ""
    offset: float | None = None
    applied: float = 0.0
    local_at_response: float = 0.0


class SigninClient:
    """Calls `POST {base_url}/v1/token` (CreateOAuth2Token) with a DPoP proof per attempt."""

    def __init__(
        self,
        base_url: str,
        *,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        clock_offset: float | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = f"{self.base_url}{TOKEN_PATH}"
        self.clock_offset: float | None = clock_offset
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._region = region
        self._applied = clock_offset if clock_offset and \
            abs(clock_offset) >= _SKEW_APPLIED_SECONDS else 0.0
        self._client: Any = None
        self._key: Any = None
        self._lock = threading.Lock()  # one call at a time: the DPoP hook reads self._key
        self.attempts = 0  # HTTP attempts made by this client (for tests and --debug)

    # public calls

    def prepare(self) -> None:
        """Build the botocore client now, so a config problem shows before a browser opens."""
        self._botocore_client()

    def exchange_code(self, *, client_id: str, code: str, code_verifier: str,
                      redirect_uri: str, key: Any) -> TokenResult:
        """Exchange an authorization code for tokens. Never retried: the code is single-use."""
        token_input = {"clientId": client_id, "grantType": "authorization_code", "code": code,
                       "codeVerifier": code_verifier, "redirectUri": redirect_uri}
        return self._call(token_input, key, exchange=True)

    def refresh(self, *, client_id: str, refresh_token: str, key: Any) -> TokenResult:
        """Refresh the session; 429/5xx and network failures are retried with jittered backoff.

        ``expires_at`` of the result is the local clock at the response plus ``expiresIn``, so
        readers comparing it with their own clock agree with the service.
        """
        token_input = {"clientId": client_id, "grantType": "refresh_token",
                       "refreshToken": refresh_token}
        return self._call(token_input, key, exchange=False)

    # machinery

    def _call(self, token_input: dict[str, str], key: Any, *, exchange: bool) -> TokenResult:
        with self._lock:
            return self._call_locked(token_input, key, exchange=exchange)

    def _call_locked(self, token_input: dict[str, str], key: Any, *,
                     exchange: bool) -> TokenResult:
        attempts = 1 if exchange else self._max_attempts
        made = 0
        skew_retried = False
        while True:
            made += 1
            outcome = self._attempt(token_input, key, exchange=exchange)
            if outcome.result is not None:
                return outcome.result
            skewed = (outcome.offset is not None
                      and abs(outcome.offset - outcome.applied) > SKEW_WARNING_SECONDS)
            if outcome.code == "INVALID_REQUEST" and skewed and not skew_retried:
                # the proof was refused for its iat before any grant was looked at: safe to
                # repeat once with the corrected clock, even for the single-use code
                skew_retried = True
                _log.debug("retrying once with the clock corrected by %.0f s", outcome.offset)
                continue
            if outcome.retryable and made < attempts:
                delay = self._backoff(made, outcome.retry_after)
                _log.debug("attempt %d failed; retrying in %.2f s", made, delay)
                self._sleep(delay)
                continue
            raise outcome.error or SignInServiceError("AWS Sign-In call failed.")

    @staticmethod
    def _backoff(made: int, retry_after: float | None) -> float:
        ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * (2 ** (made - 1)))
        delay = random.uniform(ceiling / 2, ceiling)  # "equal jitter": never zero, spread out
        if retry_after is not None and 0 <= retry_after <= _BACKOFF_CAP:
            delay = max(delay, retry_after)
        return delay

    def _botocore_client(self) -> Any:
        if self._client is None:
            import botocore
            import botocore.config
            import botocore.exceptions

            config = botocore.config.Config(
                signature_version=botocore.UNSIGNED,
                retries={"total_max_attempts": 1},
                connect_timeout=_CONNECT_TIMEOUT,
                read_timeout=_READ_TIMEOUT,
                user_agent_extra="awslogin",
            )
            try:
                client = botocore_session(None).create_client(
                    "signin", region_name=self._region, endpoint_url=self.base_url,
                    config=config,
                )
            except botocore.exceptions.ConfigParseError:
                raise ConfigError(
                    f"The AWS config file {config_file_path()} cannot be parsed, so AWS "
                    "Sign-In cannot be called. Fix the file and try again."
                )
            except botocore.exceptions.BotoCoreError as exc:  # e.g. InvalidConfigError
                raise config_failure(exc)
            except ValueError:
                raise UsageError(f"The Sign-In endpoint {self.base_url!r} is not a valid URL.")
            client.meta.events.register(
                "before-send.signin.CreateOAuth2Token", self._add_dpop_header
            )
            self._client = client
        return self._client

    def _add_dpop_header(self, request: Any, **_: Any) -> None:
        """before-send: every HTTP attempt gets its own proof (new jti, current iat)."""
        from awslogin import dpop

        url = urlunsplit(urlsplit(request.url)._replace(query="", fragment=""))
        request.headers["DPoP"] = dpop.dpop_proof(
            self._key, url, now=self._clock() + self._applied
        )

    def _measure(self, headers: dict[str, str], local: float) -> float | None:
        raw = headers.get("date") or headers.get("Date")
        if not raw:
            return None
        try:
            service = parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        offset = service - local
        self.clock_offset = offset
        # the offset is measured against the bare clock, so it replaces (not adds to) the old one
        self._applied = offset if abs(offset) >= _SKEW_APPLIED_SECONDS else 0.0
        if abs(offset) > SKEW_WARNING_SECONDS:
            warn_skew(offset)
        return offset

    def _attempt(self, token_input: dict[str, str], key: Any, *, exchange: bool) -> _Attempt:
        import botocore.exceptions
        import botocore.parsers

        client = self._botocore_client()
        self._key = key
        outcome = _Attempt(applied=self._applied)
        self.attempts += 1
        _log.debug("POST %s (%s)", self.token_url, token_input["grantType"])
        try:
            response = client.create_o_auth2_token(tokenInput=token_input)
        except botocore.exceptions.ClientError as exc:
            return self._failed(exc.response, outcome, exchange=exchange)
        except (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError) as exc:
            _log.debug("connection to %s failed: %s", self.token_url,
                       redact(type(exc).__name__))
            outcome.retryable = True
            outcome.error = EndpointUnreachableError(
                f"Cannot reach AWS Sign-In at {self.token_url} ({network_reason(exc)}). "
                "Check the network, proxy and endpoint settings, then try again."
            )
            return outcome
        except (botocore.exceptions.BotoCoreError, botocore.parsers.ResponseParserError) as exc:
            outcome.retryable = not exchange
            outcome.error = SignInServiceError(
                f"AWS Sign-In at {self.token_url} sent a response awslogin cannot read "
                f"({type(exc).__name__}). Try again later."
            )
            return outcome
        outcome.local_at_response = self._clock()
        metadata = response.get("ResponseMetadata", {})
        outcome.offset = self._measure(metadata.get("HTTPHeaders", {}),
                                       outcome.local_at_response)
        output = response.get("tokenOutput")
        outcome.result = self._result(output, outcome.local_at_response)
        if outcome.result is None:
            outcome.retryable = not exchange
            outcome.error = SignInServiceError(
                f"AWS Sign-In at {self.token_url} returned an incomplete token response. "
                "Try again; if it persists, run awslogin login."
            )
        return outcome

    def _failed(self, response: dict[str, Any], outcome: _Attempt, *, exchange: bool) -> _Attempt:
        metadata = response.get("ResponseMetadata", {})
        headers = metadata.get("HTTPHeaders", {})
        status = int(metadata.get("HTTPStatusCode") or 0)
        shape = safe_code(response.get("Error", {}).get("Code"))
        code = safe_code(response.get("error")) or safe_code(response.get("Error", {}).get("error"))
        outcome.offset = self._measure(headers, self._clock())
        outcome.code = code
        outcome.retryable = status == 429 or status >= 500 or shape in (
            "TooManyRequestsError", "InternalServerException")
        try:
            outcome.retry_after = float(headers.get("retry-after", ""))
        except ValueError:
            outcome.retry_after = None
        _log.debug("token endpoint answered HTTP %s %s %s", status, shape, code)
        outcome.error = service_error(status, shape, code, exchange=exchange,
                                       skew=outcome.offset)
        return outcome

    @staticmethod
    def _result(output: Any, local_at_response: float) -> TokenResult | None:
        """The TokenResult of a 200 response's `tokenOutput`; None when it is incomplete."""
        output = output if isinstance(output, dict) else {}
        access = output.get("accessToken")
        access = access if isinstance(access, dict) else {}
        values = [access.get("accessKeyId"), access.get("secretAccessKey"),
                  access.get("sessionToken"), output.get("refreshToken")]
        expires_in = output.get("expiresIn")
        id_token = output.get("idToken")
        if not all(isinstance(v, str) and v for v in values) or not isinstance(expires_in, int) \
                or expires_in <= 0 or not (id_token is None or isinstance(id_token, str)):
            return None
        expires_at = datetime.fromtimestamp(local_at_response, timezone.utc)
        return TokenResult(
            access_key_id=values[0], secret_access_key=values[1], session_token=values[2],
            expires_in=expires_in, refresh_token=values[3], id_token=id_token or None,
            expires_at=expires_at + timedelta(seconds=expires_in),
        )


# --- the identity token --------------------------------------------------------------


def arn_from_id_token(id_token: str) -> str:
    """Return the session ARN (`sub` claim) of an idToken JWT, validated as an STS/IAM ARN.

    The signature is not checked: the token came straight from the token endpoint over the
    connection that also delivered the credentials.
    """
    problem = AwsloginError(
        "AWS Sign-In returned an identity token without a valid session ARN, so the session "
        "cannot be saved. Run awslogin login again; if it persists, report it."
    )
    parts = id_token.split(".") if isinstance(id_token, str) else []
    if len(parts) != 3 or len(id_token) > 16384:
        raise problem
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise problem
    sub = payload.get("sub") if isinstance(payload, dict) else None
    if not isinstance(sub, str) or len(sub) > _MAX_ARN_LENGTH or not _ARN.match(sub):
        raise problem
    return sub


def account_from_arn(arn: str) -> str:
    """Return the 12-digit account id of an STS/IAM ARN."""
    match = _ARN.match(arn)
    if not match:
        raise AwsloginError(f"{arn!r} is not an IAM or STS ARN.")
    return match.group("account")
