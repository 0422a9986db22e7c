"""`awslogin emulator` as a process: first line, signals, exit codes, request log, imports."""

from __future__ import annotations

import ast
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import AWSLOGIN, start_emulator, stop_emulator
from test_emulator_support import (
    CROSS_DEVICE,
    DpopKey,
    auto_authorize,
    exchange,
    get,
    refresh,
    sts_client,
)

EMULATOR_SRC = Path(__file__).parents[1] / "src" / "awslogin" / "emulator"


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def run_emulator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AWSLOGIN, "emulator", *args], capture_output=True, text=True,
                          timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_with_exit_zero_and_no_traceback(sig) -> None:
    emu = start_emulator("--auto-approve")
    assert get(f"{emu.url}/").status == 200
    emu.process.send_signal(sig)
    assert emu.process.wait(15) == 0
    emu.stderr_reader.join(15)  # everything the process wrote to stderr has been read
    assert not emu.stderr_reader.is_alive()
    log = "".join(emu.stderr_lines)
    assert "GET / 200" in log  # the capture works: the request line is there
    assert "Traceback" not in log


def test_port_zero_prints_the_real_port() -> None:
    emu = start_emulator()
    try:
        assert emu.url.startswith("http://127.0.0.1:") and emu.port > 0
        assert get(f"{emu.url}/").status == 200
    finally:
        stop_emulator(emu)


def test_busy_port_is_one_line_exit_2() -> None:
    emu = start_emulator()
    try:
        result = run_emulator("--port", str(emu.port))
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(emu.port) in lines[0] and "Traceback" not in lines[0]
    finally:
        stop_emulator(emu)


@pytest.mark.parametrize("option", ["--identity", "--credentials-changed",
                                    "--insufficient-permissions"])
@pytest.mark.parametrize("arn", ["arn:aws:iam::12345:user/bob", "not-an-arn",
                                 "arn:aws:sts::111122223333:federated-user/x"])
def test_bad_arn_is_one_line_exit_2(option, arn) -> None:
    result = run_emulator("--port", "0", option, arn)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and arn in lines[0] and "Traceback" not in lines[0]


def test_accepts_user_and_root_identities() -> None:
    emu = start_emulator("--auto-approve", "--identity", "arn:aws:iam::444455556666:root",
                         "--identity", "arn:aws:iam::444455556666:user/bob")
    try:
        out = exchange(emu.url, auto_authorize(emu.url), DpopKey())
        arn = sts_client(emu.url, out["accessToken"]).get_caller_identity()["Arn"]
        assert arn == "arn:aws:iam::444455556666:root"
    finally:
        stop_emulator(emu)


def test_one_log_line_per_request_without_secrets() -> None:
    emu = start_emulator("--auto-approve")
    try:
        key = DpopKey()
        grant = auto_authorize(emu.url, CROSS_DEVICE)
        page = get(f"{emu.url}/v1/sessions/confirmation?code={grant.code}&state={grant.state}")
        assert page.status == 200
        out = exchange(emu.url, grant, key)
        again = refresh(emu.url, out["refreshToken"], key, CROSS_DEVICE)
        sts_client(emu.url, again["accessToken"]).get_caller_identity()
        assert wait_for(lambda: len(emu.stderr_lines) >= 5)
    finally:
        stop_emulator(emu)
    log = "".join(emu.stderr_lines)
    lines = log.strip().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["GET", "/v1/authorize", "302"],
        ["GET", "/v1/sessions/confirmation", "200"],
        ["POST", "/v1/token", "200"],
        ["POST", "/v1/token", "200"],
        ["POST", "/", "200"],
    ]
    assert all(line.split()[3].endswith("ms") for line in lines)
    secrets = [grant.code, grant.verifier, out["refreshToken"], again["refreshToken"],
               out["idToken"], key.pem]
    for token in (out, again):
        secrets += [token["accessToken"]["secretAccessKey"], token["accessToken"]["sessionToken"]]
    for secret in secrets:
        assert secret not in log
    assert "?" not in log


def test_help_lists_fault_switches() -> None:
    result = subprocess.run([*AWSLOGIN, "emulator", "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    for option in ("--throttle-first", "--error-first", "--latency-ms", "--clock-offset",
                   "--credentials-changed", "--insufficient-permissions", "--dpop-nonce",
                   "--dpop-iat-window", "--refresh-rotation", "--auto-approve"):
        assert option in result.stdout


def test_parser_does_not_import_the_emulator_server() -> None:
    code = ("import sys; from awslogin.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('starlette', 'uvicorn', 'jinja2', 'cryptography') "
            "or m.startswith('awslogin.emulator.') and m != 'awslogin.emulator.options'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_emulator_imports_nothing_of_the_client() -> None:
    for path in EMULATOR_SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("awslogin"):
                    assert name.startswith("awslogin.emulator"), f"{path.name} imports {name}"
    code = ("import sys, awslogin.emulator.cli as c, awslogin.emulator.app; "
            "print(sorted(m for m in sys.modules if m.startswith('awslogin') "
            "and not m.startswith('awslogin.emulator') and m != 'awslogin'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_log_lines_cannot_be_forged() -> None:
    emu = start_emulator()
    try:
        assert get(f"{emu.url}/x%0AGET%20/v1/token%20200%201.0ms").status == 404
        assert wait_for(lambda: len(emu.stderr_lines) >= 1)
    finally:
        stop_emulator(emu)
    lines = "".join(emu.stderr_lines).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("GET /x\\n") and " 404 " in lines[0]
