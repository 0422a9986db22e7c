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
    result = logout(aws_home)
    assert result.returncode == 0, result.stderr
    assert "Removed cached login credentials for profile 'default'" in result.stdout
    assert ARN in result.stdout
    assert not cache_file(aws_home, ARN).exists()
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


def test_logout_with_nothing_to_remove_says_so(aws_home) -> None:
    result = logout(aws_home)
    assert result.returncode == 0
    assert "no login session found for profile 'default'" in result.stderr
    aws_home.config.write_text(f"[default]\nlogin_session = {ARN}\n")
    result = logout(aws_home)
    assert result.returncode == 0
    assert "already logged out" in result.stdout


def test_logout_all_removes_only_login_tokens(aws_home) -> None:
    put_token(aws_home, ARN)
    put_token(aws_home, OTHER)
    unrelated = aws_home.cache_dir / "notes.json"
    unrelated.write_text('{"something": "else"}')
    result = logout(aws_home, "--all")
    assert result.returncode == 0, result.stderr
    assert "Removed 2 cached login credentials" in result.stdout
    assert not cache_file(aws_home, ARN).exists() and not cache_file(aws_home, OTHER).exists()
    assert unrelated.exists()
    again = logout(aws_home, "--all")
    assert again.returncode == 0
    assert "No cached login session tokens found" in again.stdout
