"""`awslogin configure-process`: a companion profile for tools that cannot read login_session.

It holds ``credential_process = awslogin credential-process --profile NAME`` (and the region),
which every AWS SDK, Terraform, the IDE toolkits and others understand, and which can be a
``source_profile`` for role chaining. Nothing else in the config file changes.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys

from awslogin.errors import ProfileConflictError, UsageError

_OURS = frozenset({"credential_process", "region"})


def process_command(profile: str) -> str:
    """The credential_process line for *profile* (quoted as botocore splits it)."""
    return f"awslogin credential-process --profile {shlex.quote(profile)}"


def run(args: argparse.Namespace) -> int:
    """Write (or update) the companion profile and say how to use it."""
    from awslogin.credentials import login_session_of
    from awslogin.store import config

    source = config.profile_name(args.profile)
    target = args.as_profile or f"{source}-process"
    if not target or any(ch.isspace() or ch in "\"'\\[]" for ch in target):
        # botocore strips and splits such names, so the profile would not be the one asked for
        raise UsageError(
            f"The profile name {target!r} contains spaces, quotes or brackets, which other tools"
            " would read as another name. Choose a plain name with --as NEW."
        )
    if target == source:
        raise UsageError(f"The companion profile needs its own name, not {source}; use --as NEW.")
    _, settings = login_session_of(source)  # only login_session profiles get a companion
    command = process_command(source)
    existing = config.read_profile(target)
    if existing and (
        set(existing) - _OURS or existing.get("credential_process", command) != command
    ):
        raise ProfileConflictError(
            f"The profile {target} already exists in {config.config_path()} and holds other "
            "settings; awslogin left it unchanged. Choose another name with --as NEW."
        )
    values = {"credential_process": command}
    region = settings.get("region")
    if isinstance(region, str) and region:
        values["region"] = region
    config.update_section(config.section_name(target), values)
    sys.stdout.write(_explain(source, target, values, str(config.config_path())))
    if "region" not in values:
        sys.stdout.write(
            f"\nNote: the profile {source} has no region, so neither has {target}; tools will "
            f"want one: aws configure set region REGION --profile {target}\n"
        )
    if shutil.which("awslogin") is None:
        sys.stdout.write(
            "\nNote: 'awslogin' is not on this shell's PATH; tools run credential_process "
            "through PATH, so add the directory holding awslogin to it.\n"
        )
    return 0


def _explain(source: str, target: str, values: dict[str, str], path: str) -> str:
    lines = [f"Wrote the profile {target} to {path}:", "", f"[profile {target}]"]
    lines += [f"{k} = {v}" for k, v in values.items()]
    lines += [
        "",
        "Tools that cannot read login_session (Terraform, IDE toolkits, older SDKs) can use",
        f"it now, e.g.: AWS_PROFILE={target} terraform plan",
        "It stays valid as long as your login does; when it ends, run "
        + ("awslogin login" if source == "default" else f"awslogin login --profile {source}")
        + ".",
        "",
        "To assume a role with it, add a profile like this one:",
        "",
        "[profile my-role]",
        "role_arn = arn:aws:iam::123456789012:role/ROLE_NAME",
        f"source_profile = {target}",
        "",
    ]
    return "\n".join(lines)
