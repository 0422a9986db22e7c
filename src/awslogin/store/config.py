"""The shared config file (`AWS_CONFIG_FILE`, default `~/.aws/config`): read it, edit it safely.

Reading follows botocore: stdlib `configparser` (RawConfigParser defaults), `[default]` or
`[profile NAME]` sections, and indented sub-settings (`s3 =` / `  addressing_style = path`)
parsed into dicts. Editing never round-trips through configparser: the file is classified
line by line exactly as configparser reads it, and only the lines of the keys being changed
are touched, so every other line, comment, blank line and the order stay byte-identical.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from pathlib import Path
from typing import Any

from awslogin.errors import ConfigError
from awslogin.store.atomic import write_preserving_mode

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

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SECTION = re.compile(r"\[(?P<header>.+)\]")  # configparser.RawConfigParser.SECTCRE
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")  # OPTCRE
_COMMENT_PREFIXES = ("#", ";")
_KEY = re.compile(r"[A-Za-z0-9_.\-/]+\Z")


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


def _canonical(header: str) -> tuple[str, ...] | None:
    """The name botocore gives a section: ('profile', NAME), ('services', NAME), ..."""
    if header == "default":
        return ("profile", "default")
    for kind in ("profile", "services", "sso-session"):
        if header.startswith(kind):
            try:
                parts = shlex.split(header)
            except ValueError:
                return None
            return (kind, parts[1]) if len(parts) == 2 else None
    return (header,)


def _pick_section(headers: list[str], wanted: str) -> str | None:
    """The existing section botocore reads for *wanted* (the last match wins, as in botocore)."""
    target = _canonical(wanted)
    found = None
    for header in headers:
        if header == wanted or (target is not None and _canonical(header) == target):
            found = header
    return found


def read_section(name: str) -> dict[str, Any]:
    """Return the settings of section *name* (e.g. `services foo`); {} when absent.

    Indented sub-settings become dicts, as botocore reads them.
    """
    path = config_path()
    text = _read_text(path)
    if text is None:
        return {}
    parser = _parse(text, path)
    header = _pick_section(parser.sections(), name)
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


def _check(kind: str, text: str) -> None:
    bad = any(ch in "[]" or ord(ch) < 32 or ord(ch) == 127 or ch in "\x85\u2028\u2029"
              for ch in text)
    if bad:
        raise ConfigError(
            f"Refusing to write a config {kind} containing a line break, control character or"
            " square bracket."
        )


def _check_key(key: str) -> None:
    _check("key", key)
    if not _KEY.match(key):
        raise ConfigError(f"Refusing to write the config key {key!r}: it is not a plain name.")


class _Line:
    """One physical line and what configparser makes of it."""

    __slots__ = ("text", "kind", "section", "option")

    def __init__(self, text: str, kind: str, section: str | None, option: str | None) -> None:
        self.text = text
        self.kind = kind  # blank, comment, header, option, continuation
        self.section = section
        self.option = option


def _classify(text: str) -> list[_Line]:
    """Split *text* into lines and classify them the way `RawConfigParser._read` does."""
    lines: list[_Line] = []
    section: str | None = None
    option: str | None = None
    indent_level = 0
    for raw in _LINE.findall(text):
        stripped = raw.strip()
        if stripped.startswith(_COMMENT_PREFIXES):
            lines.append(_Line(raw, "comment", section, None))
            continue
        if not stripped:
            lines.append(_Line(raw, "blank", section, None))
            continue
        first = re.search(r"\S", raw)
        indent = first.start() if first else 0
        if section is not None and option and indent > indent_level:
            lines.append(_Line(raw, "continuation", section, option))
            continue
        indent_level = indent
        header = _SECTION.match(stripped)
        if header:
            section, option = header.group("header"), None
            lines.append(_Line(raw, "header", section, None))
            continue
        match = _OPTION.match(stripped)
        option = match.group("option").rstrip().lower() if match else None
        lines.append(_Line(raw, "option", section, option))
    return lines


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _render(indent: str, key: str, value: str | dict[str, str], newline: str) -> list[str]:
    if isinstance(value, dict):
        out = [f"{indent}{key} ={newline}"]
        out += [f"{indent}  {sub} = {val}{newline}" for sub, val in value.items()]
        return out
    return [f"{indent}{key} = {value}{newline}"]


def _validate(section: str, set_values: dict[str, Any], remove: tuple[str, ...]) -> None:
    _check("section name", section)
    if not section.strip():
        raise ConfigError("Refusing to write a config section with an empty name.")
    if section.split(" ", 1)[0] in ("profile", "services", "sso-session") and (
            _canonical(section) is None or any(c in section for c in "\"'\\")
            or len(section.split()) != 2):
        raise ConfigError(
            f"Refusing to write the config section [{section}]: profile and services names may"
            " not contain spaces or quotes (other tools could not read them)."
        )
    for key, value in set_values.items():
        _check_key(key)
        if isinstance(value, dict):
            for sub, val in value.items():
                _check_key(sub)
                _check("value", str(val))
        else:
            _check("value", str(value))
    for key in remove:
        _check_key(key)


def edit_text(
    text: str, section: str, set_values: dict[str, Any], remove: tuple[str, ...] = ()
) -> str:
    """Return *text* with *section* edited; every line not being changed is kept as it was."""
    _validate(section, set_values, remove)
    lines = _classify(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    headers = list(dict.fromkeys(line.section for line in lines if line.kind == "header"))
    target = _pick_section(headers, section)  # type: ignore[arg-type]
    pending = {key.lower(): (key, value) for key, value in set_values.items()}
    drop = {key.lower() for key in remove}
    if target is None:
        if not pending:
            return text
        out = text
        if out and not out.endswith(("\n", "\r")):
            out += newline
        if out.strip() and lines[-1].kind != "blank":
            out += newline
        out += f"[{section}]{newline}"
        for key, value in pending.values():
            out += "".join(_render("", key, value, newline))
        return out

    result: list[str] = []
    in_target = False
    insert_at: int | None = None
    key_indent: str | None = None
    header_seen = False
    skipping = False
    for line in lines:
        if line.kind == "header":
            in_target = line.section == target and not header_seen
            header_seen = header_seen or in_target
            result.append(line.text)
            if in_target:
                insert_at = len(result)
            skipping = False
            continue
        if in_target and line.kind == "option" and line.option is not None:
            key_indent = _indent_of(line.text)
            if line.option in pending:
                key, value = pending.pop(line.option)
                result += _render(_indent_of(line.text), key, value, newline)
                insert_at, skipping = len(result), True
                continue
            if line.option in drop:
                insert_at, skipping = len(result), True
                continue
            skipping = False
            result.append(line.text)
            insert_at = len(result)
            continue
        if in_target and line.kind == "continuation":
            if not skipping:
                result.append(line.text)
            insert_at = len(result)
            continue
        result.append(line.text)
    if pending and insert_at is not None:
        if key_indent is None:
            key_indent = _following_header_indent(lines, target)
        before = result[insert_at - 1]
        if not before.endswith(("\n", "\r")):
            result[insert_at - 1] = before + newline
        added: list[str] = []
        for key, value in pending.values():
            added += _render(key_indent, key, value, newline)
        result[insert_at:insert_at] = added
    return "".join(result)


def _following_header_indent(lines: list[_Line], target: str) -> str:
    """Indent for the first key of an empty section: not less than the next header's."""
    seen = False
    for line in lines:
        if line.kind == "header":
            if seen:
                return _indent_of(line.text)
            seen = line.section == target
    return ""


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
    _validate(section, set_values, remove)
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


def set_services_endpoint(profile: str, endpoint_url: str) -> None:
    """Make every SDK send `signin` calls for *profile* to *endpoint_url* (a services section).

    Uses the profile's `services` section when it names one, else creates
    `[services awslogin-<profile>]` and points the profile at it.
    """
    _check("value", endpoint_url)
    settings = read_profile(profile)
    services = settings.get("services")
    if not isinstance(services, str) or not services.strip():
        services = f"awslogin-{profile}"
        _check("section name", services)
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
