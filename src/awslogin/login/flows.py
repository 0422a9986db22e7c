"""The two browser flows, the code exchange, and saving a session (PROTOCOL.md §1-3).

`perform_login` runs same-device or cross-device sign-in and exchanges the code for tokens with
a fresh P-256 key; it writes nothing, so `exec --ephemeral` reuses it. `save_login` writes the
cache entry first and then the profile, after refusing profiles that hold other credentials and
asking before replacing another session. Collaborators (prompt reader, URL opener, clock,
output) are parameters with production defaults, as in the AWS CLI's login fetchers.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from awslogin.errors import (
    AwsloginError,
    ConfigError,
    LoginCancelledError,
    LoginTimeoutError,
    ProfileConflictError,
    UsageError,
)
from awslogin.login.paste import BadPasteError, parse_verification_code
from awslogin.login.pending import PendingLogin, start_cross_device, start_same_device
from awslogin.login.prompt import PromptTimeout, line_reader
from awslogin.login.receiver import CallbackReceiver

CODE_PROMPT = "Enter the authorization code displayed in your browser: "
MAX_PASTE_ATTEMPTS = 3
NOTHING_CHANGED = "nothing was changed"
# The AWS CLI's wording (its PrintOnlyHandler and OpenBrowserHandler)
NO_BROWSER_HEADER = "Browser will not be automatically opened.\nPlease visit the following URL:\n\n"
OPEN_BROWSER_HEADER = (
    "Attempting to open your default browser.\n"
    "If the browser does not open, open the following URL:\n\n"
)


@dataclass(frozen=True)
class LoginOptions:
    """How to sign in: where, which flow, and how long to wait for the person."""

    base_url: str
    remote: bool
    open_browser: bool = True
    redirect_port: int | None = None
    timeout: float = 600.0
    qr: bool = False
    copy: bool = False
    region: str | None = None  # the login's region, remembered in the cache as signInRegion


def options_from_args(
    args: Any, base_url: str, *, environ: Mapping[str, str], out: TextIO,
    region: str | None = None,
) -> LoginOptions:
    """The login options for `login` and `exec --ephemeral` from their shared flags; the flow
    is chosen (and the choice said on *out*) by `detect.choose`."""
    from awslogin.login.detect import choose

    choice = choose(args, environ, out)
    return LoginOptions(
        base_url=base_url,
        remote=choice.remote,
        open_browser=choice.open_browser,
        redirect_port=args.redirect_port,
        timeout=args.timeout,
        qr=args.qr,
        copy=args.copy,
        region=region,
    )


@dataclass
class LoginSession:
    """A signed-in session held in memory: tokens, DPoP key and where they were issued."""

    login_session: str
    account_id: str
    base_url: str
    client_id: str
    key: Any = field(repr=False)
    token: Any = field(repr=False)  # signin.TokenResult
    clock_offset: float | None = None
    region: str | None = None


def human_duration(seconds: float) -> str:
    """``1 second``, ``90 seconds``, ``10 minutes``, ``2 hours``: whole units when they fit."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


def _timeout_error(timeout: float) -> LoginTimeoutError:
    return LoginTimeoutError(
        f"The login was not completed within {human_duration(timeout)}, so {NOTHING_CHANGED}. "
        "Run awslogin login again (--timeout sets how long to wait)."
    )


def _default_open(url: str) -> bool:
    import webbrowser

    try:
        return bool(webbrowser.open(url))
    except Exception:  # any browser failure means "print the URL instead"
        return False


def perform_login(
    options: LoginOptions,
    *,
    out: TextIO | None = None,
    read_line: Callable[[str], str] | None = None,
    open_url: Callable[[str], bool] | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LoginSession:
    """Run the browser flow and the code exchange; return the session, writing no file.

    Raises `LoginTimeoutError` after ``options.timeout`` seconds, `LoginCancelledError` on
    Ctrl-C or end of input, `LoginDeniedError` when the browser reports an error, and the
    Sign-In client's errors from the exchange.
    """
    from awslogin import dpop, signin

    # Built before the browser opens: a config problem (say a services section botocore
    # rejects) must show now, not after the person has signed in and the code is spent.
    client = signin.SigninClient(options.base_url)
    client.prepare()
    stream = out if out is not None else sys.stderr
    env = os.environ if environ is None else environ
    deadline = clock() + options.timeout
    remote = options.remote
    if remote is None:  # a caller that left the choice to us
        from awslogin.login.detect import choose_flow

        choice = choose_flow(env, stdin_isatty=_stdin_isatty())
        stream.write(choice.reason + "\n")
        remote = choice.remote
        if not choice.open_browser:
            options = replace(options, open_browser=False)
    try:
        if remote:
            pending, code = _cross_device(options, stream, read_line, env, deadline, clock)
        else:
            pending, code = _same_device(options, stream, open_url, env, deadline, clock)
        key = dpop.generate_key()
        return _exchange(client, pending, code, key, region=options.region)
    except KeyboardInterrupt:
        raise LoginCancelledError(f"Login cancelled, so {NOTHING_CHANGED}.")
    except (LoginTimeoutError, PromptTimeout):
        raise _timeout_error(options.timeout)


def _stdin_isatty() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def _show_url(url: str, options: LoginOptions, out: TextIO, env: Mapping[str, str]) -> None:
    from awslogin.login.carry import present_url

    present_url(url, out=out, qr=options.qr, copy=options.copy, environ=env)
    out.flush()


def _same_device(
    options: LoginOptions,
    out: TextIO,
    open_url: Callable[[str], bool] | None,
    env: Mapping[str, str],
    deadline: float,
    clock: Callable[[], float],
) -> tuple[PendingLogin, str]:
    # Bind first: the port is ours before any browser (or anyone else) is told about it.
    receiver = CallbackReceiver(options.redirect_port or 0)
    opener_thread: threading.Thread | None = None
    try:
        pending = start_same_device(options.base_url, receiver.port)
        receiver.start(pending.state)
        url = pending.authorize_url
        if options.open_browser:
            out.write(OPEN_BROWSER_HEADER)
            _show_url(url, options, out, env)
            opener_thread = _open_in_background(url, open_url or _default_open, out)
        else:
            out.write(NO_BROWSER_HEADER)
            _show_url(url, options, out, env)
            from awslogin.login.carry import port_forward_hint

            hint = port_forward_hint(
                receiver.port, env, pinned=options.redirect_port is not None
            )
            if hint:
                out.write(hint.rstrip("\n") + "\n")
        out.write("\nWaiting for the sign-in to finish in the browser...\n")
        out.flush()
        code = receiver.wait(deadline, clock=clock)
        return pending, code
    finally:
        receiver.close()
        if opener_thread is not None:
            opener_thread.join(1.0)


def _open_in_background(
    url: str, open_url: Callable[[str], bool], out: TextIO
) -> threading.Thread:
    """Open the browser without blocking the wait: some `$BROWSER` commands run until closed."""

    def run() -> None:
        if not open_url(url):
            out.write(
                "The browser could not be opened. Open the URL above in a browser on this "
                "machine, or press Ctrl-C and run awslogin login --remote to sign in from "
                "another device.\n"
            )
            out.flush()

    thread = threading.Thread(target=run, name="awslogin-open-browser", daemon=True)
    thread.start()
    return thread


def _cross_device(
    options: LoginOptions,
    out: TextIO,
    read_line: Callable[[str], str] | None,
    env: Mapping[str, str],
    deadline: float,
    clock: Callable[[], float],
) -> tuple[PendingLogin, str]:
    pending = start_cross_device(options.base_url)
    out.write(NO_BROWSER_HEADER)
    _show_url(pending.authorize_url, options, out, env)
    out.write("\n")
    out.flush()
    read = read_line or line_reader(deadline=deadline, hide=True, out=out, clock=clock)
    for attempt in range(1, MAX_PASTE_ATTEMPTS + 1):
        try:
            text = read(CODE_PROMPT)
        except EOFError:
            raise LoginCancelledError(
                f"No authorization code was entered (end of input), so {NOTHING_CHANGED}."
            )
        if clock() >= deadline:
            raise PromptTimeout()
        try:
            return pending, parse_verification_code(text, pending.state)
        except BadPasteError as exc:
            left = MAX_PASTE_ATTEMPTS - attempt
            out.write(str(exc) + "\n")
            out.flush()
            if left == 0:
                break
    raise AwsloginError(
        f"No valid authorization code after {MAX_PASTE_ATTEMPTS} attempts, so the login was "
        f"not completed and {NOTHING_CHANGED}. Run awslogin login --remote again."
    )


def _exchange(
    client: Any, pending: PendingLogin, code: str, key: Any, *, region: str | None
) -> LoginSession:
    from awslogin import signin

    token = client.exchange_code(
        client_id=pending.client_id,
        code=code,
        code_verifier=pending.code_verifier,
        redirect_uri=pending.redirect_uri,
        key=key,
    )
    if not token.id_token:
        raise AwsloginError(
            f"The Sign-In service at {pending.base_url} returned no identity token, so the "
            f"session cannot be named and {NOTHING_CHANGED}. Run awslogin login again."
        )
    arn = signin.arn_from_id_token(token.id_token)
    return LoginSession(
        login_session=arn,
        account_id=signin.account_from_arn(arn),
        base_url=pending.base_url,
        client_id=pending.client_id,
        key=key,
        token=token,
        clock_offset=client.clock_offset,
        region=region,
    )


def cache_entry(session: LoginSession) -> dict[str, Any]:
    """The token cache JSON of PROTOCOL.md §3, plus `signinEndpoint` (and `clockOffset`)."""
    from awslogin import dpop
    from awslogin.store.cache import (
        CLOCK_OFFSET_FIELD,
        SIGNIN_ENDPOINT_FIELD,
        SIGNIN_REGION_FIELD,
    )

    token = session.token
    entry: dict[str, Any] = {
        "accessToken": {
            "accessKeyId": token.access_key_id,
            "secretAccessKey": token.secret_access_key,
            "sessionToken": token.session_token,
            "accountId": session.account_id,
            "expiresAt": token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "tokenType": "aws_sigv4",
        "clientId": session.client_id,
        "refreshToken": token.refresh_token,
        "idToken": token.id_token,
        "dpopKey": dpop.key_to_pem(session.key),
        SIGNIN_ENDPOINT_FIELD: session.base_url,
    }
    if session.region:
        entry[SIGNIN_REGION_FIELD] = session.region
    if session.clock_offset is not None:
        entry[CLOCK_OFFSET_FIELD] = session.clock_offset
    return entry


def unwritable_profile_message(profile: str) -> str:
    """What to tell a user whose --profile (or AWS_PROFILE) cannot be a config section."""
    shown = profile.encode("unicode_escape").decode("ascii")[:80]  # control characters visible
    return (
        f"The profile name '{shown}' cannot be written to the config file (no [ ], quotes, "
        "spaces, line breaks or control characters). Choose another --profile."
    )


def check_profile(profile: str, settings: Mapping[str, Any]) -> None:
    """Refuse a profile awslogin cannot write (`UsageError`: the name came from --profile or
    AWS_PROFILE), or one that holds other credentials (PROTOCOL.md §3)."""
    from awslogin.store.config import CONFLICTING_KEYS, CREDENTIAL_KINDS, section_name
    from awslogin.store.ini import validate_edit

    try:
        validate_edit(section_name(profile), {}, ())  # e.g. a name with a space: say so first
    except ConfigError:
        raise UsageError(unwritable_profile_message(profile)) from None
    for key in CONFLICTING_KEYS:
        if key in settings:
            kind = CREDENTIAL_KINDS.get(key, key)
            raise ProfileConflictError(
                f"Profile {profile} already uses {kind} credentials ({key}), so awslogin will "
                f"not add a login session to it. Choose another profile with --profile NAME "
                "(a new name creates it)."
            )


def replace_question(profile: str, existing: str, new: str) -> str:
    """The AWS CLI's question before replacing another `login_session`."""
    return (
        f"\nProfile {profile} is already configured to use session {existing}. "
        f"Do you want to overwrite it to use {new} instead? (y/n): "
    )


def save_login(
    session: LoginSession,
    profile: str,
    *,
    region_to_write: str | None,
    confirm_replace: Callable[[str], bool] | None,
) -> None:
    """Write the cache entry, then point *profile* at the session (PROTOCOL.md §3).

    *confirm_replace* is asked the question (the text to show) when the profile holds another
    `login_session`; None means nobody can answer, and the change is refused.
    """
    from awslogin.store import cache, config
    from awslogin.store.ini import validate_edit

    settings = config.read_profile(profile)
    check_profile(profile, settings)
    existing = settings.get("login_session")
    if isinstance(existing, str) and existing.strip() and existing.strip() != session.login_session:
        existing = existing.strip()
        if confirm_replace is None:
            raise ProfileConflictError(
                f"Profile {profile} already uses the login session {existing}, and there is no "
                f"terminal to confirm replacing it, so {NOTHING_CHANGED}. Log in to another "
                "profile with --profile NAME, or run awslogin login in a terminal."
            )
        if not confirm_replace(replace_question(profile, existing, session.login_session)):
            raise ProfileConflictError(
                f"Profile {profile} was left as it was (session {existing}), so "
                f"{NOTHING_CHANGED}. To keep both, log in with --profile NAME."
            )
    values = {"login_session": session.login_session}
    if region_to_write:
        values["region"] = region_to_write
    # refuse an unwritable edit before the cache is written, so a refusal leaves no file
    validate_edit(config.section_name(profile), values, ())
    had_cache = cache.cache_path(session.login_session).exists()
    cache.save_token(session.login_session, cache_entry(session))
    try:
        config.update_section(config.section_name(profile), values)
    except BaseException:
        # the profile was not pointed at the session: do not leave a new cache file behind
        # (one that existed before now holds this newer login of the same session: keep it)
        if not had_cache:
            with contextlib.suppress(AwsloginError):  # the first error is the one to tell
                cache.delete_token(session.login_session)
        raise


def remember_endpoint(session: LoginSession, profile: str, *, login_region: str) -> bool:
    """Pin the profile's `signin` endpoint to the one that issued the session, when needed.

    A refresh token only works where it was issued (aws-cli issue 10613). An SDK refreshing
    this profile goes to the endpoint of the profile's own region, or of its endpoint
    settings; when the session came from a custom endpoint, or the profile's region differs
    from the login's, write the standard `services` setting for `signin` so that every SDK
    refreshes at the issuing endpoint. Returns whether the profile was changed.
    """
    from awslogin.signin import standard_endpoint
    from awslogin.store import config

    region = config.read_profile(profile).get("region")
    region = region.strip() if isinstance(region, str) else None
    custom = session.base_url.rstrip("/") != standard_endpoint(login_region)
    if not custom and region == login_region:
        return False
    config.set_services_endpoint(profile, session.base_url)
    return True
