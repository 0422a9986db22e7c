"""The shared config file (`AWS_CONFIG_FILE`, default `~/.aws/config`): read it, edit it safely.

Reading follows botocore: stdlib `configparser` (RawConfigParser defaults), `[default]` or
`[profile NAME]` sections, and indented sub-settings (`s3 =` / `  addressing_style = path`)
parsed into dicts. Editing never round-trips through configparser: `store.ini` classifies the
file line by line exactly as configparser reads it and touches only the lines of the keys
being changed, so every other line, comment, blank line and the order stay byte-identical.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from awslogin.errors import ConfigError
from awslogin.store.atomic import write_preserving_mode
from awslogin.store.ini import (
    check_text,
    edit_text,
    pick_section,
    validate_edit,
)

# The keys that mean a profile already holds other credentials (PROTOCOL.md §3), with the name
# the AWS CLI gives each kind.
CONFLICTING_KEYS: tuple[str, ...] = (
    "web_identity_token_file",
    "sso_role_name",
    "sso_account_id",
    "aws_access_key_id",
    "role_arn",
    "credential_process",
)
CREDENTIAL_KINDS: dict[str, str] = {
    "web_identity_token_file": "Web Identity",
    "sso_role_name": "SSO",
    "sso_account_id": "SSO",
    "aws_access_key_id": "Access Key",
    "role_arn": "Assume Role",
    "credential_process": "Credential Process",
}

def config_path() -> Path:
    """Return the shared config file path (`AWS_CONFIG_FILE`, else `~/.aws/config`)."""
    raw = os.environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
    return Path(os.path.expanduser(os.path.expandvars(raw)))


def profile_name(explicit: str | None) -> str:
    """Return the profile to use: `--profile`, else `AWS_PROFILE`, else `default`."""
    return explicit or os.environ.get("AWS_PROFILE") or "default"


def section_name(profile: str) -> str:
    """Return the config section holding *profile* (`default` or `profile NAME`)."""
    return "default" if profile == "default" else f"profile {profile}"


def _read_text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"Cannot read the AWS config file {path}: {exc.strerror}.")
    # surrogateescape keeps any non-UTF-8 byte, so an edit writes it back unchanged
    return data.decode("utf-8", "surrogateescape")


def _parse(text: str, path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        # file objects split lines on \r, \n and \r\n: normalise like they would
        parser.read_string(text.replace("\r\n", "\n").replace("\r", "\n"), source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"The AWS config file {path} cannot be parsed ({first}). Fix or move it and try again."
        )
    return parser


def _parse_nested(value: str) -> dict[str, str]:
    nested: dict[str, str] = {}
    for line in value.splitlines():
        line = line.strip()
        if line and "=" in line:
            key, sub = line.split("=", 1)
            nested[key.strip()] = sub.strip()
    return nested


def read_section(name: str) -> dict[str, Any]:
    """Return the settings of section *name* (e.g. `services foo`); {} when absent.

    Indented sub-settings become dicts, as botocore reads them.
    """
    path = config_path()
    text = _read_text(path)
    if text is None:
        return {}
    parser = _parse(text, path)
    header = pick_section(parser.sections(), name)
    if header is None:
        return {}
    result: dict[str, Any] = {}
    for option in parser.options(header):
        value = parser.get(header, option)
        result[option] = _parse_nested(value) if value.startswith("\n") else value
    return result


def read_profile(profile: str) -> dict[str, Any]:
    """Return the settings of *profile* ({} when absent); `ConfigError` if unparsable."""
    return read_section(section_name(profile))


def update_section(
    section: str, set_values: dict[str, Any], remove: tuple[str, ...] = ()
) -> None:
    """Set and remove keys of *section* in the config file, keeping every other line.

    A value may be a dict, written as indented sub-settings (`signin =` / `  endpoint_url =`).
    Creates the section (and the file, and its directory) when missing; refuses CR/LF,
    control characters and square brackets (`ConfigError`); writes atomically, keeping the
    file's mode (0600 for a new file).
    """
    path = config_path()
    validate_edit(section, set_values, remove)
    with _edit_lock(path):
        text = _read_text(path)
        if text is None:
            text = ""
        else:
            _parse(text, path)  # never edit a file botocore could not read
        new_text = edit_text(text, section, set_values, remove)
        if new_text == text and path.exists():
            return
        try:
            write_preserving_mode(path, new_text.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            raise ConfigError(f"Cannot write the AWS config file {path}: {exc.strerror}.")


@contextlib.contextmanager
def _edit_lock(path: Path, timeout: float = 10.0) -> Iterator[None]:
    """Serialise awslogin's read-modify-write of the config file across processes.

    Two logins editing different profiles at once must not lose one edit. The lock is a
    flock on the file's directory (no extra file appears in ~/.aws); where that is not
    possible the edit goes ahead unlocked, as the AWS CLI's always does.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    directory = Path(os.path.realpath(path)).parent
    try:
        if not directory.is_dir():
            from awslogin.store.atomic import ensure_private_dir

            ensure_private_dir(directory)
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"Another awslogin process is editing {path}. Try again in a moment."
                    )
                time.sleep(0.02)
            except OSError:  # a filesystem without flock: go ahead unlocked
                break
        yield
    finally:
        os.close(fd)  # closing drops the flock


def set_services_endpoint(profile: str, endpoint_url: str) -> None:
    """Make every SDK send `signin` calls for *profile* to *endpoint_url* (a services section).

    Uses the profile's `services` section when it names one, else creates
    `[services awslogin-<profile>]` and points the profile at it.
    """
    check_text("value", endpoint_url)
    settings = read_profile(profile)
    services = settings.get("services")
    if not isinstance(services, str) or not services.strip():
        services = f"awslogin-{profile}"
        check_text("section name", services)
        if " " in services:
            raise ConfigError(
                f"Cannot write a services section for the profile {profile!r}: its name has a"
                " space."
            )
    existing = read_section(f"services {services}").get("signin")
    signin = dict(existing) if isinstance(existing, dict) else {}
    signin["endpoint_url"] = endpoint_url
    update_section(f"services {services}", {"signin": signin})
    if settings.get("services") != services:
        update_section(section_name(profile), {"services": services})
