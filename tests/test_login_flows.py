"""The flows with fake collaborators: prompt reader, URL opener, clock, Sign-In client."""

from __future__ import annotations

import base64
import configparser
import hashlib
import io
import json
import socket
import stat
import urllib.request
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awslogin import signin
from awslogin.errors import (
    AwsloginError,
    ConfigError,
    LoginCancelledError,
    LoginTimeoutError,
    ProfileConflictError,
    UsageError,
)
from awslogin.login import flows

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
BASE = "https://signin.us-east-1.amazonaws.com"


def id_token(sub: str) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': sub})}.c2ln"


class FakeClient:
    """Records the exchange instead of calling the service."""

    calls: list[dict] = []
    prepared: list[str] = []

    def __init__(self, base_url: str, **_: object) -> None:
        self.base_url = base_url
        self.clock_offset = 1.5

    def prepare(self) -> None:
        FakeClient.prepared.append(self.base_url)

    def exchange_code(self, **kwargs: object) -> signin.TokenResult:
        FakeClient.calls.append(dict(kwargs, base_url=self.base_url))
        return signin.TokenResult(
            access_key_id="ASIAFAKE", secret_access_key="s" * 40, session_token="t" * 100,
            expires_in=900, refresh_token="r" * 100, id_token=id_token(ARN),
            expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        )


@pytest.fixture
def fake_client(monkeypatch):
    FakeClient.calls = []
    FakeClient.prepared = []
    monkeypatch.setattr(signin, "SigninClient", FakeClient)
    return FakeClient


def verification(state: str, code: str = "the-code") -> str:
    return base64.b64encode(f"state={state}&code={code}".encode()).decode()


def remote_options(**kw) -> flows.LoginOptions:
    return flows.LoginOptions(base_url=BASE, remote=True, **kw)


class Answers:
    """A prompt reader that answers from a list, computing answers from the printed URL."""

    def __init__(self, out: io.StringIO, answers: list) -> None:
        self.out, self.answers, self.prompts = out, list(answers), []

    def state(self) -> str:
        url = [line for line in self.out.getvalue().splitlines() if "/v1/authorize?" in line][0]
        return url.split("state=")[1].split("&")[0]

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer(self.state()) if callable(answer) else answer


def test_cross_device_exchanges_the_pasted_code(fake_client) -> None:
    out = io.StringIO()
    read = Answers(out, ["garbage!", lambda s: f'"{verification(s)}"'])
    session = flows.perform_login(remote_options(), out=out, read_line=read, environ={})
    assert session.login_session == ARN and session.account_id == "111122223333"
    assert session.client_id == "arn:aws:signin:::devtools/cross-device"
    assert session.clock_offset == 1.5
    call = fake_client.calls[0]
    assert call["code"] == "the-code"
    assert call["redirect_uri"] == f"{BASE}/v1/sessions/confirmation"
    assert call["client_id"] == "arn:aws:signin:::devtools/cross-device"
    assert len(call["code_verifier"]) >= 43
    assert read.prompts == [flows.CODE_PROMPT] * 2
    text = out.getvalue()
    assert text.startswith("Browser will not be automatically opened.\n"
                           "Please visit the following URL:\n\n")
    assert "paste it again" in text


def test_three_bad_pastes_fail_without_exchanging(fake_client) -> None:
    out = io.StringIO()
    read = Answers(out, ["a!", "b!", lambda s: verification("other-" + s)])
    with pytest.raises(AwsloginError, match="after 3 attempts") as info:
        flows.perform_login(remote_options(), out=out, read_line=read, environ={})
    assert info.value.exit_code == 1
    assert "different login attempt" in out.getvalue()
    assert fake_client.calls == []


@pytest.mark.parametrize(("exc", "words"), [(EOFError(), "end of input"),
                                            (KeyboardInterrupt(), "cancelled")])
def test_eof_and_ctrl_c_cancel(fake_client, exc, words) -> None:
    out = io.StringIO()
    with pytest.raises(LoginCancelledError, match=words) as info:
        flows.perform_login(remote_options(), out=out, read_line=Answers(out, [exc]),
                            environ={})
    assert info.value.exit_code == 130
    assert fake_client.calls == []


def test_remote_deadline_applies_to_an_injected_reader(fake_client) -> None:
    now = [0.0]

    def slow(state_source):
        now[0] = 700.0  # the person took longer than the timeout
        return verification(state_source)

    out = io.StringIO()
    with pytest.raises(LoginTimeoutError, match="within 10 minutes, so nothing was changed"):
        flows.perform_login(remote_options(), out=out, read_line=Answers(out, [slow]),
                            environ={}, clock=lambda: now[0])
    assert fake_client.calls == []


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (1.0, "1 second"), (0.3, "0.3 seconds"), (1.5, "1.5 seconds"),
     (90, "90 seconds"), (60, "1 minute"), (600, "10 minutes"), (3600, "1 hour"),
     (7200, "2 hours"), (5400, "90 minutes"), (61, "61 seconds")],
)
def test_timeouts_are_told_in_human_units(seconds, words) -> None:
    assert flows.human_duration(seconds) == words
    message = str(flows._timeout_error(seconds))
    assert message.startswith(f"The login was not completed within {words}, so nothing")


def test_a_one_second_timeout_reads_naturally(fake_client) -> None:
    now = [0.0]

    def slow(state_source):
        now[0] = 2.0
        return verification(state_source)

    out = io.StringIO()
    with pytest.raises(LoginTimeoutError, match="within 1 second, so nothing was changed"):
        flows.perform_login(remote_options(timeout=1), out=out, read_line=Answers(out, [slow]),
                            environ={}, clock=lambda: now[0])


def test_same_device_opens_the_browser_after_binding(fake_client) -> None:
    out = io.StringIO()
    opened = []

    def browser(url: str) -> bool:
        # a browser that follows the authorize URL to the callback
        opened.append(url)
        query = url.split("?", 1)[1]
        params = dict(p.split("=", 1) for p in query.split("&"))
        redirect = urllib.request.unquote(params["redirect_uri"])
        with urllib.request.urlopen(f"{redirect}?code=abc&state={params['state']}", timeout=10):
            pass
        return True

    session = flows.perform_login(
        flows.LoginOptions(base_url=BASE, remote=False, timeout=30), out=out, open_url=browser,
        environ={},
    )
    assert session.client_id == "arn:aws:signin:::devtools/same-device"
    assert fake_client.calls[0]["code"] == "abc"
    assert fake_client.calls[0]["redirect_uri"].startswith("http://127.0.0.1:")
    assert out.getvalue().startswith("Attempting to open your default browser.\n")
    assert opened and opened[0] in out.getvalue().splitlines()


def test_same_device_failed_browser_says_remote_then_times_out(fake_client) -> None:
    out = io.StringIO()
    with pytest.raises(LoginTimeoutError, match="within 0.3 seconds"):
        flows.perform_login(flows.LoginOptions(base_url=BASE, remote=False, timeout=0.3),
                            out=out, open_url=lambda url: False, environ={})
    assert "could not be opened" in out.getvalue() and "--remote" in out.getvalue()
    assert fake_client.calls == []


def test_detected_headless_without_terminal_opens_no_browser(fake_client, monkeypatch) -> None:
    """Detection (remote=None) on a headless host with no terminal: print, never open."""
    monkeypatch.setattr(flows, "_stdin_isatty", lambda: False)
    monkeypatch.setattr("sys.platform", "linux")
    opened: list[str] = []
    out = io.StringIO()
    with pytest.raises(LoginTimeoutError):
        flows.perform_login(
            flows.LoginOptions(base_url=BASE, remote=None, timeout=0.3),  # type: ignore[arg-type]
            out=out, open_url=lambda url: bool(opened.append(url)), environ={},
        )
    text = out.getvalue()
    assert opened == []
    assert text.startswith("Printing the sign-in URL")
    assert flows.NO_BROWSER_HEADER in text
    assert "Attempting to open" not in text and "could not be opened" not in text


def test_no_browser_prints_the_port_forward_hint_over_ssh(fake_client) -> None:
    out = io.StringIO()
    with pytest.raises(LoginTimeoutError):
        flows.perform_login(
            flows.LoginOptions(base_url=BASE, remote=False, open_browser=False, timeout=0.2),
            out=out, environ={"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 22",
                              "USER": "alice"},
        )
    assert "Browser will not be automatically opened." in out.getvalue()
    assert "ssh -L" in out.getvalue()
    assert "to keep this port next time" in out.getvalue()


def test_pinned_redirect_port_is_not_advised_again(fake_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = io.StringIO()
    with pytest.raises(LoginTimeoutError):
        flows.perform_login(
            flows.LoginOptions(base_url=BASE, remote=False, open_browser=False,
                               redirect_port=port, timeout=0.2),
            out=out, environ={"SSH_CONNECTION": "203.0.113.7 52144 10.0.0.5 22",
                              "USER": "alice"},
        )
    assert f"ssh -L {port}:127.0.0.1:{port} alice@10.0.0.5" in out.getvalue()
    assert "--redirect-port" not in out.getvalue()


# ---- cache_entry and save_login -----------------------------------------------------------


@pytest.fixture
def session(fake_client) -> flows.LoginSession:
    out = io.StringIO()
    return flows.perform_login(remote_options(), out=out, environ={},
                               read_line=Answers(out, [verification]))


def test_cache_entry_has_the_protocol_shape(session) -> None:
    entry = flows.cache_entry(session)
    assert entry["accessToken"] == {
        "accessKeyId": "ASIAFAKE", "secretAccessKey": "s" * 40, "sessionToken": "t" * 100,
        "accountId": "111122223333", "expiresAt": "2030-01-02T03:04:05Z",
    }
    assert entry["tokenType"] == "aws_sigv4"
    assert entry["clientId"] == "arn:aws:signin:::devtools/cross-device"
    assert entry["refreshToken"] == "r" * 100 and entry["idToken"] == id_token(ARN)
    assert entry["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----")
    assert entry["signinEndpoint"] == BASE and entry["clockOffset"] == 1.5
    assert "signInRegion" not in entry  # unknown region: botocore falls back to the profile's


def test_cache_entry_remembers_the_login_region_for_botocore(session) -> None:
    # botocore >= 1.44 refreshes in the cache's signInRegion whatever the profile says
    session.region = "eu-west-1"
    assert flows.cache_entry(session)["signInRegion"] == "eu-west-1"


def test_save_login_writes_cache_then_profile(aws_home, session) -> None:
    aws_home.config.write_text("# mine\n[profile x]\nregion = eu-west-1\n")
    flows.save_login(session, "default", region_to_write="us-east-1", confirm_replace=None)
    cache = aws_home.cache_dir / (hashlib.sha256(ARN.encode()).hexdigest() + ".json")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    text = aws_home.config.read_text()
    assert text.startswith("# mine\n[profile x]\nregion = eu-west-1\n")
    assert f"[default]\nlogin_session = {ARN}\nregion = us-east-1" in text


@pytest.mark.parametrize("key", ["aws_access_key_id", "sso_role_name", "sso_account_id",
                                 "role_arn", "web_identity_token_file", "credential_process"])
def test_save_login_refuses_other_credentials(aws_home, session, key) -> None:
    original = f"[profile p]\n{key} = x\n"
    aws_home.config.write_text(original)
    with pytest.raises(ProfileConflictError, match=f"Profile p already uses .*{key}.*--profile"):
        flows.save_login(session, "p", region_to_write=None, confirm_replace=None)
    assert aws_home.config.read_text() == original
    assert not aws_home.cache_dir.exists()


def test_save_login_asks_before_replacing_another_session(aws_home, session) -> None:
    old = "arn:aws:iam::111122223333:user/bob"
    original = f"[default]\nlogin_session = {old}\n"
    aws_home.config.write_text(original)
    with pytest.raises(ProfileConflictError, match="no terminal.*--profile"):
        flows.save_login(session, "default", region_to_write=None, confirm_replace=None)
    questions = []
    with pytest.raises(ProfileConflictError, match="left as it was"):
        flows.save_login(session, "default", region_to_write=None,
                         confirm_replace=lambda q: questions.append(q) or False)
    assert old in questions[0] and ARN in questions[0] and questions[0].endswith("(y/n): ")
    assert aws_home.config.read_text() == original
    assert not aws_home.cache_dir.exists()
    flows.save_login(session, "default", region_to_write=None, confirm_replace=lambda q: True)
    assert f"login_session = {ARN}" in aws_home.config.read_text()


def test_same_session_again_needs_no_question(aws_home, session) -> None:
    config = f"# mine\n[default]\nlogin_session = {ARN}\noutput = json\n"
    aws_home.config.write_text(config)
    # confirm_replace=None: asking anything would raise ProfileConflictError
    flows.save_login(session, "default", region_to_write=None, confirm_replace=None)
    path = aws_home.cache_dir / (hashlib.sha256(ARN.encode()).hexdigest() + ".json")
    assert path.is_file()
    assert json.loads(path.read_text())["refreshToken"] == "r" * 100
    assert aws_home.config.read_text() == config  # unchanged, byte for byte


_names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
_values = st.from_regex(r"[A-Za-z0-9/_.:-]{1,20}", fullmatch=True)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(sections=st.dictionaries(_names.filter(lambda n: n != "default"),
                                st.dictionaries(_names.map(lambda n: "k" + n), _values,
                                                max_size=3), max_size=4),
       comment=st.sampled_from(["", "# top\n", "; semi\n\n"]))
def test_save_login_keeps_every_other_line(aws_home, session, sections, comment) -> None:
    text = comment + "".join(
        f"[profile {name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
        for name, keys in sections.items()
    )
    aws_home.config.write_text(text)
    flows.save_login(session, "default", region_to_write=None, confirm_replace=None)
    after = aws_home.config.read_text()
    assert after.startswith(text)
    parser = configparser.RawConfigParser()
    parser.read_string(after)
    assert parser.get("default", "login_session") == ARN


def test_remember_endpoint_pins_only_when_an_sdk_would_go_elsewhere(aws_home, session) -> None:
    aws_home.config.write_text("[default]\nregion = us-east-1\n")
    # the endpoint a real login in us-east-1 gets (not botocore's meta.endpoint_url, which
    # differs for signin): a matching profile needs no pin
    session.base_url = "https://us-east-1.signin.aws.amazon.com"
    assert not flows.remember_endpoint(session, "default", login_region="us-east-1")
    assert "services" not in aws_home.config.read_text()
    # the profile's region differs from the login's (aws-cli issue 10613)
    assert flows.remember_endpoint(session, "default", login_region="eu-west-1")
    text = aws_home.config.read_text()
    assert f"endpoint_url = {session.base_url}" in text
    # a custom endpoint is always pinned
    session.base_url = "http://127.0.0.1:1"
    assert flows.remember_endpoint(session, "default", login_region="us-east-1")
    assert "endpoint_url = http://127.0.0.1:1" in aws_home.config.read_text()


@pytest.mark.parametrize(
    ("name", "shown"),
    [("bad]name", "bad]name"), ("a[b", "a[b"), ("my profile", "my profile"),
     ("x\ny", "x\\ny"), ("tab\there", "tab\\there"), ("it's", "it's")],
)
def test_unwritable_profile_names_are_refused_before_anything(aws_home, session, name,
                                                              shown) -> None:
    expected = (
        f"The profile name '{shown}' cannot be written to the config file (no [ ], quotes, "
        "spaces, line breaks or control characters). Choose another --profile."
    )
    with pytest.raises(UsageError) as info:
        flows.check_profile(name, {})
    assert str(info.value) == expected
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value) and "\t" not in str(info.value)
    with pytest.raises(UsageError):
        flows.save_login(session, name, region_to_write=None, confirm_replace=None)
    assert not aws_home.cache_dir.exists() and not aws_home.config.exists()


def test_a_config_problem_shows_before_any_browser_opens(monkeypatch) -> None:
    class BrokenConfigClient(FakeClient):
        def prepare(self) -> None:
            raise ConfigError("The config file is broken.")

    monkeypatch.setattr(signin, "SigninClient", BrokenConfigClient)
    opened: list[str] = []
    with pytest.raises(ConfigError, match="broken"):
        flows.perform_login(
            flows.LoginOptions(base_url=BASE, remote=False, timeout=30), out=io.StringIO(),
            open_url=lambda url: bool(opened.append(url)), environ={},
        )
    assert opened == []  # nobody was sent to sign in with a code that could not be used


def test_a_failed_config_write_leaves_no_new_cache_file(aws_home, session, monkeypatch) -> None:
    from awslogin.store import cache, config

    def disk_full(*_args, **_kwargs):
        raise ConfigError("Cannot write the config file: No space left on device.")

    monkeypatch.setattr(config, "update_section", disk_full)
    with pytest.raises(ConfigError, match="No space"):
        flows.save_login(session, "default", region_to_write=None, confirm_replace=None)
    assert not cache.cache_path(ARN).exists()
    assert not aws_home.config.exists()


def test_a_failed_config_write_keeps_an_earlier_cache_of_the_same_session(
    aws_home, session, monkeypatch
) -> None:
    from awslogin.store import cache, config

    cache.save_token(ARN, flows.cache_entry(session))
    monkeypatch.setattr(config, "update_section",
                        lambda *a, **k: (_ for _ in ()).throw(ConfigError("No space left.")))
    with pytest.raises(ConfigError):
        flows.save_login(session, "default", region_to_write=None, confirm_replace=None)
    assert cache.cache_path(ARN).exists()
