"""Command-line options of `awslogin emulator` (argparse only: imported on every CLI run)."""

from __future__ import annotations

import argparse
import math

DEFAULT_IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
# Bounds of the fault switches, shared with POST /__emulator/faults. Beyond them the emulator
# could not even format its Date header (clock) or would never answer (latency).
MAX_CLOCK_OFFSET = 10 * 365 * 86400  # seconds, either way
MAX_FAULT_COUNT = 1_000_000
MAX_LATENCY_MS = 60_000


def clock_offset_problem(value: object) -> str | None:
    """Why *value* is not an acceptable clock offset in seconds (None when it is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "clock_offset must be a number of seconds."
    if not math.isfinite(value) or abs(value) > MAX_CLOCK_OFFSET:
        return f"clock_offset must be finite and at most {MAX_CLOCK_OFFSET} seconds either way."
    return None


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("it must be more than 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds")
    if clock_offset_problem(value):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a finite number of seconds within {MAX_CLOCK_OFFSET} either way"
        )
    return value


def _bounded_int(limit: int):
    def parse(text: str) -> int:
        value = _non_negative_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"{value} is more than {limit}")
        return value

    return parse


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _iat_window(text: str) -> tuple[int, int]:
    """`PAST` or `PAST:FUTURE` seconds."""
    past, _, future = text.partition(":")
    return _positive_int(past), (_non_negative_int(future) if future else 60)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the emulator's options to *p*."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8765, help="port (default: 8765; 0: any free port)"
    )
    p.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="ARN",
        help="a console session the user can pick (repeatable): assumed-role, IAM user or root "
        f"ARN (default: {DEFAULT_IDENTITY})",
    )
    p.add_argument(
        "--auto-approve",
        action="store_true",
        help="skip the session page and approve the first identity at once (CI, demos)",
    )
    p.add_argument(
        "--access-token-ttl",
        type=_positive_int,
        default=900,
        metavar="SECONDS",
        help="lifetime of issued credentials (default: 900)",
    )
    p.add_argument(
        "--session-ttl",
        type=_positive_int,
        default=43200,
        metavar="SECONDS",
        help="lifetime of a sign-in session; refreshes fail with TOKEN_EXPIRED after it "
        "(default: 43200)",
    )
    p.add_argument(
        "--code-ttl",
        type=_positive_int,
        default=300,
        metavar="SECONDS",
        help="lifetime of an authorization code (default: 300)",
    )
    p.add_argument(
        "--refresh-rotation",
        choices=("aws", "strict"),
        default="aws",
        help="aws: a used refresh token stays valid for 60 s (concurrent refreshes work); "
        "strict: reusing a used refresh token revokes the whole session (default: aws)",
    )
    p.add_argument(
        "--dpop-nonce",
        action="store_true",
        help="require a server nonce in DPoP proofs (RFC 9449 §8; answered with "
        "error use_dpop_nonce and a DPoP-Nonce header)",
    )
    p.add_argument(
        "--dpop-iat-window",
        type=_iat_window,
        default=(300, 60),
        metavar="PAST[:FUTURE]",
        help="accept DPoP proofs whose iat is at most PAST seconds old and FUTURE seconds ahead "
        "(default: 300:60)",
    )
    faults = p.add_argument_group("fault injection (token endpoint)")
    faults.add_argument(
        "--throttle-first",
        type=_bounded_int(MAX_FAULT_COUNT),
        default=0,
        metavar="N",
        help="answer the first N token requests with 429 TooManyRequestsError",
    )
    faults.add_argument(
        "--error-first",
        type=_bounded_int(MAX_FAULT_COUNT),
        default=0,
        metavar="N",
        help="answer the first N token requests with 500 InternalServerException",
    )
    faults.add_argument(
        "--latency-ms",
        type=_bounded_int(MAX_LATENCY_MS),
        default=0,
        metavar="MS",
        help="add this much latency to every token request",
    )
    faults.add_argument(
        "--clock-offset",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="run the emulator's clock this far from real time (Date header, DPoP iat checks, "
        "expiries); may be negative",
    )
    faults.add_argument(
        "--credentials-changed",
        action="append",
        default=[],
        metavar="ARN",
        help="token calls for this identity fail with USER_CREDENTIALS_CHANGED (repeatable)",
    )
    faults.add_argument(
        "--insufficient-permissions",
        action="append",
        default=[],
        metavar="ARN",
        help="token calls for this identity fail with INSUFFICIENT_PERMISSIONS (repeatable)",
    )
