"""`awslogin exec`: the real CLI, the real emulator, a child that calls STS with boto3."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import AWSLOGIN
from sessions import emulator_login, emulator_stats

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"

# Calls STS, waits (on a condition, with a deadline) until the credentials it used have
# expired, and calls STS again with the same client: the SDK must fetch fresh ones itself.
CHILD = textwrap.dedent("""
    import json, os, sys, time, urllib.request
    from datetime import datetime
    import boto3

    endpoint = sys.argv[1]
    session = boto3.Session()
    sts = session.client("sts", endpoint_url=endpoint)
    creds = session.get_credentials()
    report = {"method": creds.method, "region": session.region_name, "calls": []}

    def served_expiry():
        req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
            headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
        doc = json.load(urllib.request.urlopen(req, timeout=10))
        return datetime.fromisoformat(doc["Expiration"].replace("Z", "+00:00")).timestamp()

    for n in range(2):
        arn = sts.get_caller_identity()["Arn"]
        report["calls"].append({"arn": arn, "key": creds.get_frozen_credentials().access_key})
        if n == 0:
            first_expiry = served_expiry()
            deadline = time.time() + 60
            while time.time() <= first_expiry + 1:
                assert time.time() < deadline, "credentials never expired"
                time.sleep(0.2)
    json.dump(report, open(sys.argv[2], "w"))
""")


def run_exec(env, *args, timeout=120):
    return subprocess.run([*AWSLOGIN, "exec", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_child_calls_sts_twice_across_a_forced_expiry(aws_home, emulator_factory, tmp_path):
    emu = emulator_factory("--auto-approve", "--access-token-ttl", "5")
    emulator_login(emu.url, profile="dev", region="eu-west-1")
    report = tmp_path / "report.json"
    out = run_exec(aws_home.env, "--profile", "dev", "--", sys.executable, "-c", CHILD,
                   emu.url, str(report))
    assert out.returncode == 0, out.stderr
    seen = json.loads(report.read_text())
    assert seen["method"] == "container-role"
    assert seen["region"] == "eu-west-1"
    assert [c["arn"] for c in seen["calls"]] == [IDENTITY, IDENTITY]
    assert seen["calls"][0]["key"] != seen["calls"][1]["key"]  # refreshed while it ran
    assert emulator_stats(emu.url)["refresh_grants"] >= 1


def test_default_profile_with_keys_does_not_shadow_the_session(aws_home, emulator, tmp_path):
    emulator_login(emulator.url, profile="dev")
    with open(aws_home.config, "a") as f:
        f.write("[default]\naws_access_key_id = AKIASTALEDEFAULTKEY0\n"
                "aws_secret_access_key = stale\nregion = us-east-1\n")
    (aws_home.root / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIASTALECREDSFILE00\naws_secret_access_key = stale\n")
    env = {**aws_home.env, "AWS_PROFILE": "default", "AWS_ACCESS_KEY_ID": "AKIASTALEENVIRON000",
           "AWS_SECRET_ACCESS_KEY": "stale"}
    script = ("import boto3, sys; s = boto3.Session(); "
              "print(s.get_credentials().method, "
              "s.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])")
    out = run_exec(env, "--profile", "dev", "--", sys.executable, "-c", script, emulator.url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["container-role", IDENTITY]
    # the user is told what was hidden, one line per file
    notes = [line for line in out.stderr.splitlines() if line.startswith("Note: the command")]
    assert len(notes) == 2 and all("[default] profile's aws_access_key_id" in n for n in notes)


def test_login_default_keeps_every_other_setting_for_the_command(aws_home, emulator):
    emulator_login(emulator.url)  # [default] holds login_session: the most common setup
    with open(aws_home.config, "a") as f:
        f.write("[profile other]\nregion = sa-east-1\noutput = table\n")
    # (AWS_REGION is set for the command, so read another profile's setting directly)
    script = ("import boto3, sys; s = boto3.Session(); o = boto3.Session(profile_name='other'); "
              "d = boto3.Session(profile_name='default')._session.get_scoped_config(); "
              "print(s.get_credentials().method, o._session.get_scoped_config()['output'], "
              "'login_session' in d, "
              "s.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])")
    out = run_exec(aws_home.env, "--", sys.executable, "-c", script, emulator.url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["container-role", "table", "False", IDENTITY]
    assert out.stderr.strip() == (
        f"Note: the command sees {aws_home.config} without the [default] profile's "
        "login_session (SDKs would use it before the credentials awslogin serves)."
    )


def test_exit_code_env_flag_and_missing_session(aws_home, emulator):
    emulator_login(emulator.url)
    script = ("import os, sys; print(os.environ.get('AWS_ACCESS_KEY_ID', '-')); "
              "sys.exit(3)")
    out = run_exec(aws_home.env, "--", sys.executable, "-c", script)
    assert out.returncode == 3 and out.stdout.strip() == "-"
    out = run_exec(aws_home.env, "--env", "--", sys.executable, "-c", script)
    assert out.returncode == 3 and out.stdout.strip().startswith("ASIA")
    out = run_exec(aws_home.env, "--profile", "nobody", "--", "true")
    assert out.returncode != 0 and "awslogin login --profile nobody" in out.stderr
    out = run_exec(aws_home.env, "--", "/nonexistent/command")
    assert out.returncode == 127 and "not found" in out.stderr
    out = run_exec(aws_home.env)
    assert out.returncode == 2 and "after '--'" in out.stderr


def test_ctrl_c_at_the_terminal_reaches_the_command(aws_home, emulator):
    import pexpect

    emulator_login(emulator.url)
    child_script = textwrap.dedent("""
        import signal, sys
        signal.signal(signal.SIGINT, lambda *_: (print("child got SIGINT", flush=True),
                                                 sys.exit(5)))
        print("ready", flush=True)
        while True:
            signal.pause()
    """)
    term = pexpect.spawn(AWSLOGIN[0], [*AWSLOGIN[1:], "exec", "--", sys.executable, "-c",
                                       child_script], env=aws_home.env, encoding="utf-8",
                         timeout=60)
    term.expect("ready")
    term.sendintr()
    term.expect("child got SIGINT")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 5
