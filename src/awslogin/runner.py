"""Run a command with credentials served to it for as long as it runs (`awslogin exec`).

The command gets the loopback container-credentials endpoint of `serve.py`, which every AWS SDK
and the AWS CLI refresh from on their own, and an environment cleaned of everything that the
SDKs' default credential chain would try first (a named profile, static keys, a ``[default]``
profile that holds credentials), so that the served credentials are the ones it uses.
"""

from __future__ import annotations

import configparser
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from awslogin.errors import AwsloginError, UsageError
from awslogin.serve import CredentialsServer
from awslogin.store.ini import canonical_section, without_options

if TYPE_CHECKING:  # pragma: no cover
    from awslogin.credentials import Credentials

log = logging.getLogger("awslogin.runner")

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Variables that choose a profile or hold credentials the SDKs would use before the container
# endpoint, or that point the container provider somewhere else.
SHADOWING_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)

# Keys that make a profile a credentials source of its own (config file / credentials file).
_CONFIG_CREDENTIAL_KEYS = frozenset({
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "role_arn",
    "web_identity_token_file", "sso_session", "sso_start_url", "sso_account_id",
    "sso_role_name", "credential_process", "login_session",
})
_CREDENTIALS_FILE_KEYS = frozenset({
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "credential_process",
})


def _aws_file(env: Mapping[str, str], variable: str, default: str) -> Path:
    return Path(os.path.expanduser(env.get(variable) or os.path.join("~", ".aws", default)))


def _is_default_profile(section: str) -> bool:
    return canonical_section(section) == ("profile", "default")


def _is_default(section: str) -> bool:
    return section == "default"


@dataclass
class _Hidden:
    """A file the command sees filtered: its variable, the value to set, what was dropped."""

    variable: str
    path: Path
    keys: list[str]
    value: str
    fd: int | None = None


def _filtered(
    variable: str, path: Path, sections: Callable[[str], bool], keys: frozenset[str]
) -> _Hidden | None:
    """*path* without the ``[default]`` *keys*, in memory; None when nothing needs hiding.

    The copy lives in a memfd (no file on disk, so ``exec --ephemeral`` stays file-free) that
    the command reads through ``/proc/PID/fd/N`` of this process: unlike ``/dev/fd/N`` that
    path still means our copy in the command's own children, even those that close inherited
    descriptors and reuse the number. Without memfd the whole file is hidden (``/dev/null``).
    """
    try:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    kept, removed = without_options(text, sections, keys)
    if not removed:
        return None
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None or not os.path.isdir(f"/proc/{os.getpid()}/fd"):
        return _Hidden(variable, path, removed, os.devnull)
    try:
        fd = memfd_create(f"awslogin-{path.name}", getattr(os, "MFD_CLOEXEC", 0))
    except OSError:
        return _Hidden(variable, path, removed, os.devnull)
    data = kept.encode("utf-8", "surrogateescape")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return _Hidden(variable, path, removed, f"/proc/{os.getpid()}/fd/{fd}", fd)


def _default_section_keys(path: Path, sections: Callable[[str], bool]) -> set[str]:
    """Keys of the ``[default]`` profile in *path* (nothing when absent or unreadable)."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return set()
    keys: set[str] = set()
    for name in parser.sections():
        if sections(name):
            keys.update(k.lower() for k in parser.options(name))
    return keys


def hidden_defaults(base: Mapping[str, str]) -> list[_Hidden]:
    """The config and credentials files, filtered, when their ``[default]`` holds credentials.

    The caller sets each ``variable`` to ``value`` in the command's environment and closes
    each ``fd`` once the command has ended.
    """
    found = [
        _filtered("AWS_CONFIG_FILE", _aws_file(base, "AWS_CONFIG_FILE", "config"),
                  _is_default_profile, _CONFIG_CREDENTIAL_KEYS),
        _filtered("AWS_SHARED_CREDENTIALS_FILE",
                  _aws_file(base, "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                  _is_default, _CREDENTIALS_FILE_KEYS),
    ]
    return [hidden for hidden in found if hidden is not None]


def _note(hidden: _Hidden) -> str:
    keys = ", ".join(hidden.keys)
    if hidden.value == os.devnull:
        return (f"Note: the command does not see {hidden.path}: its [default] profile's {keys} "
                "would be used before the credentials awslogin serves.")
    return (f"Note: the command sees {hidden.path} without the [default] profile's {keys} "
            "(SDKs would use it before the credentials awslogin serves).")


def child_environment(
    base: Mapping[str, str],
    served: Mapping[str, str],
    *,
    region: str | None,
    static: Credentials | None = None,
    extra_env: Mapping[str, str] | None = None,
    hidden: list[_Hidden] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """The command's environment, and a note per file filtered for it (to tell the user).

    Without *hidden*, files whose ``[default]`` holds credentials are hidden whole
    (``/dev/null``); `run_command` passes the filtered in-memory copies instead.
    """
    env = {k: v for k, v in base.items() if k not in SHADOWING_VARIABLES}
    if hidden is None:
        hidden = [
            _Hidden(h.variable, h.path, h.keys, os.devnull) for h in _whole_files_hidden(base)
        ]
    for item in hidden:
        env[item.variable] = item.value
    notes = [_note(item) for item in hidden]
    env.update(served)
    if region:
        env["AWS_REGION"] = region
        env["AWS_DEFAULT_REGION"] = region
    if static is not None:
        env["AWS_ACCESS_KEY_ID"] = static.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = static.secret_access_key
        env["AWS_SESSION_TOKEN"] = static.session_token
        env["AWS_CREDENTIAL_EXPIRATION"] = static.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    if extra_env:
        env.update(extra_env)
    return env, notes


def _whole_files_hidden(base: Mapping[str, str]) -> list[_Hidden]:
    out = []
    for variable, default, sections, keys in (
        ("AWS_CONFIG_FILE", "config", _is_default_profile, _CONFIG_CREDENTIAL_KEYS),
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials", _is_default, _CREDENTIALS_FILE_KEYS),
    ):
        path = _aws_file(base, variable, default)
        shadow = sorted(_default_section_keys(path, sections) & keys)
        if shadow:
            out.append(_Hidden(variable, path, shadow, os.devnull))
    return out


def _terminal_sends_sigint() -> bool:
    """True when Ctrl-C at our terminal already reaches the child (same foreground group)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                return True
        except (AttributeError, OSError, ValueError):
            continue
    return False


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    try:
        return subprocess.Popen(command, env=env)
    except FileNotFoundError:
        raise AwsloginError(f"Command not found: {command[0]}.", exit_code=127)
    except PermissionError:
        raise AwsloginError(f"Permission denied running {command[0]}.", exit_code=126)
    except OSError as exc:
        raise AwsloginError(f"Could not run {command[0]}: {exc.strerror}.", exit_code=126)


class _Forwarder:
    """Forward SIGINT/SIGTERM/SIGHUP to the child; installed before it starts, so none is lost."""

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None
        self.pending: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Forwarder:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in FORWARDED_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and _terminal_sends_sigint():
            return  # the terminal sent it to the whole foreground group, child included
        if self.child is None:
            self.pending.append(signum)
            return
        try:
            self.child.send_signal(signum)
        except ProcessLookupError:
            pass

    def started(self, child: subprocess.Popen) -> None:
        self.child = child
        for signum in self.pending:
            self._handle(signum, None)


def run_command(
    command: list[str],
    source: Callable[[], Credentials],
    *,
    region: str | None,
    static_env: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> int:
    """Run *command* with ``source()`` served to it; return its exit code (128+N for signal N).

    The endpoint listens on 127.0.0.1 with a random per-run token and stops when the command
    ends. With *static_env* the credentials of the start are also set as ``AWS_ACCESS_KEY_ID``
    and friends (for tools that read only those; they do not refresh).
    """
    if not command:
        raise UsageError("Give the command to run after '--', e.g. awslogin exec -- aws s3 ls.")
    static = source() if static_env else None
    hidden = hidden_defaults(os.environ)
    try:
        with CredentialsServer(source) as server:
            env, notes = child_environment(
                os.environ, server.environment(), region=region, static=static,
                extra_env=extra_env, hidden=hidden,
            )
            for note in notes:
                logging.getLogger("awslogin").warning("%s", note)
            with _Forwarder() as forwarder:
                child = _start(command, env)
                forwarder.started(child)
                code = child.wait()
    finally:
        for item in hidden:
            if item.fd is not None:
                os.close(item.fd)
    return 128 - code if code < 0 else code
