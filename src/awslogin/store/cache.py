"""The login token cache, shared with botocore and the AWS CLI (PROTOCOL.md §3).

One JSON file per session: `sha256(login_session).hexdigest() + ".json"` in
`AWS_LOGIN_CACHE_DIRECTORY` (default `~/.aws/login/cache`), 0600 in a 0700 directory, written
atomically. awslogin may add fields other readers ignore: `signinEndpoint` (the base URL that
issued the session; refreshes go there) and `clockOffset` (service clock minus local clock,
seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from awslogin.errors import CacheError
from awslogin.store.atomic import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    ensure_private_dir,
    write_private,
)

REQUIRED_FIELDS = ("accessToken", "refreshToken", "clientId", "dpopKey")
SIGNIN_ENDPOINT_FIELD = "signinEndpoint"
CLOCK_OFFSET_FIELD = "clockOffset"
# The login's region, as the AWS CLI and botocore >= 1.44 write and read it: they refresh in
# this region whatever the profile says.
SIGNIN_REGION_FIELD = "signInRegion"


def cache_dir() -> Path:
    """Return the cache directory (`AWS_LOGIN_CACHE_DIRECTORY`, else `~/.aws/login/cache`)."""
    raw = os.environ.get("AWS_LOGIN_CACHE_DIRECTORY")
    if raw:
        return Path(os.path.expanduser(os.path.expandvars(raw)))
    return Path(os.path.expanduser(os.path.join("~", ".aws", "login", "cache")))


def cache_key(login_session: str) -> str:
    """Return the cache key of a session: the sha256 hex digest of its ARN (as botocore)."""
    return hashlib.sha256(login_session.encode("utf-8")).hexdigest()


def cache_path(login_session: str) -> Path:
    """Return the cache file of *login_session*."""
    return cache_dir() / f"{cache_key(login_session)}.json"


def _relogin(path: Path, problem: str) -> CacheError:
    return CacheError(
        f"The login cache file {path} {problem}. Run awslogin login to sign in again."
    )


def load_token(login_session: str) -> dict[str, Any] | None:
    """Return the cached token of *login_session*, or None when there is no cache file.

    A malformed or incomplete file raises `CacheError` naming it; the file is left untouched.
    """
    path = cache_path(login_session)
    try:
        with open(path, "rb") as f:
            _tighten_fd(f.fileno())
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheError(f"Cannot read the login cache file {path}: {exc.strerror}.")
    tighten_dir(path.parent)
    try:
        token = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise _relogin(path, "is not valid JSON")
    if not isinstance(token, dict):
        raise _relogin(path, "does not hold a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in token]
    if missing:
        raise _relogin(path, f"is incomplete (missing {', '.join(missing)})")
    return token


def save_token(login_session: str, token: dict[str, Any]) -> None:
    """Write *token* for *login_session*: atomic, 0600 file in a 0700 directory."""
    directory = cache_dir()
    try:
        ensure_private_dir(directory)
        # botocore's JSONFileCache writes compact json.dumps output; do the same
        write_private(cache_path(login_session), json.dumps(token).encode("utf-8"))
    except OSError as exc:
        raise CacheError(f"Cannot write the login cache in {directory}: {exc.strerror}.")


def _tighten_fd(fd: int) -> None:
    """Make an open cache file 0600 when it is looser and ours (SECURITY.md B6)."""
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE_MODE)
    except OSError:
        pass  # reading matters more than tidying; the next write fixes the mode anyway


def tighten(path: Path) -> None:
    """Make an existing cache file 0600 when its mode is looser and we own it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        _tighten_fd(fd)
    finally:
        os.close(fd)


def tighten_dir(directory: Path) -> None:
    """Make the cache directory 0700 when its mode is looser and we own it (not a symlink)."""
    try:
        info = os.lstat(directory)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(directory, PRIVATE_DIR_MODE)
    except OSError:
        pass


def delete_token(login_session: str) -> bool:
    """Delete the cache file of *login_session*; return whether there was one."""
    path = cache_path(login_session)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CacheError(f"Cannot delete the login cache file {path}: {exc.strerror}.")
    return True


def _is_login_token(path: Path) -> bool:
    try:
        token = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    access = token.get("accessToken") if isinstance(token, dict) else None
    return isinstance(access, dict) and "accessKeyId" in access


def delete_all_tokens() -> list[Path]:
    """Delete every cache file holding an `accessToken` object with `accessKeyId`.

    Returns the deleted paths; other files in the directory are left alone.
    """
    directory = cache_dir()
    deleted: list[Path] = []
    try:
        candidates = sorted(directory.glob("*.json"))
    except OSError:
        return deleted
    for path in candidates:
        if path.is_file() and not path.is_symlink() and _is_login_token(path):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise CacheError(f"Cannot delete the login cache file {path}: {exc.strerror}.")
            deleted.append(path)
    return deleted
