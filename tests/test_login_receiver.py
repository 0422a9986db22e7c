"""The loopback callback receiver (SECURITY.md B1-B3): the pure handler and a real socket."""

from __future__ import annotations

import http.client
import logging
import socket
import struct
import threading
import time

import pytest

from awslogin.errors import LoginDeniedError, LoginTimeoutError, UsageError
from awslogin.login.receiver import CallbackOutcome, CallbackReceiver, handle_callback

STATE = "5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
PORT = 52084
HOST = f"127.0.0.1:{PORT}"


def call(method="GET", path="/oauth/callback", host=HOST, query=f"code=abc&state={STATE}",
         expected=STATE):
    return handle_callback(method, path, host, query, expected, PORT)


# ---- handle_callback: every B2 case, no socket --------------------------------------------


def test_right_state_and_code_ends_the_login_with_the_code() -> None:
    status, page, outcome = call()
    assert status == 200
    assert outcome == CallbackOutcome(code="abc")
    assert "abc" not in page  # the code is never shown back


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_only_get_is_answered(method: str) -> None:
    status, _, outcome = call(method=method)
    assert status == 400 and outcome is None


@pytest.mark.parametrize(
    "host",
    [None, "", "localhost:52084", "127.0.0.1", "127.0.0.1:1", "evil.example:52084",
     "127.0.0.1:52084.evil.example", "[::1]:52084"],
)
def test_wrong_host_is_refused(host) -> None:
    status, _, outcome = call(host=host)
    assert status == 400 and outcome is None


@pytest.mark.parametrize("path", ["/", "/favicon.ico", "/oauth/callback/", "/OAUTH/CALLBACK",
                                  "/oauth/callbackx", "/oauth"])
def test_other_paths_are_not_found(path: str) -> None:
    status, _, outcome = call(path=path)
    assert status == 404 and outcome is None


@pytest.mark.parametrize(
    "query",
    [
        "code=abc&state=wrong",
        "code=abc",
        f"code=abc&state={STATE}&state={STATE}",
        f"code=abc&state={STATE}x",
        "error=access_denied&state=wrong",  # an attacker cannot abort the login
        "error=access_denied",
        "",
    ],
)
def test_wrong_or_missing_state_is_ignored(query: str) -> None:
    status, page, outcome = call(query=query)
    assert status == 400
    assert outcome is None
    assert "still waiting" in page


def test_nothing_counts_before_the_state_is_known() -> None:
    assert call(expected=None)[2] is None


def test_error_with_right_state_ends_the_login() -> None:
    status, _, outcome = call(query=f"error=access_denied&error_description=no%0a&state={STATE}")
    assert status == 200
    assert outcome == CallbackOutcome(error="access_denied", error_description="no")


@pytest.mark.parametrize(
    "query", [f"state={STATE}", f"code=&state={STATE}", f"code=a&code=b&state={STATE}",
              f"code={'x' * 5000}&state={STATE}"],
)
def test_right_state_but_no_single_code_is_refused(query: str) -> None:
    status, _, outcome = call(query=query)
    assert status == 400 and outcome is None


# ---- CallbackReceiver over a real socket -------------------------------------------------


def get(port: int, target: str, host: str | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{port}")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def port_is_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_binds_loopback_only_before_start() -> None:
    with CallbackReceiver() as r:
        sock = r._server.socket
        assert sock.getsockname()[0] == "127.0.0.1"
        assert r.redirect_uri == f"http://127.0.0.1:{r.port}/oauth/callback"
        # the port is owned (listening) before any browser is opened
        with socket.create_connection(("127.0.0.1", r.port), timeout=5):
            pass


def test_forged_callback_does_not_end_the_login_then_the_real_one_does() -> None:
    r = CallbackReceiver()
    port = r.port
    r.start(STATE)
    result: dict[str, object] = {}

    def waiter() -> None:
        try:
            result["code"] = r.wait(time.monotonic() + 30)
        except Exception as exc:  # pragma: no cover - reported below
            result["error"] = exc

    t = threading.Thread(target=waiter)
    t.start()
    try:
        status, _ = get(port, "/oauth/callback?code=forged&state=not-the-state")
        assert status == 400
        status, _ = get(port, "/oauth/callback?error=access_denied&state=attacker")
        assert status == 400
        status, _ = get(port, "/oauth/callback?code=abc&state=" + STATE, host="evil:80")
        assert status == 400
        assert get(port, "/")[0] == 404
        assert t.is_alive() and not result  # still waiting
        status, page = get(port, f"/oauth/callback?code=real&state={STATE}")
        assert status == 200 and "close this window" in page
        t.join(30)
        assert result == {"code": "real"}
    finally:
        r.close()
    assert port_is_closed(port)


def test_error_callback_with_right_state_ends_with_denied() -> None:
    with CallbackReceiver() as r:
        r.start(STATE)
        get(r.port, f"/oauth/callback?error=access_denied&state={STATE}")
        with pytest.raises(LoginDeniedError, match="cancelled"):
            r.wait(time.monotonic() + 30)
        port = r.port
    assert port_is_closed(port)


def test_idle_connection_does_not_block_the_deadline_or_other_requests() -> None:
    r = CallbackReceiver(read_timeout=60)
    port = r.port
    r.start(STATE)
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    idle.sendall(b"GET /oauth/cal")  # never finishes its request line
    try:
        # another connection is served while the idle one sits there (concurrency)
        assert get(port, "/nothing")[0] == 404
        with pytest.raises(LoginTimeoutError):
            r.wait(time.monotonic() + 0.3)
    finally:
        r.close()
        idle.close()
    assert port_is_closed(port)


def test_idle_connection_is_dropped_after_the_read_timeout() -> None:
    with CallbackReceiver(read_timeout=0.2) as r:
        r.start(STATE)
        idle = socket.create_connection(("127.0.0.1", r.port), timeout=10)
        with idle:
            idle.sendall(b"GET /")
            # the server gives up on the connection and closes it: recv sees EOF
            assert idle.recv(1024) == b""


def test_close_drops_open_connections() -> None:
    r = CallbackReceiver(read_timeout=60)
    r.start(STATE)
    idle = socket.create_connection(("127.0.0.1", r.port), timeout=10)
    with idle:
        # wait until the server has accepted it (condition, not a sleep)
        deadline = time.monotonic() + 10
        while not r._connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert r._connections
        r.close()
        assert idle.recv(1024) == b""


def test_wait_times_out_without_a_callback() -> None:
    clock = iter([0.0, 5.0, 10.0, 11.0])
    with CallbackReceiver() as r:
        r.start(STATE)
        with pytest.raises(LoginTimeoutError, match="nothing was changed"):
            r.wait(10.0, clock=lambda: next(clock))


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=f"Port {port}.*--redirect-port"):
            CallbackReceiver(port)


def test_fixed_port_is_used_and_released() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with CallbackReceiver(port) as r:
        assert r.port == port
    # released: it can be bound again at once
    with CallbackReceiver(port) as r2:
        assert r2.port == port


def test_debug_log_never_shows_the_code(caplog, monkeypatch) -> None:
    caplog.set_level(logging.DEBUG, logger="awslogin")
    # attach directly: the CLI's logging setup may have stopped propagation in this process
    logger = logging.getLogger("awslogin.login.receiver")
    logger.addHandler(caplog.handler)
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    with CallbackReceiver() as r:
        r.start(STATE)
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as bad:
            # a malformed request line quoting a code: answered 400, logged without it
            bad.sendall(b"GET /oauth/callback?code=SECRETCODE1 HTTP/9 extra\r\n\r\n")
            assert b"400" in bad.recv(1024)
        get(r.port, f"/oauth/callback?code=SECRETCODE2&state={STATE}")
        assert r.wait(time.monotonic() + 30) == "SECRETCODE2"
    logger.removeHandler(caplog.handler)
    assert "callback receiver" in caplog.text
    assert "SECRETCODE" not in caplog.text


def test_a_failing_connection_prints_no_traceback(capfd) -> None:
    with CallbackReceiver() as r:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            r._server.handle_error(None, ("127.0.0.1", 1))
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("query", "ends"),
    [(f"code=real&state={STATE}", "code"), (f"error=access_denied&state={STATE}", "denied")],
)
def test_outcome_counts_even_when_the_browser_resets_before_the_answer(
    monkeypatch, query: str, ends: str
) -> None:
    """A browser that resets the connection before reading the page still ends the login."""
    from awslogin.login import receiver as receiver_module

    decided = threading.Event()
    reset = threading.Event()
    real = receiver_module.handle_callback

    def held(*args):
        answer = real(*args)
        decided.set()
        reset.wait(10)  # answer only once the browser has reset the connection
        return answer

    monkeypatch.setattr(receiver_module, "handle_callback", held)
    with CallbackReceiver() as r:
        r.start(STATE)
        conn = socket.create_connection(("127.0.0.1", r.port), timeout=10)
        conn.sendall(
            f"GET /oauth/callback?{query} HTTP/1.1\r\nHost: 127.0.0.1:{r.port}\r\n\r\n".encode()
        )
        assert decided.wait(10)
        # SO_LINGER 0: close() sends a reset, so the server's write of the page fails
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        reset.set()
        if ends == "code":
            assert r.wait(time.monotonic() + 20) == "real"
        else:
            with pytest.raises(LoginDeniedError, match="cancelled"):
                r.wait(time.monotonic() + 20)


def wait_until(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_connections_beyond_the_cap_are_closed_unanswered_and_the_login_goes_on() -> None:
    r = CallbackReceiver(read_timeout=60, max_connections=4)
    port = r.port
    r.start(STATE)
    idle = []
    try:
        for _ in range(4):  # someone trickling bytes: each holds a connection
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"GET /oauth/cal")
            idle.append(conn)
        assert wait_until(lambda: len(r._connections) == 4)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            extra.sendall(f"GET /nothing HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            try:
                answer = extra.recv(1024)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed without being served: no thread was started
        assert len(r._connections) == 4
        with pytest.raises(LoginTimeoutError):  # the overall deadline still holds
            r.wait(time.monotonic() + 0.3)
        idle.pop().close()  # a slot frees up: the real callback gets through

        def callback_answered() -> bool:
            try:
                return get(port, f"/oauth/callback?code=real&state={STATE}")[0] == 200
            except (OSError, http.client.HTTPException):
                return False

        assert wait_until(callback_answered)
        assert r.wait(time.monotonic() + 10) == "real"
    finally:
        r.close()
        for conn in idle:
            conn.close()
    assert port_is_closed(port)


def test_the_default_cap_is_sixteen() -> None:
    with CallbackReceiver() as r:
        assert r.max_connections == 16


def test_a_connection_trickling_bytes_is_cut_after_the_read_timeout() -> None:
    """Each read is short, but the whole request must arrive within the read timeout too."""
    r = CallbackReceiver(read_timeout=0.5, max_connections=1)
    port = r.port
    r.start(STATE)
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        assert wait_until(lambda: len(r._connections) == 1)
        cut = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # one byte every 0.1 s: no single read times out
            try:
                slow.sendall(b"X")
            except OSError:
                cut = True
                break
            if not r._connections:
                cut = True
                break
            time.sleep(0.1)
        assert cut
        # its slot is free again: the real callback gets through

        def callback_answered() -> bool:
            try:
                return get(port, f"/oauth/callback?code=real&state={STATE}")[0] == 200
            except (OSError, http.client.HTTPException):
                return False

        assert wait_until(callback_answered)
        assert r.wait(time.monotonic() + 10) == "real"
    finally:
        slow.close()
        r.close()
