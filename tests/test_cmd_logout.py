"""`awslogin logout`: what it removes, what it keeps, and what it says (PROTOCOL.md §3)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

from conftest import AWSLOGIN

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
OTHER = "arn:aws:iam::111122223333:user/bob"


def cache_file(aws_home, arn: str):
    return aws_home.cache_dir / (hashlib.sha256(arn.encode()).hexdigest() + ".json")


def put_token(aws_home, arn: str) -> None:
    aws_home.cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_file(aws_home, arn)
    path.write_text(json.dumps({"accessToken": {"accessKeyId": "ASIAEXAMPLE"},
                                "refreshToken": "r", "clientId": "c", "dpopKey": "k"}))
    os.chmod(path, 0o600)


def logout(aws_home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AWSLOGIN, "logout", *args], env=aws_home.env, capture_output=True,
                          text=True, timeout=60)


def test_logout_removes_the_profiles_cache_file_and_keeps_the_config(aws_home) -> None:
    config = f"# mine\n[default]\nlogin_session = {ARN}\nregion = eu-west-1\n"
    aws_home.config.write_text(config)
    put_token(aws_home, ARN)
    put_token(aws_home, OTHER)
    lock = cache_file(aws_home, ARN).with_suffix(".lock")
    lock.write_text("")  # left by an earlier refresh (store.lock)
    other_lock = cache_file(aws_home, OTHER).with_suffix(".lock")
    other_lock.write_text("")
    result = logout(aws_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (  # the AWS CLI's sentence
        "Removed cached login credentials for profile 'default'. Note, any local developer "
        "tools that have already loaded the access token may continue to use it until its "
        "expiration. Access tokens expire in 15 minutes.\n"
    )
    assert result.stderr == ""
    assert not cache_file(aws_home, ARN).exists()
    assert not lock.exists()  # the session's lock file goes with it
    assert other_lock.exists()
    assert cache_file(aws_home, OTHER).exists()  # another session is not touched
    assert aws_home.config.read_text() == config  # login_session stays, as with the AWS CLI


def test_logout_of_a_named_profile(aws_home) -> None:
    aws_home.config.write_text(
        f"[default]\nlogin_session = {ARN}\n[profile b]\nlogin_session = {OTHER}\n"
    )
    put_token(aws_home, ARN)
    put_token(aws_home, OTHER)
    aws_home.env["AWS_PROFILE"] = "b"
    result = logout(aws_home)
    assert result.returncode == 0
    assert "profile 'b'" in result.stdout
    assert cache_file(aws_home, ARN).exists() and not cache_file(aws_home, OTHER).exists()
    result = logout(aws_home, "--profile", "default")
    assert not cache_file(aws_home, ARN).exists()


def test_logout_with_nothing_to_remove_says_so_in_one_style(aws_home) -> None:
    result = logout(aws_home, "--profile", "nope")
    assert result.returncode == 0
    assert result.stdout == "Profile nope has no login session; nothing to remove.\n"
    assert result.stderr == ""
    aws_home.config.write_text(f"[default]\nlogin_session = {ARN}\n")
    lock = cache_file(aws_home, ARN).with_suffix(".lock")
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    result = logout(aws_home)
    assert result.returncode == 0
    assert result.stdout == (
        f"Profile default has no cached login credentials (session {ARN}); nothing to remove.\n"
    )
    assert result.stderr == "" and "warning" not in result.stdout
    assert not lock.exists()


def test_logout_waits_for_a_running_refresh_then_removes(aws_home) -> None:
    """A refresh holding the session lock finishes first, so it cannot undo the logout."""
    import threading

    from awslogin.commands import logout as logout_cmd
    from awslogin.store.lock import session_lock

    put_token(aws_home, ARN)
    holding, release = threading.Event(), threading.Event()

    def refresher() -> None:
        with session_lock(ARN):
            holding.set()
            release.wait(10)
            cache_file(aws_home, ARN).write_text(cache_file(aws_home, ARN).read_text())

    thread = threading.Thread(target=refresher)
    thread.start()
    assert holding.wait(10)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(logout_cmd._logout_session(ARN)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # blocked on the refresher's lock
    release.set()
    thread.join(10)
    waiter.join(10)
    assert result == [True]
    assert not cache_file(aws_home, ARN).exists()
    assert not cache_file(aws_home, ARN).with_suffix(".lock").exists()


def test_logout_all_removes_only_login_tokens(aws_home) -> None:
    put_token(aws_home, ARN)
    put_token(aws_home, OTHER)
    locks = [cache_file(aws_home, arn).with_suffix(".lock") for arn in (ARN, OTHER)]
    for lock in locks:
        lock.write_text("")
    unrelated = aws_home.cache_dir / "notes.json"
    unrelated.write_text('{"something": "else"}')
    result = logout(aws_home, "--all")
    assert result.returncode == 0, result.stderr
    assert "Removed 2 cached login credentials" in result.stdout
    assert not cache_file(aws_home, ARN).exists() and not cache_file(aws_home, OTHER).exists()
    assert unrelated.exists()
    assert not any(lock.exists() for lock in locks)
    again = logout(aws_home, "--all")
    assert again.returncode == 0
    assert "No cached login session tokens found" in again.stdout
