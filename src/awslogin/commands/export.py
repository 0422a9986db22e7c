"""`awslogin export`: the profile's credentials for a shell or a tool (PROTOCOL.md §4)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    """Print fresh credentials in ``--format`` (default: the credential_process JSON)."""
    from awslogin.credentials import load_credentials
    from awslogin.export import format_credentials

    creds = load_credentials(args.profile)
    sys.stdout.write(format_credentials(creds, args.format or "process"))
    sys.stdout.flush()
    return 0
