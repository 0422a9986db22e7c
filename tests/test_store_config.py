"""store/config.py: reading like botocore, line-preserving edits, services endpoints."""

from __future__ import annotations

import configparser
import os
import shlex
import stat

import botocore.configloader
import botocore.session
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from awslogin.errors import ConfigError
from awslogin.store import config
from sessions import botocore_token_url


def write(aws_home, text: str) -> None:
    aws_home.config.write_text(text)


def test_paths_and_names(aws_home, monkeypatch) -> None:
    assert config.config_path() == aws_home.config
    assert config.profile_name("x") == "x"
    assert config.profile_name(None) == "default"
    monkeypatch.setenv("AWS_PROFILE", "envp")
    assert config.profile_name(None) == "envp"
    assert config.section_name("default") == "default"
    assert config.section_name("dev") == "profile dev"


def test_config_path_default(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.config_path() == tmp_path / ".aws" / "config"


def test_read_profile_like_botocore(aws_home) -> None:
    write(aws_home, "[default]\nregion = eu-west-1\n[profile dev]\nRegion=us-east-2\n"
          "s3 =\n  addressing_style = path\n[services s]\nsignin =\n  endpoint_url = http://x\n")
    assert config.read_profile("default") == {"region": "eu-west-1"}
    assert config.read_profile("dev") == {"region": "us-east-2",
                                          "s3": {"addressing_style": "path"}}
    assert config.read_profile("absent") == {}
    assert config.read_section("services s") == {"signin": {"endpoint_url": "http://x"}}


def test_read_missing_file(aws_home) -> None:
    assert not aws_home.config.exists()
    assert config.read_profile("default") == {}


def test_read_unparsable_file_names_it(aws_home) -> None:
    write(aws_home, "region = x\n")
    with pytest.raises(ConfigError) as err:
        config.read_profile("default")
    assert str(aws_home.config) in str(err.value)
    write(aws_home, "[default]\na = 1\na = 2\n")
    with pytest.raises(ConfigError):
        config.read_profile("default")


def test_update_creates_file_and_dir(aws_home, tmp_path, monkeypatch) -> None:
    path = tmp_path / "new" / ".aws" / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    config.update_section("profile dev", {"login_session": "arn:aws:iam::123456789012:user/b"})
    assert path.read_text() == "[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/b\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_update_keeps_other_lines_and_mode(aws_home) -> None:
    original = (
        "# top comment\n"
        "[default]\n"
        "region = us-east-1   \n"
        "; semicolon comment\n"
        "\n"
        "[profile dev]\n"
        "  output=json\n"
        "  login_session = arn:aws:sts::111111111111:assumed-role/Old/x\n"
        "    continued line\n"
        "# trailing comment of dev\n"
        "\n"
        "[profile other]\n"
        "region: eu-west-1"
    )
    write(aws_home, original)
    os.chmod(aws_home.config, 0o640)
    config.update_section(
        "profile dev",
        {"login_session": "arn:aws:sts::222222222222:assumed-role/New/y", "region": "us-west-2"},
    )
    config.update_section("profile other", {"region": "ap-south-1"}, remove=())
    config.update_section("profile third", {"region": "sa-east-1"})
    assert aws_home.config.read_text() == (
        "# top comment\n"
        "[default]\n"
        "region = us-east-1   \n"
        "; semicolon comment\n"
        "\n"
        "[profile dev]\n"
        "  output=json\n"
        "  login_session = arn:aws:sts::222222222222:assumed-role/New/y\n"
        "  region = us-west-2\n"
        "# trailing comment of dev\n"
        "\n"
        "[profile other]\n"
        "region = ap-south-1\n"
        "\n"
        "[profile third]\n"
        "region = sa-east-1\n"
    )
    assert stat.S_IMODE(aws_home.config.stat().st_mode) == 0o640


def test_update_remove_key_with_continuation(aws_home) -> None:
    write(aws_home, "[profile p]\na = 1\nb =\n  x = 1\n  y = 2\nc = 3\n")
    config.update_section("profile p", {}, remove=("b",))
    assert aws_home.config.read_text() == "[profile p]\na = 1\nc = 3\n"


def test_update_keeps_crlf(aws_home) -> None:
    aws_home.config.write_bytes(b"[default]\r\nregion = x\r\n")
    config.update_section("default", {"region": "y", "output": "json"})
    assert aws_home.config.read_bytes() == b"[default]\r\nregion = y\r\noutput = json\r\n"


def test_update_keeps_non_utf8_bytes(aws_home) -> None:
    aws_home.config.write_bytes(b"# caf\xe9\n[default]\nregion = x\n")
    config.update_section("default", {"region": "y"})
    assert aws_home.config.read_bytes() == b"# caf\xe9\n[default]\nregion = y\n"


def test_update_empty_section_before_indented_header(aws_home) -> None:
    write(aws_home, "[profile a]\n  [profile b]\n  k = v\n")
    config.update_section("profile a", {"n": "1"})
    cp = configparser.RawConfigParser()
    cp.read(aws_home.config)
    assert dict(cp["profile a"]) == {"n": "1"}
    assert dict(cp["profile b"]) == {"k": "v"}


@pytest.mark.parametrize("bad", [
    ("profile a\nb", "k", "v"), ("profile [a]", "k", "v"), ("profile a", "k\r", "v"),
    ("profile a", "k", "v\nx = y"), ("profile a", "k", "v]"), ("profile a", "k=1", "v"),
    ("profile a", "", "v"), ("profile a", "k", "a\u2028b"), ("profile a b", "k", "v"),
    ("profile 'a'", "k", "v"), ("profile", "k", "v"), ("services", "k", "v"),
    ("profile  lead", "k", "v"), ("profile lead ", "k", "v"), ("profile\tlead", "k", "v"),
])
def test_update_refuses_injection(aws_home, bad) -> None:
    write(aws_home, "[default]\n")
    section, key, value = bad
    with pytest.raises(ConfigError):
        config.update_section(section, {key: value})
    assert aws_home.config.read_text() == "[default]\n"


def test_update_refuses_unparsable_file(aws_home) -> None:
    write(aws_home, "[default]\nnot an option line\n")
    with pytest.raises(ConfigError):
        config.update_section("default", {"region": "x"})
    assert aws_home.config.read_text() == "[default]\nnot an option line\n"


def test_edit_targets_section_botocore_uses(aws_home) -> None:
    write(aws_home, "[profile dev]\na = 1\n[profile  dev]\nb = 2\n")
    config.update_section("profile dev", {"region": "eu-north-1"})
    parsed = botocore.configloader.load_config(str(aws_home.config))
    assert parsed["profiles"]["dev"]["region"] == "eu-north-1"
    assert config.read_profile("dev")["region"] == "eu-north-1"


def test_conflicting_keys() -> None:
    assert set(config.CONFLICTING_KEYS) == {
        "web_identity_token_file", "sso_role_name", "sso_account_id", "aws_access_key_id",
        "role_arn", "credential_process"}
    assert set(config.CREDENTIAL_KINDS) == set(config.CONFLICTING_KEYS)


def signin_endpoint(profile: str) -> str:
    """The base URL where botocore really sends `signin` requests for *profile*."""
    url = botocore_token_url("us-west-2", profile)
    assert url.endswith("/v1/token"), url
    return url.removesuffix("/v1/token")


def test_set_services_endpoint_new_section(aws_home) -> None:
    write(aws_home, "[profile dev]\nregion = eu-west-1\n")
    config.set_services_endpoint("dev", "http://127.0.0.1:9999")
    assert config.read_profile("dev")["services"] == "awslogin-dev"
    assert signin_endpoint("dev") == "http://127.0.0.1:9999"
    # idempotent, and a later change replaces the value in place
    config.set_services_endpoint("dev", "http://127.0.0.1:8888")
    text = aws_home.config.read_text()
    assert text.count("[services awslogin-dev]") == 1
    assert signin_endpoint("dev") == "http://127.0.0.1:8888"


def test_set_services_endpoint_existing_services(aws_home) -> None:
    write(aws_home, "[default]\nservices = mine\n\n[services mine]\ns3 =\n  endpoint_url = http://s3\n"
          "signin =\n  endpoint_url = http://old\n  foo = bar\n")
    config.set_services_endpoint("default", "http://127.0.0.1:7777")
    assert signin_endpoint("default") == "http://127.0.0.1:7777"
    assert config.read_section("services mine") == {
        "s3": {"endpoint_url": "http://s3"},
        "signin": {"endpoint_url": "http://127.0.0.1:7777", "foo": "bar"},
    }
    assert "awslogin-" not in aws_home.config.read_text()


# --- property test: random files, one edit, every other line kept ----------------------------

NAMES = ["default", "dev", "prod", "a.b", "x-y"]
KEYS = ["region", "output", "login_session", "services", "k_1", "zz"]
value_text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="[]#;"),
    min_size=1, max_size=12,
)
spacing = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def config_files(draw) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from(["# lead", "; lead", "", "   "])))
    sections = draw(st.lists(
        st.sampled_from(["default", "profile dev", "profile prod", "profile  dev",
                         "profile a.b", "services s", "sso-session z", "plain", "profile x-y"]),
        unique=True, max_size=6))
    for header in sections:
        lines.append(draw(st.sampled_from(["", " "])) + f"[{header}]"
                     + draw(st.sampled_from(["", "  "])))
        keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4))
        base = draw(st.sampled_from(["", "  "]))
        for key in keys:
            delim = draw(st.sampled_from(["=", ":"]))
            lines.append(f"{base}{key}{draw(spacing)}{delim}{draw(spacing)}{draw(value_text)}"
                         f"{draw(st.sampled_from(['', ' ']))}")
            for _ in range(draw(st.integers(0, 2))):
                lines.append(draw(st.sampled_from([
                    base + "    cont = x", base + "   more", "", "# inner", base + "  ; c"])))
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from(["", "# after", ";x"])))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.booleans()) and text:
        text += newline
    return text


def parse(text: str) -> configparser.RawConfigParser:
    cp = configparser.RawConfigParser()
    cp.read_string(text.replace("\r\n", "\n"))
    return cp


def canonical(header: str):
    if header == "default":
        return ("profile", "default")
    for kind in ("profile", "services", "sso-session"):
        if header.startswith(kind):
            parts = shlex.split(header)
            return (kind, parts[1]) if len(parts) == 2 else None
    return (header,)


def snapshot(cp: configparser.RawConfigParser) -> dict:
    return {s: dict(cp.items(s)) for s in cp.sections()}


def key_like(line: str) -> bool:
    return line[:1] in (" ", "\t") or line.strip() == "" or line.lstrip().startswith(tuple(KEYS))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=config_files(), name=st.sampled_from(NAMES), key=st.sampled_from(KEYS),
       value=value_text)
def test_property_edit_keeps_everything_else(aws_home, text, name, key, value) -> None:
    try:
        before = parse(text)
    except configparser.Error:
        assume(False)
    aws_home.config.write_bytes(text.encode())
    section = config.section_name(name)
    config.update_section(section, {key: value})
    new = aws_home.config.read_bytes().decode()

    # configparser: the value reads back in the section botocore uses; nothing else changed
    after = parse(new)
    target = [s for s in after.sections() if canonical(s) == canonical(section)][-1]
    assert after.get(target, key) == value
    expected = snapshot(before)
    expected.setdefault(target, {})[key] = value
    assert snapshot(after) == expected

    # botocore's own loader agrees
    loaded = botocore.configloader.load_config(str(aws_home.config))
    assert loaded["profiles"][name][key] == value

    # comments and blank lines all survive, in order; other lines only ever lose key lines
    def keep(t: str) -> list[str]:
        return [ln for ln in t.replace("\r\n", "\n").split("\n")
                if ln.strip().startswith(("#", ";"))]
    assert keep(new) == keep(text)
    old_lines = text.replace("\r\n", "\n").split("\n")
    new_lines = new.replace("\r\n", "\n").split("\n")
    removed = [ln for ln in old_lines if ln not in new_lines]
    assert all(key_like(ln) for ln in removed)
    if target not in before.sections():
        assert new.startswith(text)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=config_files(), name=st.sampled_from(NAMES), key=st.sampled_from(KEYS),
       nested=st.dictionaries(st.sampled_from(["endpoint_url", "foo", "x_y"]), value_text,
                              min_size=1, max_size=3),
       drop=st.sampled_from(KEYS))
def test_property_nested_value_and_remove(aws_home, text, name, key, nested, drop) -> None:
    assume(key != drop)
    try:
        before = parse(text)
    except configparser.Error:
        assume(False)
    aws_home.config.write_bytes(text.encode())
    section = config.section_name(name)
    config.update_section(section, {key: nested}, remove=(drop,))
    new = aws_home.config.read_bytes().decode()
    after = parse(new)
    target = [s for s in after.sections() if canonical(s) == canonical(section)][-1]
    assert not after.has_option(target, drop)
    expected = snapshot(before)
    expected.setdefault(target, {}).pop(drop, None)
    expected[target][key] = after.get(target, key)
    assert snapshot(after) == expected
    loaded = botocore.configloader.load_config(str(aws_home.config))
    assert loaded["profiles"][name][key] == nested
    assert drop not in loaded["profiles"][name]
    assert config.read_profile(name)[key] == nested


EDITOR = """
import os, sys, time
from awslogin.store import config
name, go = sys.argv[1], sys.argv[2]
print("ready", flush=True)
while not os.path.exists(go):  # start together, so the edits really contend
    time.sleep(0.001)
for i in range(40):
    config.update_section(config.section_name(name), {"counter": str(i)})
print("done", flush=True)
"""


def test_concurrent_edits_of_different_profiles_all_land(aws_home, tmp_path) -> None:
    import subprocess
    import sys

    write(aws_home, "# shared file\n[default]\nregion = us-east-1\n")
    go = tmp_path / "go"
    names = [f"p{i}" for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-c", EDITOR, n, str(go)], env=aws_home.env,
                              stdout=subprocess.PIPE, text=True) for n in names]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    go.touch()
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.strip() == "done"
    for name in names:  # without the edit lock, most of these lose their later writes
        assert config.read_profile(name) == {"counter": "39"}
    assert aws_home.config.read_text().startswith("# shared file\n[default]\nregion = us-east-1\n")
