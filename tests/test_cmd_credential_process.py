"""`awslogin credential-process` through the real CLI: output, hot path, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from awslogin.commands.credential_process import fast_path
from awslogin.store import cache
from conftest import AWSLOGIN
from sessions import write_fake_session

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AWSLOGIN, "credential-process", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_prints_the_credential_process_document(aws_home):
    token = write_fake_session(aws_home, profile="work")
    out = cli(aws_home.env, "--profile", "work")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["Version"] == 1
    assert doc["AccessKeyId"] == token["accessToken"]["accessKeyId"]
    assert doc["SecretAccessKey"] == "fake-secret-access-key"
    assert doc["SessionToken"] == "fake-session-token"
    assert doc["Expiration"] == token["accessToken"]["expiresAt"]
    assert out.stderr == ""


def test_botocore_uses_it_as_a_credential_process(aws_home):
    write_fake_session(aws_home, profile="work")
    with open(aws_home.config, "a") as f:
        f.write(f"[profile tool]\ncredential_process = {sys.executable} -m awslogin "
                "credential-process --profile work\n")
    script = ("import botocore.session as s; c = s.Session(profile='tool').get_credentials(); "
              "print(c.method, c.get_frozen_credentials().access_key)")
    out = subprocess.run([sys.executable, "-c", script], env=aws_home.env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.split() == ["custom-process", "ASIAFAKEFAKEFAKE0001"], out.stderr


HEAVY = ("botocore", "boto3", "cryptography", "urllib3", "http.client", "requests", "awscrt",
         "filelock", "awslogin.signin", "awslogin.dpop")
CHECK_IMPORTS = textwrap.dedent(f"""
    import sys
    from awslogin.cli import main
    code = main(sys.argv[1:])
    heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))
    print("HEAVY", heavy, file=sys.stderr)
    sys.exit(code)
""")


@pytest.mark.parametrize("args", [[], ["--profile", "default"]])
def test_a_cache_hit_imports_nothing_heavy(aws_home, args):
    write_fake_session(aws_home)
    out = subprocess.run([sys.executable, "-c", CHECK_IMPORTS, "credential-process", *args],
                         env=aws_home.env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stderr


def test_fast_path_prints_exactly_what_the_full_command_prints(aws_home, capsys, monkeypatch):
    write_fake_session(aws_home, profile="work")
    full = cli(aws_home.env, "--profile", "work").stdout
    assert fast_path(["--profile", "work"]) == 0
    assert capsys.readouterr().out == full
    monkeypatch.setenv("AWS_PROFILE", "work")
    assert fast_path([]) == 0
    assert capsys.readouterr().out == full


@pytest.mark.parametrize(
    "setup",
    ["expiring", "no-profile", "variant-header", "bad-json", "no-account", "debug-args"],
)
def test_fast_path_steps_aside_whenever_anything_is_unusual(aws_home, capsys, setup):
    write_fake_session(aws_home, seconds_left=100 if setup == "expiring" else 900)
    args: list[str] = []
    if setup == "no-profile":
        args = ["--profile", "missing"]
    elif setup == "variant-header":
        aws_home.config.write_text(aws_home.config.read_text() + '[profile "default"]\nx = 1\n')
    elif setup == "bad-json":
        cache.cache_path(ARN).write_text("{")
    elif setup == "no-account":
        token = cache.load_token(ARN)
        del token["accessToken"]["accountId"]
        cache.save_token(ARN, token)
    elif setup == "debug-args":
        args = ["--debug"]
    assert fast_path(args) is None
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("none", "awslogin login --profile nope"),
        ("logged-out", "no cached session"),
        ("malformed", "is not valid JSON"),
    ],
)
def test_failures_are_one_plain_sentence_and_no_output(aws_home, setup, words):
    profile = "nope" if setup == "none" else "default"
    if setup != "none":
        write_fake_session(aws_home)
    if setup == "logged-out":
        cache.delete_token(ARN)
    if setup == "malformed":
        cache.cache_path(ARN).write_text("{oops")
    out = cli(aws_home.env, "--profile", profile)
    assert out.returncode != 0 and out.stdout == ""
    assert words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


ARN_B = "arn:aws:iam::444455556666:user/bob"
CONFIGS = {
    "plain": f"[profile p]\nlogin_session = {ARN}\nregion = us-east-1\n",
    "colon": f"[profile p]\nlogin_session: {ARN}\n",
    "upper-key": f"[profile p]\nLOGIN_SESSION = {ARN}\n",
    "comments": f"# top\n; semi\n[profile p]\n  # indented comment\nlogin_session = {ARN}\n",
    "crlf": f"[profile p]\r\nlogin_session = {ARN}\r\nregion = x\r\n",
    "nested-s3": f"[profile p]\ns3 =\n  addressing_style = path\nlogin_session = {ARN}\n",
    "continued": f"[profile p]\nlogin_session = {ARN}\n  more\n",
    "blank-then-continued": f"[profile p]\nlogin_session = {ARN}\n\n  more\n",
    "indented-first": f"[profile p]\n  login_session = {ARN}\n",
    "duplicate-key": f"[profile p]\nlogin_session = {ARN}\nlogin_session = {ARN_B}\n",
    "duplicate-section": f"[profile p]\nlogin_session = {ARN}\n[profile p]\nregion = x\n",
    "dup-elsewhere": f"[profile p]\nlogin_session = {ARN}\n[profile q]\na = 1\na = 2\n",
    "no-header": f"login_session = {ARN}\n[profile p]\nlogin_session = {ARN}\n",
    "variant-header": (f"[profile p]\nlogin_session = {ARN}\n"
                       f"[profile  p]\nlogin_session = {ARN_B}\n"),
    "quoted-header": f'[profile "p"]\nlogin_session = {ARN_B}\n',
    "DEFAULT": f"[DEFAULT]\nlogin_session = {ARN_B}\n[profile p]\nregion = x\n",
    "garbage-line": f"[profile p]\nlogin_session = {ARN}\nnot an option\n",
    "empty-value": "[profile p]\nlogin_session =\n",
    "inline-semicolon": f"[profile p]\nlogin_session = {ARN} ; note\n",
    "header-trailing": f"[profile p] junk\nlogin_session = {ARN}\n",
    "other-profile": f"[profile q]\nlogin_session = {ARN}\n",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fast_config_reader_never_disagrees_with_configparser(aws_home, name):
    from awslogin.commands.credential_process import _login_session
    from awslogin.errors import ConfigError
    from awslogin.store import config

    aws_home.config.write_bytes(CONFIGS[name].encode())
    fast = _login_session("p")
    try:
        full = config.read_profile("p").get("login_session")
    except ConfigError:
        full = "<error>"
    if fast is not None:  # None means "not sure": the full command decides
        assert fast == full
    if name in ("plain", "colon", "upper-key", "comments", "crlf", "nested-s3"):
        assert fast == ARN  # the common shapes do take the fast path


@pytest.mark.parametrize("layout", ["compact", "indented", "trailing-newline", "leading-blank"])
def test_fast_path_reads_any_json_layout_and_escapes_like_json(aws_home, capsys, layout):
    from awslogin.credentials import load_credentials
    from awslogin.export import format_credentials

    token = write_fake_session(aws_home)
    token["accessToken"]["secretAccessKey"] = 'odd "quote" \\ slash/é\u2028'
    text = json.dumps(token, indent=2 if layout == "indented" else None)
    text = {"trailing-newline": text + "\n", "leading-blank": " " + text}.get(layout, text)
    cache.cache_path(ARN).write_text(text)
    code = fast_path([])
    out = capsys.readouterr().out
    if layout == "leading-blank":
        assert code is None and out == ""  # not sure: the full command reads it
        return
    assert code == 0
    assert out == format_credentials(load_credentials(None), "process")
    assert json.loads(out)["SecretAccessKey"] == token["accessToken"]["secretAccessKey"]


FAST_IMPORTS = textwrap.dedent("""
    import sys
    from awslogin.commands.credential_process import fast_path
    code = fast_path(sys.argv[1:])
    loaded = sorted(m for m in ("json", "configparser", "hashlib", "_hashlib", "argparse",
                                "logging", "dataclasses", "pathlib") if m in sys.modules)
    print("LOADED", loaded, file=sys.stderr)
    sys.exit(code if code is not None else 99)
""")


def test_the_fast_path_loads_none_of_the_costly_modules(aws_home):
    write_fake_session(aws_home)
    out = subprocess.run([sys.executable, "-c", FAST_IMPORTS], env=aws_home.env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stderr


def test_the_cli_answers_a_cache_hit_before_loading_argparse(aws_home):
    # cli.main tries the fast path first; argparse, configparser and json are what the full
    # command would cost on every tool start
    write_fake_session(aws_home)
    script = textwrap.dedent("""
        import sys
        from awslogin.cli import main
        code = main(["credential-process"])
        loaded = [m for m in ("argparse", "configparser", "json", "typing") if m in sys.modules]
        print("LOADED", loaded, file=sys.stderr)
        sys.exit(code)
    """)
    out = subprocess.run([sys.executable, "-c", script], env=aws_home.env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stderr
    assert '"AccessKeyId"' in out.stdout


def test_a_config_botocore_refuses_is_named_not_unexpected(aws_home):
    write_fake_session(aws_home, seconds_left=-60)
    with open(aws_home.config, "a") as f:
        f.write("sso_session = missing\n")
    out = cli(aws_home.env)
    assert out.returncode == 1 and out.stdout == ""
    assert "unexpectedly" not in out.stderr and "Traceback" not in out.stderr
    assert str(aws_home.config) in out.stderr and '"missing" sso_session' in out.stderr


@pytest.mark.parametrize("loose", ["file", "dir"])
def test_a_cache_hit_on_a_loose_file_or_dir_tightens_it(aws_home, capsys, loose):
    import os
    import stat

    write_fake_session(aws_home)
    path = cache.cache_path(ARN)
    os.chmod(path if loose == "file" else aws_home.cache_dir, 0o644 if loose == "file" else 0o755)
    assert fast_path([]) is None  # the full command takes over: it tightens
    assert capsys.readouterr().out == ""
    out = cli(aws_home.env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AccessKeyId"] == "ASIAFAKEFAKEFAKE0001"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.cache_dir.stat().st_mode) == 0o700
    assert fast_path([]) == 0


@pytest.mark.parametrize(("line", "hint"), [
    ("awslogin credential-process --profile dev", "Use --profile dev (the login profile"),
    ("/opt/bin/awslogin credential-process --profile=dev", "Use --profile dev (the login"),
    ("some-other-tool --json", "Use --profile NAME (the login profile it points to)."),
])
def test_a_companion_profile_says_which_profile_to_use(aws_home, line, hint):
    write_fake_session(aws_home, profile="dev")
    with open(aws_home.config, "a") as f:
        f.write(f"[profile dev-process]\ncredential_process = {line}\n")
    out = cli(aws_home.env, "--profile", "dev-process")
    assert out.returncode == 1 and out.stdout == ""
    assert "serves only login_session profiles" in out.stderr and hint in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
