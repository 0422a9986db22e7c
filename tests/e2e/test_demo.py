"""`awslogin demo` runs the whole system end to end and never touches the user's ~/.aws."""

from __future__ import annotations

import subprocess

from conftest import AWSLOGIN, AwsHome

DEFAULT_ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def _tree(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


def test_demo_verifies_the_identity_before_and_after_a_refresh(aws_home: AwsHome):
    aws_home.config.write_text("[default]\nregion = eu-west-1\n")
    before = _tree(aws_home.root)
    result = subprocess.run(
        [*AWSLOGIN, "demo"], env=aws_home.env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"Updated profile default to use {DEFAULT_ARN} credentials." in out
    assert "login_session = " + DEFAULT_ARN in out
    assert out.rstrip().endswith(f"Verified identity: {DEFAULT_ARN}")
    # two different access keys were shown: the refresh really happened
    keys = [line.split("access key ")[1] for line in out.splitlines() if "access key ASIA" in line]
    assert len(keys) == 2 and keys[0] != keys[1]
    # nothing secret is printed
    assert "BEGIN EC PRIVATE KEY" not in out and '"refreshToken": "<hidden>"' in out
    # the user's AWS home is exactly as it was
    assert _tree(aws_home.root) == before
