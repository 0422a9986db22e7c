"""`awslogin login`: sign a profile in with the user's AWS Management Console session.

Resolves the profile, the region (asking for one only when nothing names it) and the Sign-In
endpoint, picks the flow, runs it, then saves the session: cache entry first, then the profile.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from awslogin.errors import ConfigError, LoginCancelledError, UsageError
from awslogin.login.detect import check_flow_flags, stdin_isatty

DEFAULT_REGION = "us-east-1"
MAX_REGION_ATTEMPTS = 3

REGION_EXPLANATION = (
    "No AWS region has been configured. "
    "The AWS region is the geographic location of your AWS resources.\n\n"
    "If you have used AWS before and already have resources in your account, specify which "
    "region they were created in. If you have not created resources in your account before, "
    "you can pick the region closest to you: "
    "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html.\n\n"
    "The region is saved in the profile; you can change it there at any time.\n"
)


def known_regions() -> set[str]:
    """Every region of every partition botocore knows (no `*-global` pseudo-regions)."""
    from botocore.loaders import Loader

    regions: set[str] = set()
    for partition in Loader().load_data("partitions")["partitions"]:
        regions.update(r for r in partition["regions"] if not r.endswith("-global"))
    return regions


def resolve_region(
    explicit: str | None, settings: Mapping[str, Any], environ: Mapping[str, str]
) -> str | None:
    """`--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's region; else None."""
    candidates: Iterable[Any] = (
        explicit,
        environ.get("AWS_REGION"),
        environ.get("AWS_DEFAULT_REGION"),
        settings.get("region"),
    )
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def prompt_region(
    read: Callable[[str], str], out: Any, regions: set[str] | None = None
) -> str:
    """Ask for a region (default us-east-1), accepting only regions botocore knows."""
    valid = known_regions() if regions is None else regions
    out.write(REGION_EXPLANATION)
    out.flush()
    for _ in range(MAX_REGION_ATTEMPTS):
        try:
            answer = read(f"AWS Region [{DEFAULT_REGION}]: ").strip()
        except EOFError:
            raise LoginCancelledError("No AWS Region was entered, so nothing was changed.")
        region = answer or DEFAULT_REGION
        if region in valid:
            return region
        out.write(
            f"'{region[:40]}' is not an AWS Region. Enter one such as us-east-1, eu-west-1 or "
            "ap-northeast-1.\n"
        )
        out.flush()
    raise UsageError(
        "No valid AWS Region was entered, so nothing was changed. "
        "Run awslogin login --region REGION (for example us-east-1)."
    )


def run(args: Any) -> int:
    """Sign in and save the session for the profile; print the profile and the session ARN."""
    from awslogin import signin
    from awslogin.login import flows
    from awslogin.login.prompt import ask_yes_no, line_reader
    from awslogin.store import config

    check_flow_flags(args)
    out = sys.stderr
    environ = os.environ
    profile = config.profile_name(args.profile)
    settings = config.read_profile(profile)
    # Refuse before the browser: no one should sign in only to be told the profile is taken.
    flows.check_profile(profile, settings)

    region = resolve_region(args.region, settings, environ)
    prompted = region is None
    if region is None:
        if not stdin_isatty():
            raise UsageError(
                f"No AWS Region is configured for profile {profile}, and there is no terminal "
                "to ask for one. Run awslogin login --region REGION (for example us-east-1)."
            )
        region = prompt_region(line_reader(out=out), out)

    base_url = signin.resolve_endpoint(region, profile=profile, endpoint_url=args.endpoint_url)
    options = flows.options_from_args(args, base_url, environ=environ, out=out, region=region)
    session = flows.perform_login(options, out=out, environ=environ)

    confirm = None
    if stdin_isatty():
        def confirm(question: str) -> bool:
            return ask_yes_no(question, line_reader(out=out), out=out)

    flows.save_login(
        session,
        profile,
        region_to_write=region if prompted else None,
        confirm_replace=confirm,
    )
    try:
        pinned = flows.remember_endpoint(session, profile, login_region=region)
    except ConfigError as exc:
        # The session is saved and works with awslogin; only other SDKs' refresh is at stake.
        out.write(f"{exc} Other AWS SDKs may not be able to refresh this session.\n")
    else:
        if pinned:
            out.write(
                f"Saved the Sign-In endpoint {session.base_url} in profile {profile} (a services"
                " section) so that every AWS SDK refreshes the session where it was issued.\n"
            )
    print(f"\nUpdated profile {profile} to use {session.login_session} credentials.", flush=True)
    if profile != "default":
        print(
            f'Use "--profile {profile}" to use the new credentials, such as '
            f'"aws sts get-caller-identity --profile {profile}"',
            flush=True,
        )
    return 0
