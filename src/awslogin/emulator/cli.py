"""`awslogin emulator`: validate options, bind the port, serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import socket
import sys
from collections.abc import Iterator

from awslogin.emulator.identities import Identity, parse_identity
from awslogin.emulator.options import DEFAULT_IDENTITY

EXIT_OK = 0
EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"awslogin emulator: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (OSError when it cannot be had)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    return sock


def _identities(args: argparse.Namespace) -> list[Identity]:
    for arn in [*args.credentials_changed, *args.insufficient_permissions]:
        parse_identity(arn)
    return [parse_identity(arn) for arn in (args.identity or [DEFAULT_IDENTITY])]


def run(args: argparse.Namespace) -> int:
    """Run the emulator in the foreground; 0 after SIGINT/SIGTERM, 2 on a bad option."""
    stop_requested: list[int] = []
    handler_target: list = []

    def on_signal(signum: int, frame: object) -> None:
        if handler_target:
            handler_target[0].handle_exit(signum, frame)
        else:
            stop_requested.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _serve(args, stop_requested, handler_target)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _serve(args: argparse.Namespace, stop_requested: list[int], handler_target: list) -> int:
    try:
        identities = _identities(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        sock = _bind(args.host, args.port)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        if getattr(exc, "errno", None) == errno.EADDRINUSE:
            hint = "Choose another --port (0 picks a free one)."
        else:
            hint = "Check --host (default 127.0.0.1) and --port."
        return _fail(f"cannot listen on {args.host}:{args.port} ({reason}). {hint}")
    with contextlib.closing(sock):
        port = sock.getsockname()[1]
        host = f"[{args.host}]" if ":" in args.host else args.host
        base_url = f"http://{host}:{port}"
        server = _build_server(args, identities, base_url)
        handler_target.append(server)
        if stop_requested:
            server.should_exit = True
        print(f"AWS Sign-In emulator listening on {base_url}", flush=True)
        server.run(sockets=[sock])
    return EXIT_OK


def _build_server(args: argparse.Namespace, identities: list[Identity], base_url: str):
    """The uvicorn server around the emulator's app (heavy imports happen here)."""
    import uvicorn

    from awslogin.emulator.app import build_app
    from awslogin.emulator.state import Faults, Settings, Store

    past, future = args.dpop_iat_window
    settings = Settings(
        identities=identities,
        auto_approve=args.auto_approve,
        access_token_ttl=args.access_token_ttl,
        session_ttl=args.session_ttl,
        code_ttl=args.code_ttl,
        refresh_rotation=args.refresh_rotation,
        dpop_nonce=args.dpop_nonce,
        iat_past=past,
        iat_future=future,
        base_url=base_url,
    )
    faults = Faults(
        throttle_next=args.throttle_first,
        error_next=args.error_first,
        latency_ms=args.latency_ms,
        clock_offset=args.clock_offset,
        credentials_changed=set(args.credentials_changed),
        insufficient_permissions=set(args.insufficient_permissions),
    )
    config = uvicorn.Config(
        build_app(Store(settings, faults)),
        log_level="info" if getattr(args, "debug", False) else "warning",
        access_log=False,
        date_header=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
    )

    class _Server(uvicorn.Server):
        """uvicorn without its own signal handling: run() installed ours (exit 0, no re-raise)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return _Server(config)
