"""Command-line options of `awslogin emulator` (argparse only: imported on every CLI run)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the emulator's options to *p*."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0: any free port)")
    p.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="ARN",
        help="a console session the user can pick (repeatable): assumed-role, IAM user or root ARN",
    )
    p.add_argument(
        "--auto-approve",
        action="store_true",
        help="skip the session page and approve the first identity at once (CI, demos)",
    )
    p.add_argument("--access-token-ttl", type=int, default=900, metavar="SECONDS")
    p.add_argument("--session-ttl", type=int, default=43200, metavar="SECONDS")
    p.add_argument("--code-ttl", type=int, default=300, metavar="SECONDS")
    p.add_argument("--refresh-rotation", choices=("aws", "strict"), default="aws")
