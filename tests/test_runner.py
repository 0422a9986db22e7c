"""`runner.run_command`: the child sees the served credentials and nothing that shadows them."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from awslogin.runner import child_environment, run_command
from sessions import make_creds

# A child that resolves credentials through botocore's full default chain, as any tool would.
RESOLVE = textwrap.dedent("""
    import json, sys, botocore.session
    s = botocore.session.get_session()
    c = s.get_credentials()
    f = c.get_frozen_credentials()
    json.dump({"key": f.access_key, "method": c.method, "region": s.get_config_variable("region"),
               "profile": s.get_config_variable("profile")}, open(sys.argv[1], "w"))
""")


@pytest.fixture
def shadowing_home(aws_home, monkeypatch):
    """A [default] profile with keys in both files, AWS_PROFILE and static keys in the env."""
    aws_home.config.write_text(
        "[default]\naws_access_key_id = AKIACONFIGDEFAULT000\n"
        "aws_secret_access_key = config-secret\nregion = eu-west-1\n"
        "[profile other]\naws_access_key_id = AKIAOTHERPROFILE0000\n"
        "aws_secret_access_key = other-secret\n"
    )
    (aws_home.root / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACREDSFILEDEFAULT\n"
        "aws_secret_access_key = creds-secret\n"
    )
    monkeypatch.setenv("AWS_PROFILE", "other")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "other")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTATICENVIRON00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")
    return aws_home


def test_child_uses_served_credentials_despite_every_shadow(shadowing_home, tmp_path):
    out = tmp_path / "out.json"
    code = run_command([sys.executable, "-c", RESOLVE, str(out)], lambda: make_creds(7),
                       region="ap-south-1")
    assert code == 0
    seen = json.loads(out.read_text())
    assert seen["key"] == "ASIAEXAMPLE000000007"
    assert seen["method"] == "container-role"
    assert seen["region"] == "ap-south-1"


def test_env_flag_also_sets_static_variables(aws_home, tmp_path):
    out = tmp_path / "env.json"
    script = ("import json, os, sys; json.dump({k: os.environ.get(k) for k in "
              "['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', "
              "'AWS_CREDENTIAL_EXPIRATION', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']}, "
              "open(sys.argv[1], 'w'))")
    assert run_command([sys.executable, "-c", script, str(out)], lambda: make_creds(3),
                       region=None, static_env=True) == 0
    seen = json.loads(out.read_text())
    assert seen["AWS_ACCESS_KEY_ID"] == "ASIAEXAMPLE000000003"
    assert seen["AWS_SECRET_ACCESS_KEY"] == "secret-3"
    assert seen["AWS_SESSION_TOKEN"] == "token-3"
    assert seen["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    assert seen["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")


def test_without_env_flag_static_keys_are_removed(aws_home, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "stale")
    env, notes = child_environment(os.environ, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "u"},
                                   region=None)
    assert "AWS_SESSION_TOKEN" not in env and notes == []
    # nothing shadows: the user's files stay visible to the command
    assert env["AWS_CONFIG_FILE"] == str(aws_home.config)


def test_hidden_files_are_reported(shadowing_home):
    env, notes = child_environment(os.environ, {}, region=None)
    assert env["AWS_CONFIG_FILE"] == os.devnull
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert len(notes) == 2 and "aws_access_key_id" in notes[0]


def test_exit_code_and_signal_death_are_returned(aws_home):
    assert run_command([sys.executable, "-c", "raise SystemExit(42)"], make_creds,
                       region=None) == 42
    kill_self = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert run_command([sys.executable, "-c", kill_self], make_creds, region=None) == 143


def test_missing_command_is_a_plain_error(aws_home):
    from awslogin.errors import AwsloginError

    with pytest.raises(AwsloginError) as info:
        run_command(["/nonexistent/tool"], make_creds, region=None)
    assert info.value.exit_code == 127 and "not found" in str(info.value)


CHILD_TRAPS = textwrap.dedent("""
    import signal, sys, time
    got = []
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, lambda n, f: got.append(n))
    print("ready", flush=True)
    while not got:
        signal.pause()
    print("child got", signal.Signals(got[0]).name, flush=True)
    sys.exit(7)
""")
PARENT = textwrap.dedent("""
    import sys
    from awslogin.runner import run_command
    from sessions import make_creds
    sys.exit(run_command([sys.executable, "-c", sys.argv[1]], make_creds, region=None))
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_are_forwarded_to_the_child(aws_home, sig):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD_TRAPS], stdout=subprocess.PIPE,
                              text=True, cwd=os.getcwd(),
                              env={**aws_home.env, "PYTHONPATH": os.path.dirname(__file__)})
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "ready"
    parent.send_signal(sig)
    rest = parent.stdout.read()
    assert parent.wait(30) == 7
    assert f"child got {sig.name}" in rest


def test_the_endpoint_stops_when_the_command_ends(aws_home, tmp_path):
    import http.client

    out = tmp_path / "url"
    script = ("import os, sys; "
              "open(sys.argv[1], 'w').write(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'])")
    assert run_command([sys.executable, "-c", script, str(out)], make_creds, region=None) == 0
    port = int(out.read_text().split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/awslogin/credentials")
        conn.getresponse()



LOGIN_DEFAULT = (
    "# my settings\n[default]\nlogin_session = arn:aws:sts::111122223333:assumed-role/R/a\n"
    "region = eu-west-1\ncli_pager =\n"
    "[profile other]\nregion = sa-east-1\noutput = json\n"
)
# A child that reads both files the way every SDK does, and tells what it saw.
SEES = textwrap.dedent("""
    import json, os, sys, botocore.session
    s = botocore.session.Session(profile="other")
    d = botocore.session.Session(profile="default")
    json.dump({"other_region": s.get_config_variable("region"),
               "default": d.get_scoped_config(),
               "creds": d.full_config["profiles"].get("default", {}),
               "config_file": os.environ["AWS_CONFIG_FILE"]},
              open(sys.argv[1], "w"))
""")


def test_login_default_is_filtered_out_and_the_rest_of_the_config_stays(aws_home, tmp_path,
                                                                       caplog):
    aws_home.config.write_text(LOGIN_DEFAULT)
    (aws_home.root / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIACREDSFILEDEFAULT\naws_secret_access_key = s\n"
        "[other]\nmetadata_service_timeout = 3\n"
    )
    out = tmp_path / "seen.json"
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        assert run_command([sys.executable, "-c", SEES, str(out)], make_creds,
                           region=None) == 0
    seen = json.loads(out.read_text())
    assert seen["other_region"] == "sa-east-1"  # every other profile is still there
    assert seen["default"] == {"region": "eu-west-1", "cli_pager": ""}  # minus login_session
    assert "aws_access_key_id" not in json.dumps(seen["creds"])
    assert seen["config_file"].startswith("/proc/")
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        f"Note: the command sees {aws_home.config} without the [default] profile's "
        "login_session (SDKs would use it before the credentials awslogin serves).",
        f"Note: the command sees {aws_home.root / '.aws' / 'credentials'} without the [default] "
        "profile's aws_access_key_id, aws_secret_access_key (SDKs would use it before the "
        "credentials awslogin serves).",
    ]


def test_the_filtered_config_reaches_grandchildren_that_close_descriptors(aws_home, tmp_path):
    aws_home.config.write_text(LOGIN_DEFAULT)
    out = tmp_path / "seen.json"
    # subprocess closes every inherited descriptor (close_fds) and may reuse the numbers
    grandchild = ("import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', "
                  "sys.argv[1], sys.argv[2]], close_fds=True).returncode)")
    assert run_command([sys.executable, "-c", grandchild, SEES, str(out)], make_creds,
                       region=None) == 0
    seen = json.loads(out.read_text())
    assert seen["other_region"] == "sa-east-1"
    assert "login_session" not in seen["default"]


def test_the_filtered_copy_is_only_in_memory_and_closed_afterwards(aws_home, tmp_path):
    aws_home.config.write_text(LOGIN_DEFAULT)
    before = set(os.listdir("/proc/self/fd"))
    script = ("import os, sys; "
              "open(sys.argv[1], 'w').write(os.readlink(os.environ['AWS_CONFIG_FILE']))")
    out = tmp_path / "link"
    assert run_command([sys.executable, "-c", script, str(out)], make_creds, region=None) == 0
    assert out.read_text().startswith("/memfd:")
    assert set(os.listdir("/proc/self/fd")) <= before
    assert aws_home.config.read_text() == LOGIN_DEFAULT


def test_without_memfd_the_file_is_hidden_whole(aws_home, monkeypatch, caplog, tmp_path):
    monkeypatch.delattr(os, "memfd_create")
    aws_home.config.write_text(LOGIN_DEFAULT)
    out = tmp_path / "env"
    script = "import os, sys; open(sys.argv[1], 'w').write(os.environ['AWS_CONFIG_FILE'])"
    with caplog.at_level(logging.WARNING, logger="awslogin"):
        assert run_command([sys.executable, "-c", script, str(out)], make_creds,
                           region=None) == 0
    assert out.read_text() == os.devnull
    assert "does not see" in caplog.records[0].getMessage()
