"""The loopback callback receiver of the same-device flow (SECURITY.md B1-B4).

`handle_callback` decides, from one request alone, what to answer and whether the login is
over; `CallbackReceiver` only moves bytes: it binds 127.0.0.1 (never every interface) when it
is created, serves each connection on its own thread with a read timeout that also bounds the
whole request (at most `MAX_CONNECTIONS` at once; more are closed unanswered), and closes its
socket as soon as the login ends, however it ends. Unlike the AWS CLI's receiver, a request
with a wrong `state` (a forged or stale callback) is answered and ignored: the login waits on.
"""

from __future__ import annotations

import errno
import hmac
import html
import logging
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from awslogin.errors import LoginDeniedError, LoginTimeoutError, UsageError
from awslogin.login.pending import CALLBACK_PATH

log = logging.getLogger(__name__)

MAX_CODE_LENGTH = 4096
READ_TIMEOUT = 10.0
MAX_CONNECTIONS = 16  # connections served at once; more are closed unanswered (B3)


@dataclass(frozen=True)
class CallbackOutcome:
    """How the browser ended the login: with a code, or with an OAuth error."""

    code: str | None = None
    error: str | None = None
    error_description: str | None = None


def _page(title: str, text: str) -> str:
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )


_NOT_FOUND = _page("Not found", "This address only receives AWS sign-in callbacks.")
_BAD_REQUEST = _page("Bad request", "This request was not understood.")
_NOT_OURS = _page(
    "Not for this login",
    "This sign-in response belongs to a different login attempt, so it was ignored. "
    "The login in your terminal is still waiting.",
)
_SUCCESS = _page(
    "Signed in",
    "awslogin received your sign-in. You can close this window and return to the terminal.",
)
_DENIED = _page(
    "Sign-in not completed",
    "The sign-in was not completed. You can close this window; see the terminal for details.",
)


def handle_callback(
    method: str,
    path: str,
    host: str | None,
    query: str,
    expected_state: str | None,
    port: int,
) -> tuple[int, str, CallbackOutcome | None]:
    """Answer one request to the receiver: ``(status, html page, outcome or None)``.

    Only ``GET /oauth/callback`` with ``Host: 127.0.0.1:{port}`` is looked at (anything else:
    404 or 400, outcome None). A callback whose single `state` differs from *expected_state*
    is ignored (400, None). With the right state, an `error` ends the login, and so does a
    single non-empty `code`.
    """
    if method != "GET":
        return 400, _BAD_REQUEST, None
    if host is None or host.strip() != f"127.0.0.1:{port}":
        # DNS rebinding: a page on another origin reaching us by a name that resolves here.
        return 400, _BAD_REQUEST, None
    if path != CALLBACK_PATH:
        return 404, _NOT_FOUND, None
    try:
        params = parse_qs(query, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return 400, _BAD_REQUEST, None
    states = params.get("state", [])
    if (
        expected_state is None
        or len(states) != 1
        or not hmac.compare_digest(states[0].encode(), expected_state.encode())
    ):
        return 400, _NOT_OURS, None
    errors = params.get("error", [])
    if errors:
        descriptions = params.get("error_description", [])
        return 200, _DENIED, CallbackOutcome(
            error=_printable(errors[0], 100) or "unknown_error",
            error_description=_printable(descriptions[0], 300) if descriptions else None,
        )
    codes = params.get("code", [])
    if len(codes) != 1 or not codes[0] or len(codes[0]) > MAX_CODE_LENGTH:
        return 400, _BAD_REQUEST, None
    return 200, _SUCCESS, CallbackOutcome(code=codes[0])


def _printable(text: str, limit: int) -> str:
    """Keep a browser-supplied string safe to show in a terminal."""
    return "".join(ch for ch in text if ch.isprintable())[:limit]


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded TCP server on 127.0.0.1 that never joins idle handler threads on close."""

    daemon_threads = True
    block_on_close = False
    # SO_REUSEADDR on Linux still refuses a port another socket listens on; it only lets a
    # fixed --redirect-port be reused while the last run's connections sit in TIME_WAIT.
    allow_reuse_address = True
    request_queue_size = 16

    def __init__(self, port: int, receiver: CallbackReceiver) -> None:
        self.receiver = receiver
        self._slots = threading.BoundedSemaphore(receiver.max_connections)
        super().__init__(("127.0.0.1", port), _Handler, bind_and_activate=True)

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        # One thread per connection, but never more than max_connections: someone trickling
        # bytes into many connections cannot use up this process's threads.
        if not self._slots.acquire(blocking=False):
            log.debug("callback receiver: too many connections, one closed unanswered")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:  # noqa: ANN001
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def service_actions(self) -> None:
        self.receiver._drop_overdue()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up early is no one's problem; never print a traceback.
        log.debug("callback receiver: connection failed (%s)", type(sys.exc_info()[1]).__name__)


class _Handler(BaseHTTPRequestHandler):
    """Turns one HTTP request into a `handle_callback` call; logs nothing from the query."""

    server: _Server
    timeout = READ_TIMEOUT  # per-connection socket timeout (B3)
    protocol_version = "HTTP/1.0"
    server_version = "awslogin"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.receiver.read_timeout
        super().setup()
        self.server.receiver._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.receiver._untrack(self.connection)

    def _answer(self) -> None:
        receiver = self.server.receiver
        split = urlsplit(self.path)
        status, page, outcome = handle_callback(
            self.command,
            split.path,
            self.headers.get("Host"),
            split.query,
            receiver.expected_state,
            receiver.port,
        )
        body = page.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        finally:
            # The outcome counts even when the browser hung up before reading the page; it is
            # recorded after the page is written so that closing the receiver cannot cut it.
            if outcome is not None:
                receiver._finish(outcome)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _answer

    # The request line holds the code, and error messages quote it: log neither.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("callback receiver: %s -> %s", self.command, code)

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("callback receiver: malformed request (%s)", args[0] if args else "")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("callback receiver: event")


class CallbackReceiver:
    """Receives the browser's redirect on ``http://127.0.0.1:{port}/oauth/callback``.

    The socket is bound (and listening) when the object is created, so the port is known and
    owned before any browser opens. Call `start` with the login's state, open the browser,
    then `wait`; `close` (or leaving the ``with`` block) releases the port.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.expected_state: str | None = None
        self._done = threading.Event()
        self._outcome: CallbackOutcome | None = None
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, float] = {}  # connection -> accepted at
        self._thread: threading.Thread | None = None
        self._closed = False
        try:
            self._server = _Server(port, self)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise UsageError(
                    f"Port {port} on 127.0.0.1 cannot be used for the sign-in callback "
                    f"({exc.strerror or 'in use'}). Choose another --redirect-port, or leave "
                    "it out to use any free port."
                )
            raise
        self.port: int = self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        """The redirect URI the authorize request must carry."""
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def start(self, expected_state: str) -> None:
        """Begin answering requests; only callbacks carrying *expected_state* count."""
        self.expected_state = expected_state
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="awslogin-callback",
                daemon=True,
            )
            self._thread.start()

    def wait(self, deadline: float, *, clock=time.monotonic) -> str:
        """Block until the callback arrives and return its code.

        *deadline* is a *clock* (monotonic) time. Raises `LoginTimeoutError` when it passes,
        `LoginDeniedError` when the browser reports an error with the right state.
        """
        if self._thread is None:
            raise RuntimeError("CallbackReceiver.start() was not called")
        while not self._done.is_set():
            remaining = deadline - clock()
            if remaining <= 0:
                raise LoginTimeoutError(
                    "The login was not completed in time, so nothing was changed."
                )
            self._done.wait(min(remaining, 0.5))
        outcome = self._outcome
        assert outcome is not None
        if outcome.error is not None:
            raise LoginDeniedError(_denied_message(outcome))
        assert outcome.code is not None
        return outcome.code

    def close(self) -> None:
        """Stop serving and close the listening socket and every open connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = list(self._connections)
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> CallbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # called from handler threads
    def _finish(self, outcome: CallbackOutcome) -> None:
        with self._lock:
            if self._outcome is None:
                self._outcome = outcome
        self._done.set()

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = time.monotonic()

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    # called from the serving thread, between polls
    def _drop_overdue(self) -> None:
        """Cut connections that have not finished their request within the read timeout.

        The socket timeout bounds each read, so someone sending a byte every few seconds would
        otherwise keep a connection (and its slot) for as long as they like.
        """
        limit = time.monotonic() - self.read_timeout
        with self._lock:
            overdue = [conn for conn, since in self._connections.items() if since < limit]
        for conn in overdue:
            log.debug("callback receiver: a connection took too long, closed")
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _denied_message(outcome: CallbackOutcome) -> str:
    if outcome.error == "access_denied":
        return "The sign-in was cancelled in the browser, so nothing was changed."
    detail = f" ({outcome.error_description})" if outcome.error_description else ""
    return (
        f"The browser reported the error '{outcome.error}'{detail}, so the login was not "
        "completed and nothing was changed. Run awslogin login again."
    )
