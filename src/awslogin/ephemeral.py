"""`awslogin exec --ephemeral`: sign in for one command, keep everything in memory.

For hosts that must stay clean (the seed's production instance): the sign-in runs as usual
(either flow), but the access token, the refresh token and the DPoP key live only in this
process. The command gets them through the loopback container-credentials endpoint, which
refreshes them in memory while it runs. Nothing is written: no cache entry, no lock file, no
config edit, no directory, whatever way the command ends.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from awslogin.errors import AwsloginError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from awslogin.credentials import Credentials
    from awslogin.login.flows import LoginSession

log = logging.getLogger("awslogin.ephemeral")

DEFAULT_REGION = "us-east-1"
REFRESH_BEFORE = 300.0  # seconds: refresh when fewer remain, as the SDKs do
STALE_GRACE = 30.0  # seconds: below this a failed refresh is an error, above it the old creds serve


def _now() -> datetime:
    return datetime.now(timezone.utc)


class EphemeralSession:
    """A login session held in memory only, handing out credentials that refresh themselves.

    `credentials()` is safe to call from many threads at once: one refresh at a time (the
    others wait for it and reuse its result), when fewer than ``refresh_before`` seconds remain.
    ``refresh`` is called as ``refresh(refresh_token) -> TokenResult``.
    """

    def __init__(
        self,
        token: Any,
        *,
        account_id: str,
        refresh: Callable[[str], Any],
        refresh_before: float = REFRESH_BEFORE,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self._token = token
        self._refresh_token: str = token.refresh_token
        self._account_id = account_id
        self._refresh = refresh
        self._refresh_before = timedelta(seconds=refresh_before)
        self._now = now
        self._lock = threading.Lock()
        self._warned = False
        self.refreshes = 0

    def credentials(self) -> Credentials:
        """The current credentials, refreshed first (in memory) when they are about to expire."""
        with self._lock:
            if self._token is None:
                raise AwsloginError("The ephemeral session has ended.")
            if self._token.expires_at - self._now() < self._refresh_before:
                self._refresh_locked()
            return self._as_credentials(self._token)

    def _refresh_locked(self) -> None:
        try:
            fresh = self._refresh(self._refresh_token)
        except AwsloginError as exc:
            left = (self._token.expires_at - self._now()).total_seconds()
            if left < STALE_GRACE:
                raise
            if not self._warned:  # the command keeps working for now; say it once
                self._warned = True
                log.warning(
                    "awslogin: could not refresh the in-memory session (%s); the current "
                    "credentials stay valid for %d more seconds.", exc, int(left)
                )
            return
        self._warned = False
        self.refreshes += 1
        self._token = fresh
        if fresh.refresh_token:  # the service may rotate it: keep the newest
            self._refresh_token = fresh.refresh_token

    def _as_credentials(self, token: Any) -> Credentials:
        from awslogin.credentials import Credentials

        return Credentials(
            access_key_id=token.access_key_id,
            secret_access_key=token.secret_access_key,
            session_token=token.session_token,
            expiration=token.expires_at,
            account_id=self._account_id,
        )

    def forget(self) -> None:
        """Drop every reference to the secrets (the process ends soon after anyway)."""
        with self._lock:
            self._token = None
            self._refresh_token = ""
            self._refresh = _gone


def _gone(_refresh_token: str) -> Any:
    raise AwsloginError("The ephemeral session has ended.")  # pragma: no cover


def choose_region(
    explicit: str | None, profile: str, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """The region to sign in to and where it came from (never prompts, never writes)."""
    env = os.environ if environ is None else environ
    if explicit:
        return explicit, "--region"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(name):
            return env[name], f"${name}"
    from awslogin.store.config import read_profile

    region = read_profile(profile).get("region")
    if isinstance(region, str) and region.strip():
        return region.strip(), f"profile {profile}"
    return DEFAULT_REGION, "the default; use --region to choose another"


def _command(args: Any) -> list[str]:
    command = list(args.command or [])
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError(
            "Give the command to run after '--', e.g. awslogin exec --ephemeral -- aws s3 ls."
        )
    return command


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sign_in(args: Any, base_url: str) -> LoginSession:
    """Run the chosen sign-in flow against *base_url* and return the session, writing nothing."""
    from awslogin.login.flows import options_from_args, perform_login

    # The same options and flow choice as `awslogin login`.
    return perform_login(options_from_args(args, base_url, environ=os.environ, out=sys.stderr))


def run_ephemeral(args: Any) -> int:
    """`awslogin exec --ephemeral [--remote] -- COMMAND`: return the command's exit code."""
    command = _command(args)  # before signing in: a usage error must not cost a login
    from awslogin import runner, signin
    from awslogin.login.detect import check_flow_flags

    check_flow_flags(args)
    from awslogin.store.config import profile_name

    profile = profile_name(args.profile)
    region, source = choose_region(args.region, profile)
    base_url = signin.resolve_endpoint(region, profile=profile, endpoint_url=args.endpoint_url)
    _say(f"Signing in to {region} ({source}) for this command only; nothing is written to disk.")
    login = sign_in(args, base_url)
    client = signin.SigninClient(login.base_url)
    client_id, key = login.client_id, login.key

    def refresh(refresh_token: str) -> Any:
        return client.refresh(client_id=client_id, refresh_token=refresh_token, key=key)

    session = EphemeralSession(login.token, account_id=login.account_id, refresh=refresh)
    del login  # from here on the secrets live in `session` (and the refresh closure) only
    try:
        return runner.run_command(command, session.credentials, region=region,
                                  static_env=bool(args.env))
    finally:
        session.forget()
