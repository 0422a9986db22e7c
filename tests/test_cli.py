"""`cli.main`: errors become one plain message; --debug adds a traceback, always redacted."""

from __future__ import annotations

import logging
import subprocess

import pytest

from awslogin import cli
from conftest import AWSLOGIN

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PROOF = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture
def restore_logging():
    """`main` attaches handlers to the awslogin and botocore loggers: undo that afterwards."""
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
               logging.getLogger(name).propagate)
        for name in ("awslogin", "botocore")
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_debug_traceback_of_a_broken_config_line_is_redacted(aws_home) -> None:
    # configparser quotes the broken line in its exception, which is chained to ours
    aws_home.config.write_text(
        "[default]\nregion = us-east-1\n"
        f"pasted by mistake {PROOF}\n"
        f"aws_secret_access_key {SECRET_KEY}\n"
    )
    result = subprocess.run(
        [*AWSLOGIN, "logout", "--debug"], env=aws_home.env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr  # --debug still traces
    assert "cannot be parsed" in result.stderr
    assert "<redacted>" in result.stderr
    assert PROOF not in result.stderr and "eyJzdWIiOiJ4In0" not in result.stderr
    assert SECRET_KEY not in result.stderr


def test_without_debug_there_is_no_traceback(aws_home) -> None:
    aws_home.config.write_text(f"[default]\npasted by mistake {PROOF}\n")
    result = subprocess.run(
        [*AWSLOGIN, "logout"], env=aws_home.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and PROOF not in result.stderr


def test_debug_traceback_of_an_unexpected_error_is_redacted(
    aws_home, monkeypatch, capsys, restore_logging
) -> None:
    from awslogin.commands import logout

    def broken(args) -> int:
        raise RuntimeError(f"bug while handling refresh token {PROOF} and {SECRET_KEY}")

    monkeypatch.setattr(logout, "run", broken)
    assert cli.main(["logout", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert "failed unexpectedly (RuntimeError)" in err
    assert PROOF not in err and SECRET_KEY not in err

