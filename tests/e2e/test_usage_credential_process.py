"""A tool that only knows credential_process, via `configure-process`, across a forced expiry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from conftest import AWSLOGIN
from sessions import emulator_login, emulator_stats

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"

TOOL = textwrap.dedent("""
    import json, sys, time
    from datetime import datetime
    import botocore.session

    session = botocore.session.Session(profile=sys.argv[2])
    sts = session.create_client("sts", endpoint_url=sys.argv[1])
    creds = session.get_credentials()
    out = {"method": creds.method, "arns": [], "keys": []}
    for n in range(2):
        out["arns"].append(sts.get_caller_identity()["Arn"])
        out["keys"].append(creds.get_frozen_credentials().access_key)
        if n == 0:
            expiry = creds._expiry_time.timestamp()
            deadline = time.time() + 60
            while time.time() <= expiry + 1:
                assert time.time() < deadline
                time.sleep(0.2)
    print(json.dumps(out))
""")


def test_botocore_through_the_companion_profile_survives_an_expiry(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--access-token-ttl", "5")
    emulator_login(emu.url, profile="dev")
    made = subprocess.run([*AWSLOGIN, "configure-process", "--profile", "dev"],
                          env=aws_home.env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    env = {**aws_home.env,
           "PATH": os.path.dirname(sys.executable) + os.pathsep + aws_home.env["PATH"]}
    out = subprocess.run([sys.executable, "-c", TOOL, emu.url, "dev-process"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["method"] == "custom-process"
    assert seen["arns"] == [IDENTITY, IDENTITY]
    assert seen["keys"][0] != seen["keys"][1]
    assert emulator_stats(emu.url)["refresh_grants"] >= 1
