"""A loopback container-credentials endpoint, the way ECS and EKS Pod Identity serve them.

Every AWS SDK and the AWS CLI know this protocol: given
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (a loopback http URL) and
``AWS_CONTAINER_AUTHORIZATION_TOKEN``, they GET the URL with the token in ``Authorization`` and
refresh from it on their own before the credentials expire. `exec` runs one for the lifetime of
its command; the credentials come from a callable, so in-memory sessions (`exec --ephemeral`)
can be served the same way as cached ones.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from awslogin.errors import AwsloginError

if TYPE_CHECKING:  # pragma: no cover
    from awslogin.credentials import Credentials

log = logging.getLogger("awslogin.serve")

CREDENTIALS_PATH = "/awslogin/credentials"


def credentials_document(creds: Credentials) -> dict[str, str]:
    """The JSON object the SDKs' container provider reads."""
    doc = {
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
        "Token": creds.session_token,
        "Expiration": creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if creds.account_id:
        doc["AccountId"] = creds.account_id
    return doc


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that connects and sends nothing does not hold a thread forever

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        srv = self.server
        if self.headers.get("Host", "") != srv.host_header:
            # Anything but our own loopback address: DNS rebinding or a stray client.
            self._reply(400, {"Code": "BadRequest", "Message": "unexpected Host header"})
            return
        if self.path.split("?", 1)[0] != CREDENTIALS_PATH:
            self._reply(404, {"Code": "NotFound", "Message": "no such path"})
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), srv.token.encode()):
            self._reply(401, {"Code": "Unauthorized", "Message": "wrong or missing token"})
            return
        try:
            creds = srv.source()
        except AwsloginError as exc:
            srv.report(str(exc))
            self._reply(503, {"Code": "CredentialsUnavailable", "Message": str(exc)})
            return
        except Exception as exc:  # a bug must not kill the server thread silently
            log.debug("credentials source failed", exc_info=True)
            srv.report(f"awslogin could not get credentials ({type(exc).__name__}).")
            self._reply(500, {"Code": "InternalError", "Message": type(exc).__name__})
            return
        self._reply(200, credentials_document(creds))

    def do_POST(self) -> None:  # noqa: N802
        self._reply(405, {"Code": "MethodNotAllowed", "Message": "use GET"})

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815

    def _reply(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # http.server logs every request to stderr; the child's output must stay the child's.
        log.debug("container credentials request: %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, source: Callable[[], Credentials], token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.source = source
        self.token = token
        self.host_header = f"127.0.0.1:{self.server_address[1]}"
        self._reported: set[str] = set()
        self._report_lock = threading.Lock()

    def report(self, message: str) -> None:
        """Tell the user once per distinct problem (the child only sees an HTTP error)."""
        with self._report_lock:
            if message in self._reported:
                return
            self._reported.add(message)
        logging.getLogger("awslogin").warning("awslogin: %s", message)


class CredentialsServer:
    """Serve ``source()`` on ``http://127.0.0.1:PORT/awslogin/credentials`` until closed.

    A random token (or the one given) guards it; `environment()` gives the variables a child
    process needs. Use as a context manager, or call `start()` and `close()`.
    """

    def __init__(self, source: Callable[[], Credentials], *, token: str | None = None) -> None:
        self._server = _Server(source, token or secrets.token_urlsafe(32))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The full URI for ``AWS_CONTAINER_CREDENTIALS_FULL_URI``."""
        return f"http://{self._server.host_header}{CREDENTIALS_PATH}"

    @property
    def token(self) -> str:
        """The value for ``AWS_CONTAINER_AUTHORIZATION_TOKEN``."""
        return self._server.token

    def environment(self) -> dict[str, str]:
        """The two variables that point an SDK at this endpoint."""
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.token,
        }

    def start(self) -> CredentialsServer:
        """Start answering in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="awslogin-credentials-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> CredentialsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
