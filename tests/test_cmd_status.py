"""`awslogin status`: text, --json, -q, and the exit code scripts rely on."""

from __future__ import annotations

import json
import re
import subprocess

from awslogin.store import cache
from conftest import AWSLOGIN
from sessions import emulator_faults, emulator_login, emulator_stats

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def status(env, *args):
    return subprocess.run([*AWSLOGIN, "status", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def _expire(arn):
    token = cache.load_token(arn)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    cache.save_token(arn, token)


def test_json_reports_the_session(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--clock-offset", "120")
    arn = emulator_login(emu.url, region="eu-west-1")
    out = status(aws_home.env, "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["identity"] == IDENTITY == arn
    assert info["account"] == "111122223333"
    assert info["region"] == "eu-west-1"
    assert info["endpoint"] == emu.url
    assert 800 < info["secondsLeft"] <= 900
    assert info["loginTime"].endswith("Z")
    assert 110 <= info["clockOffset"] <= 130
    assert info["usable"] is True
    for secret in ("fake", cache.load_token(arn)["refreshToken"],
                   cache.load_token(arn)["accessToken"]["secretAccessKey"]):
        assert secret not in out.stdout


def test_text_output(aws_home, emulator):
    emulator_login(emulator.url)
    out = status(aws_home.env)
    assert out.returncode == 0, out.stderr
    for label in ("Identity:", "Account:", "Region:", "Endpoint:", "Expires:", "Logged in:",
                  "Usable:"):
        assert label in out.stdout
    assert IDENTITY in out.stdout and "left)" in out.stdout


def test_text_output_names_a_skewed_clock(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--clock-offset", "-300")
    emulator_login(emu.url)
    out = status(aws_home.env)
    assert out.returncode == 0, out.stderr
    # the Date header has one-second resolution: 300 or 301
    assert re.search(r"clock is 30[01]s ahead of AWS Sign-In", out.stdout), out.stdout


def test_expired_but_refreshable_is_usable(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    assert status(aws_home.env, "-q").returncode == 0
    assert emulator_stats(emulator.url)["refresh_grants"] == 1


def test_ended_session_is_not_usable_and_quiet_prints_nothing(aws_home, emulator):
    arn = emulator_login(emulator.url)
    _expire(arn)
    emulator_faults(emulator.url, credentials_changed=[IDENTITY])
    out = status(aws_home.env, "-q")
    assert out.returncode != 0 and out.stdout == "" and out.stderr == ""
    out = status(aws_home.env, "--json")
    info = json.loads(out.stdout)
    assert out.returncode != 0 and info["usable"] is False
    assert "awslogin login" in info["problem"]


def test_no_session(aws_home):
    out = status(aws_home.env, "-q")
    assert out.returncode != 0 and out.stdout == "" and out.stderr == ""
    out = status(aws_home.env)
    assert out.returncode != 0 and "awslogin login" in out.stderr
    assert "Traceback" not in out.stderr
    out = status(aws_home.env, "--json", "--profile", "ghost")
    assert out.returncode != 0 and json.loads(out.stdout)["profile"] == "ghost"


def test_junk_signin_region_in_the_cache_is_not_a_crash(aws_home):
    from sessions import write_fake_session

    write_fake_session(aws_home, IDENTITY, endpoint=None, extra={"signInRegion": 5})
    out = status(aws_home.env, "--json")
    assert "unexpectedly" not in out.stderr and "Traceback" not in out.stderr
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["usable"] is True
