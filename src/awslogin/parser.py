"""The `awslogin` argument parser: every sub-command's options, in one place.

Loaded by `cli.main` after the `credential-process` fast path has had its chance, so that a
cache hit never pays for argparse. Each command module exposes ``run(args) -> int``.
"""

from __future__ import annotations

import argparse

from awslogin.errors import EXIT_USAGE

# command name -> module that holds run(args)
COMMANDS = {
    "login": "awslogin.commands.login",
    "logout": "awslogin.commands.logout",
    "credential-process": "awslogin.commands.credential_process",
    "export": "awslogin.commands.export",
    "configure-process": "awslogin.commands.configure_process",
    "exec": "awslogin.commands.exec_",
    "status": "awslogin.commands.status",
    "demo": "awslogin.commands.demo",
    "emulator": "awslogin.emulator.cli",
}

EXPORT_FORMATS = ("process", "env", "env-no-export", "powershell", "windows-cmd", "fish")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one plain sentence instead of a usage dump on error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message}. Run '{self.prog} --help' for usage.\n")


def _profile_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        help="profile in the shared config file (default: $AWS_PROFILE, else 'default')",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError("it must be more than 0 seconds")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _add_login(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "login",
        help="sign this terminal in with your AWS Management Console session",
        description="Sign in with your AWS Management Console session and store short-lived "
        "credentials for a profile, exactly as `aws login` does.",
    )
    _profile_arg(p)
    p.add_argument("--region", help="AWS Region to sign in to (default: the profile's region)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--remote",
        action="store_true",
        default=None,
        help="sign in from another device: open the URL anywhere, paste the code back here",
    )
    where.add_argument(
        "--no-remote",
        dest="remote",
        action="store_false",
        help="sign in with a browser on this machine, even when awslogin would choose --remote",
    )
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in URL instead of opening a browser (for a forwarded port)",
    )
    p.add_argument(
        "--redirect-port",
        type=_port,
        help="port of the local callback server (default: any free port)",
    )
    p.add_argument("--endpoint-url", help="Sign-In endpoint to use instead of AWS's")
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=600.0,
        help="give up after this many seconds (default: 600)",
    )
    p.add_argument("--qr", action="store_true", help="also show the sign-in URL as a QR code")
    p.add_argument(
        "--copy",
        action="store_true",
        help="copy the sign-in URL to your local clipboard through the terminal (OSC 52)",
    )


def _add_logout(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("logout", help="remove the cached session of a profile (or of all)")
    _profile_arg(p)
    p.add_argument("--all", action="store_true", help="remove every cached login session")


def _add_credential_process(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "credential-process",
        help="print credentials in the credential_process format (for any AWS tool)",
    )
    _profile_arg(p)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="print the profile's credentials for a shell or a tool")
    _profile_arg(p)
    p.add_argument("--format", choices=EXPORT_FORMATS, default="process")


def _add_configure_process(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "configure-process",
        help="add a credential_process profile for tools that cannot read login_session",
    )
    _profile_arg(p)
    p.add_argument("--as", dest="as_profile", metavar="NEW", help="name (default: PROFILE-process)")


def _add_exec(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        help="run a command with credentials that stay fresh while it runs",
        description="Run COMMAND with the profile's credentials, served on a loopback "
        "container-credentials endpoint that every AWS SDK refreshes from.",
    )
    _profile_arg(p)
    p.add_argument(
        "--env",
        action="store_true",
        help="also set static AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN",
    )
    p.add_argument(
        "--ephemeral",
        action="store_true",
        help="sign in for this command only, keep everything in memory, write no file",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--remote", action="store_true", default=None,
                       help="with --ephemeral: sign in from another device")
    where.add_argument("--no-remote", dest="remote", action="store_false",
                       help="with --ephemeral: sign in with a browser on this machine")
    p.add_argument("--region", help="with --ephemeral: AWS Region to sign in to")
    p.add_argument("--endpoint-url", help="with --ephemeral: Sign-In endpoint to use")
    p.add_argument("--no-browser", action="store_true",
                   help="with --ephemeral: print the sign-in URL instead of opening a browser")
    p.add_argument("--redirect-port", type=_port, help="with --ephemeral: callback port")
    p.add_argument("--timeout", type=_positive_float, default=600.0,
                   help="with --ephemeral: give up signing in after this many seconds")
    p.add_argument("--qr", action="store_true", help="with --ephemeral: show a QR code")
    p.add_argument("--copy", action="store_true", help="with --ephemeral: copy the URL (OSC 52)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")


def _add_status(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the profile's session; exit 0 when it is usable")
    _profile_arg(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON object")
    out.add_argument("-q", "--quiet", action="store_true", help="print nothing, set the exit code")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole system on the built-in emulator, in a throw-away directory",
    )
    p.add_argument(
        "--browser",
        action="store_true",
        help="approve the sign-in yourself in a real browser instead of automatically",
    )


def _add_emulator(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "emulator",
        help="run a local emulator of the AWS Sign-In service (and STS GetCallerIdentity)",
    )
    # The emulator defines its own options; importing it here costs nothing heavy.
    from awslogin.emulator import options

    options.add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, for `--help` and for tests."""
    parser = _Parser(
        prog="awslogin",
        description="Sign in to AWS with your AWS Management Console session, on this machine "
        "or a remote one, and serve the short-lived credentials to every tool.",
    )
    from awslogin import __version__

    parser.add_argument("--version", action="version", version=f"awslogin {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    for add in (
        _add_login,
        _add_logout,
        _add_credential_process,
        _add_export,
        _add_configure_process,
        _add_exec,
        _add_status,
        _add_demo,
        _add_emulator,
    ):
        add(sub)
    for p in sub.choices.values():
        p.add_argument(
            "--debug",
            action="store_true",
            help="log what happens (secrets redacted) and show tracebacks",
        )
    return parser
