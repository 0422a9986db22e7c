"""After `awslogin login`, botocore's own login credential provider (boto3 + awscrt) uses the
session as it is, refreshes it at the emulator once the access token has expired, and STS
confirms the identity. Two ways for the SDK to find the emulator: the `signin` endpoint that
awslogin pinned in the profile, or `AWS_ENDPOINT_URL` in the SDK's environment.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import AWSLOGIN

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
HERE = Path(__file__).parent
FOLLOW = f"{sys.executable} {HERE / 'follow_redirects.py'} %s"

SDK = """
import json, os, sys
import boto3

session = boto3.Session()
credentials = session.get_credentials()
sts = session.client("sts", endpoint_url=os.environ["EMULATOR_URL"], region_name="us-east-1")
arn = sts.get_caller_identity()["Arn"]
print(json.dumps({"method": credentials.method, "arn": arn}))
"""


def stats(emu) -> dict:
    with urllib.request.urlopen(f"{emu.url}/__emulator/stats", timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("how", ["pinned-services-endpoint", "AWS_ENDPOINT_URL"])
def test_botocore_uses_and_refreshes_the_session(aws_home, emulator, how) -> None:
    # the profile's region differs from the login's: the AWS CLI's users lose such sessions
    aws_home.config.write_text("[default]\nregion = eu-west-1\n")
    result = subprocess.run(
        [*AWSLOGIN, "login", "--endpoint-url", emulator.url, "--region", "us-east-1"],
        env=dict(aws_home.env, BROWSER=FOLLOW), capture_output=True, text=True, timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    sdk_env = dict(aws_home.env, EMULATOR_URL=emulator.url)
    if how == "AWS_ENDPOINT_URL":
        # drop the pin: the SDK finds the emulator through its own environment instead
        lines = [line for line in aws_home.config.read_text().splitlines()
                 if not line.startswith("services")]
        aws_home.config.write_text("\n".join(lines) + "\n")
        sdk_env["AWS_ENDPOINT_URL"] = emulator.url

    path = aws_home.cache_dir / (hashlib.sha256(ARN.encode()).hexdigest() + ".json")
    token = json.loads(path.read_text())
    old_key = token["accessToken"]["accessKeyId"]
    token["accessToken"]["expiresAt"] = "2000-01-01T00:00:00Z"  # force the refresh
    path.write_text(json.dumps(token))
    refreshes_before = stats(emulator)["refresh_grants"]

    sdk = subprocess.run([sys.executable, "-c", SDK], env=sdk_env, capture_output=True,
                         text=True, timeout=90)
    assert sdk.returncode == 0, sdk.stderr
    seen = json.loads(sdk.stdout.strip().splitlines()[-1])
    assert seen == {"method": "login", "arn": ARN}

    assert stats(emulator)["refresh_grants"] == refreshes_before + 1
    refreshed = json.loads(path.read_text())
    assert refreshed["accessToken"]["accessKeyId"] != old_key
    expires = datetime.strptime(refreshed["accessToken"]["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert expires.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    # botocore kept the fields it does not know, and our DPoP key still signs
    assert refreshed["signinEndpoint"] == emulator.url
    assert refreshed["dpopKey"] == token["dpopKey"]
