"""`awslogin configure-process`: the companion profile, used by botocore, role chaining hint."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import AWSLOGIN
from sessions import write_fake_session


def run(env, *args):
    return subprocess.run([*AWSLOGIN, "configure-process", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_writes_the_companion_profile_and_changes_nothing_else(aws_home):
    write_fake_session(aws_home, profile="dev", region="eu-central-1")
    with open(aws_home.config, "a") as f:
        f.write("# my notes\n[profile other]\nregion = us-west-2   ; keep\n")
    before = aws_home.config.read_text()
    out = run(aws_home.env, "--profile", "dev")
    assert out.returncode == 0, out.stderr
    after = aws_home.config.read_text()
    assert after.startswith(before)  # every existing line kept, byte for byte
    added = after[len(before):]
    assert "[profile dev-process]" in added
    assert "credential_process = awslogin credential-process --profile dev" in added
    assert "region = eu-central-1" in added
    assert "AWS_PROFILE=dev-process" in out.stdout
    assert "source_profile = dev-process" in out.stdout


def test_botocore_resolves_credentials_through_it(aws_home):
    write_fake_session(aws_home, profile="dev")
    assert run(aws_home.env, "--profile", "dev", "--as", "tools").returncode == 0
    env = dict(aws_home.env)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    script = ("import botocore.session as s; c = s.Session(profile='tools').get_credentials(); "
              "print(c.method, c.get_frozen_credentials().access_key)")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["custom-process", "ASIAFAKEFAKEFAKE0001"], out.stderr


def test_is_idempotent_but_refuses_an_unrelated_profile(aws_home):
    write_fake_session(aws_home, profile="dev")
    assert run(aws_home.env, "--profile", "dev").returncode == 0
    once = aws_home.config.read_text()
    assert run(aws_home.env, "--profile", "dev").returncode == 0
    assert aws_home.config.read_text() == once
    with open(aws_home.config, "a") as f:
        f.write("[profile mine]\naws_access_key_id = AKIAEXAMPLE\n")
    before = aws_home.config.read_text()
    out = run(aws_home.env, "--profile", "dev", "--as", "mine")
    assert out.returncode != 0 and "mine" in out.stderr and "--as" in out.stderr
    assert aws_home.config.read_text() == before


def test_refuses_a_profile_that_is_not_a_login_session(aws_home):
    aws_home.config.write_text("[profile keys]\naws_access_key_id = AKIAEXAMPLE\n")
    before = aws_home.config.read_text()
    out = run(aws_home.env, "--profile", "keys")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert aws_home.config.read_text() == before


def test_refuses_a_companion_name_with_spaces_and_writes_nothing(aws_home):
    write_fake_session(aws_home, profile="dev")
    before = aws_home.config.read_text()
    for name in (" lead", "lead ", "le ad", "lead\t", '"lead"'):
        out = run(aws_home.env, "--profile", "dev", "--as", name)
        assert out.returncode == 2, (name, out.stderr)
        assert "--as NEW" in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert aws_home.config.read_text() == before
