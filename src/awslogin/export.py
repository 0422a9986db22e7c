"""Credentials as text: the formats of `aws configure export-credentials --format` (PROTOCOL.md §4).

Every format is built here and only here, so `export`, `credential-process` and the tests agree
on quoting. The output holds secrets by design: it goes to stdout, never to a log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from awslogin.credentials import Credentials

FORMATS = ("process", "env", "env-no-export", "powershell", "windows-cmd", "fish")


def iso8601(creds: Credentials) -> str:
    """The expiry as the AWS CLI writes it: UTC, seconds, ``Z``."""
    return creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")


def _variables(creds: Credentials) -> list[tuple[str, str]]:
    return [
        ("AWS_ACCESS_KEY_ID", creds.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key),
        ("AWS_SESSION_TOKEN", creds.session_token),
        ("AWS_CREDENTIAL_EXPIRATION", iso8601(creds)),
    ]


def process_json(creds: Credentials) -> str:
    """The `credential_process` JSON document (Version 1), on one line."""
    doc = {
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "SessionToken": creds.session_token,
        "Expiration": iso8601(creds),
    }
    if creds.account_id:
        # Read by botocore and the newer SDKs (account-based endpoints); ignored by the rest.
        doc["AccountId"] = creds.account_id
    return json.dumps(doc)


_SHELL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:._-@%,")


def _posix_quote(value: str) -> str:
    # Plain like the AWS CLI for the usual base64 values; quoted if a value ever needs it.
    if value and all(c in _SHELL_SAFE for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _fish_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _powershell_quote(value: str) -> str:
    # Double quotes as the AWS CLI writes them; escape what PowerShell would expand.
    return '"' + value.replace("`", "``").replace('"', '`"').replace("$", "`$") + '"'


def format_credentials(creds: Credentials, fmt: str) -> str:
    """Render *creds* in one of `FORMATS`, ending with a newline."""
    if fmt == "process":
        return process_json(creds) + "\n"
    variables = _variables(creds)
    if fmt == "env":
        lines = [f"export {k}={_posix_quote(v)}" for k, v in variables]
    elif fmt == "env-no-export":
        lines = [f"{k}={_posix_quote(v)}" for k, v in variables]
    elif fmt == "fish":
        lines = [f"set -gx {k} {_fish_quote(v)}" for k, v in variables]
    elif fmt == "powershell":
        lines = [f"$Env:{k}={_powershell_quote(v)}" for k, v in variables]
    elif fmt == "windows-cmd":
        # cmd.exe has no quoting for `set`; credential values never hold its metacharacters.
        lines = [f"set {k}={v}" for k, v in variables]
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return "\n".join(lines) + "\n"
