"""store/lock.py: one holder per session across threads and processes; dead holders free it."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading

import pytest

from awslogin.errors import AwsloginError
from awslogin.store import cache
from awslogin.store.lock import session_lock

SESSION = "arn:aws:sts::123456789012:assumed-role/Admin/alice"

HOLDER = """
import sys
from awslogin.store.lock import session_lock
with session_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def start_holder(aws_home) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, SESSION], env=aws_home.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_threads_are_serialised(aws_home) -> None:
    inside = 0
    peak = 0
    guard = threading.Lock()
    barrier = threading.Barrier(8)

    def work() -> None:
        nonlocal inside, peak
        barrier.wait()
        with session_lock(SESSION):
            with guard:
                inside += 1
                peak = max(peak, inside)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak == 1


def test_lock_file_is_private(aws_home) -> None:
    with session_lock(SESSION):
        path = aws_home.cache_dir / f"{cache.cache_key(SESSION)}.lock"
        assert path.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700


def test_other_process_holding_lock_times_out(aws_home) -> None:
    proc = start_holder(aws_home)
    try:
        with pytest.raises(AwsloginError) as err, session_lock(SESSION, timeout=0.2):
            pass
        assert "Another awslogin process" in str(err.value)
        # a different session is not blocked
        with session_lock("arn:aws:iam::123456789012:user/other", timeout=5):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_killed_process_is_released(aws_home) -> None:
    proc = start_holder(aws_home)
    proc.kill()  # SIGKILL: no cleanup in the holder, the kernel drops the flock
    proc.wait()
    acquired = threading.Event()

    def take() -> None:
        with session_lock(SESSION, timeout=30):
            acquired.set()

    worker = threading.Thread(target=take)
    worker.start()
    assert acquired.wait(30)
    worker.join(30)


def test_released_after_exception(aws_home) -> None:
    with pytest.raises(RuntimeError), session_lock(SESSION):
        raise RuntimeError("boom")
    with session_lock(SESSION, timeout=1):
        pass


def test_unwritable_cache_dir_is_a_plain_error(aws_home, tmp_path, monkeypatch) -> None:
    import os

    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(blocker / "cache"))
    else:
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(locked / "cache"))
    from awslogin.errors import CacheError

    with pytest.raises(CacheError) as err, session_lock(SESSION, timeout=1):
        pass
    assert "lock file" in str(err.value)
