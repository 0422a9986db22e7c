"""`awslogin export` through the real CLI, its env output evaluated by bash."""

from __future__ import annotations

import json
import subprocess

from conftest import AWSLOGIN
from sessions import emulator_login, emulator_stats


def test_export_refreshes_and_prints_each_format(aws_home, emulator):
    from awslogin.store import cache

    arn = emulator_login(emulator.url)
    token = cache.load_token(arn)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    cache.save_token(arn, token)
    out = subprocess.run([*AWSLOGIN, "export"], env=aws_home.env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["AccessKeyId"]
    assert key == cache.load_token(arn)["accessToken"]["accessKeyId"]
    assert emulator_stats(emulator.url)["refresh_grants"] == 1

    shell = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c",
         f'eval "$({" ".join(AWSLOGIN)} export --format env)"; printenv AWS_ACCESS_KEY_ID'],
        env=aws_home.env, capture_output=True, text=True, timeout=60)
    assert shell.stdout.strip() == key, shell.stderr


def test_export_without_a_session_fails_plainly(aws_home):
    out = subprocess.run([*AWSLOGIN, "export", "--format", "fish"], env=aws_home.env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and out.stdout == ""
    assert "awslogin login" in out.stderr and "Traceback" not in out.stderr
