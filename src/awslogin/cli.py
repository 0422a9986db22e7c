"""The `awslogin` command line: output and exit codes, nothing else.

The arguments are defined in `awslogin.parser`; each sub-command lives in
``awslogin.commands.<name>`` (or ``awslogin.emulator.cli``) and is imported only when it runs.
`credential-process` on a cache hit is answered before argparse even loads: it runs once per
tool process, so its start-up time is the tool's. Errors are turned into output here, and only
here.
"""

from __future__ import annotations

import os
import sys

from awslogin.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, AwsloginError


def build_parser():  # noqa: ANN201 (argparse is not imported here on purpose)
    """The whole command line, for `--help` and for tests."""
    from awslogin.parser import build_parser as build

    return build()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `awslogin` executable."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["credential-process"]:
        from awslogin.commands.credential_process import fast_path

        code = fast_path(argv[1:])
        if code is not None:
            return code
    import importlib

    from awslogin.parser import COMMANDS

    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.cmd:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = bool(getattr(args, "debug", False)) or os.environ.get("AWSLOGIN_DEBUG") == "1"
    from awslogin.log import enable_debug_logging, enable_warnings

    enable_warnings()
    if debug:
        enable_debug_logging()
    try:
        module = importlib.import_module(COMMANDS[args.cmd])
        return int(module.run(args) or 0)
    except AwsloginError as exc:
        if debug:
            _print_traceback()
        _say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _say("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): nothing to report.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return EXIT_FAILURE
    except Exception as exc:  # a bug: say so plainly, trace only under --debug
        if debug:
            _print_traceback()
        _say(
            f"awslogin failed unexpectedly ({type(exc).__name__}). "
            "Run the command again with --debug for details, and please report it."
        )
        return EXIT_FAILURE


def _print_traceback() -> None:
    """Under --debug, the traceback being handled, redacted: an exception chain can quote a
    secret (configparser quotes the broken line of a config file, for one)."""
    import traceback

    from awslogin.log import redact

    try:
        sys.stderr.write(redact(traceback.format_exc()))
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass


def _say(message: str) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
