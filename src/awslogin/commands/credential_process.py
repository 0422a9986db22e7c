"""`awslogin credential-process`: the `credential_process` JSON for any AWS tool.

This runs once per tool process, so it stays on the hot path: on a cache hit it imports
nothing heavy (see `awslogin.credentials`).
"""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    """Print the profile's credentials as `credential_process` JSON, refreshing when needed."""
    from awslogin.credentials import load_credentials
    from awslogin.export import format_credentials

    creds = load_credentials(args.profile)
    sys.stdout.write(format_credentials(creds, "process"))
    sys.stdout.flush()
    return 0
