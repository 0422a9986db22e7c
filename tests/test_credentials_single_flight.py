"""Single flight (SECURITY.md B8): many processes and threads, one token call; killed holders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

from awslogin.credentials import load_credentials
from awslogin.store import cache
from conftest import AWSLOGIN
from sessions import emulator_faults, emulator_login, emulator_stats


def _expire(arn: str) -> None:
    token = cache.load_token(arn)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    cache.save_token(arn, token)


def test_sixteen_processes_make_one_token_call_and_print_the_same(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    before = emulator_stats(emulator.url)["token_requests"]
    # A slow endpoint keeps the first refresh in flight while the others pile up on the lock.
    emulator_faults(emulator.url, latency_ms=1500)
    procs = [
        subprocess.Popen([*AWSLOGIN, "credential-process"], env=aws_home.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(16)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, [err for _, err in outputs]
    stats = emulator_stats(emulator.url)
    assert stats["token_requests"] - before == 1
    assert stats["refresh_grants"] == 1
    assert len({out for out, _ in outputs}) == 1
    assert cache.load_token(arn)["accessToken"]["accessKeyId"] in outputs[0][0]


def test_sixteen_threads_make_one_token_call(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    emulator_faults(emulator.url, latency_ms=500)
    keys: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            keys.append(load_credentials(None).access_key_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(keys) == 16 and len(set(keys)) == 1
    assert emulator_stats(emulator.url)["refresh_grants"] == 1


HOLDER = textwrap.dedent("""
    import signal, sys
    from awslogin.store.lock import session_lock
    with session_lock(sys.argv[1]):
        print("locked", flush=True)
        signal.pause()
""")


def test_a_killed_lock_holder_does_not_block_the_session(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, arn], env=aws_home.env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        waiter = subprocess.Popen([*AWSLOGIN, "credential-process"], env=aws_home.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiter.poll() is None  # it cannot refresh while the lock is held
        os.kill(holder.pid, signal.SIGKILL)
        out, err = waiter.communicate(timeout=30)  # well inside the 60 s lock timeout
    finally:
        holder.kill()
        holder.wait()
    assert waiter.returncode == 0, err
    assert emulator_stats(emulator.url)["refresh_grants"] == 1
    assert cache.load_token(arn)["accessToken"]["accessKeyId"] in out


def test_a_refresher_killed_mid_call_leaves_a_usable_session(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    before = cache.cache_path(arn).read_bytes()
    emulator_faults(emulator.url, latency_ms=3000)
    victim = subprocess.Popen([*AWSLOGIN, "credential-process"], env=aws_home.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import time

    deadline = time.monotonic() + 30
    while emulator_stats(emulator.url)["token_requests"] < 2:  # login + the victim's refresh
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.05)
    victim.kill()
    victim.wait()
    assert cache.cache_path(arn).read_bytes() == before  # never half-written
    emulator_faults(emulator.url, latency_ms=0)
    done = subprocess.run([*AWSLOGIN, "credential-process"], env=aws_home.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert cache.load_token(arn)["accessToken"]["accessKeyId"] in done.stdout
