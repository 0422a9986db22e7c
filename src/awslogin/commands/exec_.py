"""`awslogin exec -- COMMAND`: run a command with credentials that stay fresh while it runs."""

from __future__ import annotations

import argparse
import os

from awslogin.errors import UsageError


def command_of(args: argparse.Namespace) -> list[str]:
    """The command after ``--`` (argparse keeps the separator in a REMAINDER)."""
    command = list(args.command or [])
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("Give the command to run after '--', e.g. awslogin exec -- aws s3 ls.")
    return command


def run(args: argparse.Namespace) -> int:
    """Serve the profile's credentials to COMMAND; return its exit code."""
    if getattr(args, "ephemeral", False):
        from awslogin.ephemeral import run_ephemeral

        return run_ephemeral(args)
    command = command_of(args)
    for option in ("remote", "endpoint_url", "redirect_port"):
        if getattr(args, option, None) not in (None, False):
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} only applies with --ephemeral.")
    from awslogin.credentials import load_credentials, open_session
    from awslogin.runner import run_command
    from awslogin.store import config

    profile = config.profile_name(args.profile)
    # Fail before starting anything when there is no session at all.
    session = open_session(profile)
    region = (
        getattr(args, "region", None)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or session.settings.get("region")
    )
    load_credentials(profile)  # a refresh problem shows now, as a message, not in the child

    def source():
        return load_credentials(profile)

    return run_command(command, source, region=region, static_env=bool(args.env))
