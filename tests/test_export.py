"""Every export format, parsed back by the shell it is for (bash; fish and pwsh when installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from awslogin.credentials import Credentials
from awslogin.export import FORMATS, format_credentials

NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
         "AWS_CREDENTIAL_EXPIRATION")

REALISTIC = Credentials(
    access_key_id="ASIAEXAMPLEKEY123456",
    secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    session_token="IQoJb3JpZ2luX2VjEBoaCXVzLWVhc3QtMSJGMEQCIH+/abc==",
    expiration=datetime(2026, 11, 25, 7, 30, 5, tzinfo=timezone.utc),
    account_id="111122223333",
)
# Values no real credential holds, to prove the quoting survives anything a shell expands.
HOSTILE = Credentials(
    access_key_id="ASIA'QUOTE\"DQ",
    secret_access_key="s$HOME`id`$(id) \\ back\\slash",
    session_token="tok with spaces; echo pwned & | > < * ? ~ # !",
    expiration=REALISTIC.expiration,
    account_id="111122223333",
)


def expected(creds: Credentials) -> list[str]:
    return [creds.access_key_id, creds.secret_access_key, creds.session_token,
            "2026-11-25T07:30:05Z"]


def test_process_format_is_the_credential_process_schema():
    doc = json.loads(format_credentials(REALISTIC, "process"))
    assert doc == {
        "Version": 1,
        "AccessKeyId": REALISTIC.access_key_id,
        "SecretAccessKey": REALISTIC.secret_access_key,
        "SessionToken": REALISTIC.session_token,
        "Expiration": "2026-11-25T07:30:05Z",
        "AccountId": "111122223333",
    }


def test_env_format_matches_the_aws_cli_for_plain_values():
    lines = format_credentials(REALISTIC, "env").splitlines()
    assert lines[0] == f"export AWS_ACCESS_KEY_ID={REALISTIC.access_key_id}"
    assert lines[3] == "export AWS_CREDENTIAL_EXPIRATION=2026-11-25T07:30:05Z"
    assert format_credentials(REALISTIC, "windows-cmd").splitlines()[1] == (
        f"set AWS_SECRET_ACCESS_KEY={REALISTIC.secret_access_key}")
    assert format_credentials(REALISTIC, "powershell").splitlines()[2] == (
        f'$Env:AWS_SESSION_TOKEN="{REALISTIC.session_token}"')
    assert format_credentials(REALISTIC, "fish").splitlines()[0] == (
        f'set -gx AWS_ACCESS_KEY_ID "{REALISTIC.access_key_id}"')


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        format_credentials(REALISTIC, "yaml")
    assert set(FORMATS) == {"process", "env", "env-no-export", "powershell", "windows-cmd",
                            "fish"}


def _run(argv: list[str], script: str) -> list[str]:
    out = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


@pytest.mark.parametrize("creds", [REALISTIC, HOSTILE], ids=["realistic", "hostile"])
def test_env_is_parsed_back_by_bash_and_exported(creds, tmp_path):
    script = tmp_path / "creds.sh"
    script.write_text(format_credentials(creds, "env"))
    # `env` proves they are exported to children, not just shell variables.
    body = f". {script}\n" + "".join(f'printenv {n}\n' for n in NAMES)
    assert _run(["bash", "--norc", "--noprofile"], body) == expected(creds)


@pytest.mark.parametrize("creds", [REALISTIC, HOSTILE], ids=["realistic", "hostile"])
def test_env_no_export_is_parsed_back_by_bash_and_not_exported(creds, tmp_path):
    script = tmp_path / "creds.sh"
    script.write_text(format_credentials(creds, "env-no-export"))
    body = f". {script}\n" + "".join(f'printf "%s\\n" "${n}"\n' for n in NAMES)
    body += 'printenv AWS_ACCESS_KEY_ID || echo "not exported"\n'
    assert _run(["bash", "--norc", "--noprofile"], body) == [*expected(creds), "not exported"]


def require_fish() -> None:
    """Skip without fish on a developer machine; in CI it must be there (like chromium)."""
    if shutil.which("fish"):
        return
    if os.environ.get("CI"):
        pytest.fail("fish is required in CI (apt-get install -y fish)", pytrace=False)
    pytest.skip("fish is not installed (apt-get install -y fish)")


def test_a_missing_fish_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        require_fish()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_fish()


@pytest.mark.parametrize("creds", [REALISTIC, HOSTILE], ids=["realistic", "hostile"])
def test_fish_is_parsed_back_by_fish(creds, tmp_path):
    require_fish()
    script = tmp_path / "creds.fish"
    script.write_text(format_credentials(creds, "fish"))
    body = f"source {script}\n" + "".join(f"printenv {n}\n" for n in NAMES)
    assert _run(["fish", "--no-config"], body) == expected(creds)


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell (pwsh) is not installed")
@pytest.mark.parametrize("creds", [REALISTIC, HOSTILE], ids=["realistic", "hostile"])
def test_powershell_is_parsed_back_by_pwsh(creds, tmp_path):
    script = tmp_path / "creds.ps1"
    script.write_text(format_credentials(creds, "powershell"))
    body = f". '{script}'\n" + "".join(f"Write-Output $Env:{n}\n" for n in NAMES)
    assert _run(["pwsh", "-NoProfile", "-NonInteractive", "-Command", "-"], body) == expected(
        creds)


def test_windows_cmd_lines_set_each_variable_verbatim():
    # No cmd.exe here: parse `set NAME=value` the way cmd does (everything after the first =).
    parsed = {}
    for line in format_credentials(REALISTIC, "windows-cmd").splitlines():
        assert line.startswith("set ")
        name, value = line[4:].split("=", 1)
        parsed[name] = value
    assert [parsed[n] for n in NAMES] == expected(REALISTIC)
