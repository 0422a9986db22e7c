"""`awslogin demo` runs the whole system end to end and never touches the user's ~/.aws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AWSLOGIN, AwsHome, require_chromium

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


def test_demo_works_without_awscrt_through_awslogins_own_provider(aws_home: AwsHome):
    # pip users without awscrt: the demo proves the session through awslogin.boto3_session()
    script = (
        "import sys; sys.modules['awscrt'] = None\n"
        "from awslogin.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=aws_home.env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "through boto3 (awslogin.boto3_session())" in result.stdout
    assert result.stdout.rstrip().endswith(f"Verified identity: {DEFAULT_ARN}")


@pytest.mark.browser
def test_demo_with_a_real_browser_where_the_person_approves(aws_home: AwsHome, tmp_path):
    require_chromium()
    log = tmp_path / "browser.txt"
    env = dict(aws_home.env,
               BROWSER=f"{sys.executable} {Path(__file__).with_name('approve_in_chromium.py')} %s",
               APPROVE_LOG=str(log))
    result = subprocess.run([*AWSLOGIN, "demo", "--browser"], env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pick the session in your browser" in result.stdout
    assert result.stdout.rstrip().endswith(f"Verified identity: {DEFAULT_ARN}")
    assert log.read_text().strip()  # chromium really landed on awslogin's callback page
