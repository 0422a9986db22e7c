"""Line-preserving edits of INI text read the way botocore reads it (stdlib configparser).

The text is split into physical lines and each is classified exactly as
`configparser.RawConfigParser` (default options, as botocore uses it) would: blank, comment,
section header, option, or continuation of an option. An edit touches only the lines of the
keys it changes, so every other byte of the file stays as it was.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

from awslogin.errors import ConfigError

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SECTION = re.compile(r"\[(?P<header>.+)\]")  # configparser.RawConfigParser.SECTCRE
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")  # OPTCRE
_COMMENT_PREFIXES = ("#", ";")
_KEY = re.compile(r"[A-Za-z0-9_.\-/]+\Z")


def canonical_section(header: str) -> tuple[str, ...] | None:
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


def pick_section(headers: list[str], wanted: str) -> str | None:
    """The existing section botocore reads for *wanted* (the last match wins, as in botocore)."""
    target = canonical_section(wanted)
    found = None
    for header in headers:
        if header == wanted or (target is not None and canonical_section(header) == target):
            found = header
    return found


def check_text(kind: str, text: str) -> None:
    """Refuse (`ConfigError`) text that could break out of its line or section."""
    bad = any(ch in "[]" or ord(ch) < 32 or ord(ch) == 127 or ch in "\x85\u2028\u2029"
              for ch in text)
    if bad:
        raise ConfigError(
            f"Refusing to write a config {kind} containing a line break, control character or"
            " square bracket."
        )


def _check_key(key: str) -> None:
    check_text("key", key)
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


def validate_edit(section: str, set_values: dict[str, Any], remove: tuple[str, ...]) -> None:
    """Refuse (`ConfigError`) an edit whose section, keys or values are unsafe to write."""
    check_text("section name", section)
    if not section.strip():
        raise ConfigError("Refusing to write a config section with an empty name.")
    if section.split(" ", 1)[0] in ("profile", "services", "sso-session") and (
            canonical_section(section) is None or any(c in section for c in "\"'\\")
            or len(section.split()) != 2 or section.split(" ", 1)[1] != section.split()[1]):
        raise ConfigError(
            f"Refusing to write the config section [{section}]: profile and services names may"
            " not contain spaces or quotes (other tools could not read them)."
        )
    for key, value in set_values.items():
        _check_key(key)
        if isinstance(value, dict):
            for sub, val in value.items():
                _check_key(sub)
                check_text("value", str(val))
        else:
            check_text("value", str(value))
    for key in remove:
        _check_key(key)


def without_options(
    text: str, sections: Callable[[str], bool], options: frozenset[str]
) -> tuple[str, list[str]]:
    """*text* without *options* (and their continuation lines) in every section *sections* picks.

    Every other line is kept byte for byte. Returns the text and the options removed (sorted).
    """
    kept: list[str] = []
    removed: set[str] = set()
    for line in _classify(text):
        if (line.kind in ("option", "continuation") and line.section is not None
                and line.option in options and sections(line.section)):
            removed.add(line.option)  # type: ignore[arg-type]
            continue
        kept.append(line.text)
    return "".join(kept), sorted(removed)


def edit_text(
    text: str, section: str, set_values: dict[str, Any], remove: tuple[str, ...] = ()
) -> str:
    """Return *text* with *section* edited; every line not being changed is kept as it was."""
    validate_edit(section, set_values, remove)
    lines = _classify(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    headers = list(dict.fromkeys(line.section for line in lines if line.kind == "header"))
    target = pick_section(headers, section)  # type: ignore[arg-type]
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
