"""The Python API: `awslogin.get_credentials` and `awslogin.boto3_session`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import awslogin
from awslogin.store import cache
from sessions import emulator_login, emulator_stats

IDENTITY = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def test_get_credentials_refreshes_when_needed(aws_home, emulator):
    arn = emulator_login(emulator.url, profile="dev")
    token = cache.load_token(arn)
    token["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    cache.save_token(arn, token)
    creds = awslogin.get_credentials("dev")
    assert creds.seconds_left() > 800
    assert creds.access_key_id == cache.load_token(arn)["accessToken"]["accessKeyId"]
    assert emulator_stats(emulator.url)["refresh_grants"] == 1


# botocore without awscrt cannot use login_session at all; the awslogin session still works,
# and keeps working across an access-token expiry.
WITHOUT_CRT = textwrap.dedent("""
    import json, sys, time
    sys.modules["awscrt"] = None  # as if awscrt were not installed
    import boto3, botocore.exceptions
    import awslogin

    endpoint, profile = sys.argv[1], sys.argv[2]
    report = {}
    try:
        boto3.Session(profile_name=profile).get_credentials()
        report["plain"] = "worked"
    except botocore.exceptions.MissingDependencyException:
        report["plain"] = "needs awscrt"
    session = awslogin.boto3_session(profile)
    sts = session.client("sts", endpoint_url=endpoint)
    creds = session.get_credentials()
    report["method"] = creds.method
    report["region"] = session.region_name
    report["arns"], report["keys"] = [], []
    for n in range(2):
        report["arns"].append(sts.get_caller_identity()["Arn"])
        frozen = creds.get_frozen_credentials()
        report["keys"].append(frozen.access_key)
        if n == 0:
            expiry = awslogin.get_credentials(profile).expiration.timestamp()
            deadline = time.time() + 60
            while time.time() <= expiry + 1:
                assert time.time() < deadline
                time.sleep(0.2)
    print(json.dumps(report))
""")


def test_boto3_session_works_without_awscrt_across_expiry(aws_home, emulator_factory):
    emu = emulator_factory("--auto-approve", "--access-token-ttl", "5")
    emulator_login(emu.url, profile="dev", region="ap-southeast-2")
    out = subprocess.run([sys.executable, "-c", WITHOUT_CRT, emu.url, "dev"], env=aws_home.env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["plain"] == "needs awscrt"  # proves the setting: botocore alone fails
    assert report["method"] == "awslogin"
    assert report["region"] == "ap-southeast-2"
    assert report["arns"] == [IDENTITY, IDENTITY]
    assert report["keys"][0] != report["keys"][1]


def test_boto3_session_passes_keyword_arguments(aws_home, emulator):
    emulator_login(emulator.url, profile="dev")
    session = awslogin.boto3_session("dev", region_name="sa-east-1")
    assert session.region_name == "sa-east-1"
    assert session.get_credentials().method == "awslogin"
    assert session.client("sts", endpoint_url=emulator.url).get_caller_identity()["Arn"] == (
        IDENTITY)
