"""Single flight for refreshes: one lock per session, across threads and across processes.

A `threading.Lock` per session serialises threads of this process (filelock's own locks are
re-entrant per thread object, not exclusive between threads in every version), and a
`filelock.FileLock` on `<cache_dir>/<hash>.lock` serialises processes. The kernel drops the
flock when its holder dies, so a killed process never leaves the session locked.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

from awslogin.errors import AwsloginError, CacheError
from awslogin.store.atomic import ensure_private_dir
from awslogin.store.cache import cache_dir, cache_key

_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def _thread_lock(key: str) -> threading.Lock:
    with _registry_guard:
        return _thread_locks.setdefault(key, threading.Lock())


def _busy() -> AwsloginError:
    return AwsloginError(
        "Another awslogin process holds the lock on this session (it is probably refreshing"
        " it). Try again in a moment."
    )


@contextlib.contextmanager
def session_lock(login_session: str, timeout: float = 60) -> Iterator[None]:
    """Hold the per-session thread lock and the inter-process file lock for *login_session*.

    Raises `AwsloginError` when either cannot be taken within *timeout* seconds.
    """
    import filelock  # not on the credential-process cache-hit path

    key = cache_key(login_session)
    deadline = time.monotonic() + timeout
    local = _thread_lock(key)
    if not local.acquire(timeout=max(timeout, 0)):
        raise _busy()
    try:
        directory = cache_dir()
        path = directory / f"{key}.lock"
        file_lock = filelock.FileLock(str(path), mode=0o600, thread_local=False)
        try:
            ensure_private_dir(directory)
            file_lock.acquire(timeout=max(deadline - time.monotonic(), 0))
        except filelock.Timeout:
            raise _busy()
        except OSError as exc:
            raise CacheError(f"Cannot create the lock file {path}: {exc.strerror}.")
        try:
            _tighten(path)
            yield
        finally:
            file_lock.release()
    finally:
        local.release()


def _tighten(path: os.PathLike[str]) -> None:
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
