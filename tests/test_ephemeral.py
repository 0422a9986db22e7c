"""`exec --ephemeral` in memory: single-flight refresh, the newest refresh token, the region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from awslogin import ephemeral
from awslogin.errors import AwsloginError, UsageError

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Token:
    """The fields of signin.TokenResult that the session reads."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_in: int
    refresh_token: str
    id_token: str | None
    expires_at: datetime


def token(n: int, *, expires_at: datetime, refresh_token: str | None = None) -> Token:
    return Token(f"ASIA{n:016d}", f"secret{n}", f"session{n}", 900,
                 f"refresh{n}" if refresh_token is None else refresh_token, None, expires_at)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_fresh_credentials_are_served_without_a_refresh() -> None:
    clock = Clock()
    calls: list[str] = []
    session = ephemeral.EphemeralSession(
        token(1, expires_at=T0 + timedelta(minutes=15)), account_id="111122223333",
        refresh=lambda rt: calls.append(rt), now=clock,
    )
    creds = session.credentials()
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token) == (
        "ASIA0000000000000001", "secret1", "session1")
    assert creds.expiration == T0 + timedelta(minutes=15)
    assert creds.account_id == "111122223333"
    assert calls == []


def test_refreshes_under_five_minutes_and_keeps_the_newest_refresh_token() -> None:
    clock = Clock()
    used: list[str] = []
    issued = iter(range(2, 10))

    def refresh(refresh_token: str) -> Token:
        used.append(refresh_token)
        n = next(issued)
        # the third answer does not rotate the refresh token: the previous one stays in use
        return token(n, expires_at=clock.now + timedelta(minutes=15),
                     refresh_token="" if n == 3 else None)

    session = ephemeral.EphemeralSession(
        token(1, expires_at=T0 + timedelta(minutes=15)), account_id="1", refresh=refresh,
        now=clock,
    )
    clock.now = T0 + timedelta(minutes=10, seconds=1)  # 4:59 left
    assert session.credentials().access_key_id.endswith("2")
    clock.now += timedelta(minutes=10, seconds=1)
    assert session.credentials().access_key_id.endswith("3")
    clock.now += timedelta(minutes=10, seconds=1)
    assert session.credentials().access_key_id.endswith("4")
    assert used == ["refresh1", "refresh2", "refresh2"]
    assert session.refreshes == 3


def test_concurrent_callers_share_one_refresh() -> None:
    clock = Clock()
    gate = threading.Event()
    calls: list[str] = []

    def slow_refresh(refresh_token: str) -> Token:
        calls.append(refresh_token)
        gate.wait(10)
        return token(2, expires_at=clock.now + timedelta(minutes=15))

    session = ephemeral.EphemeralSession(
        token(1, expires_at=T0 + timedelta(seconds=10)), account_id="1", refresh=slow_refresh,
        now=clock,
    )
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(session.credentials().access_key_id))
               for _ in range(8)]
    for t in threads:
        t.start()
    # wait (with a bound) until the first caller is inside the refresh, then let it finish
    for _ in range(1000):
        if calls:
            break
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(10)
    assert calls == ["refresh1"]
    assert results == ["ASIA0000000000000002"] * 8


def test_a_failed_refresh_serves_still_valid_credentials_then_fails(caplog) -> None:
    clock = Clock()

    def failing(refresh_token: str) -> Token:
        raise AwsloginError("Could not reach the AWS Sign-In endpoint http://x.")

    session = ephemeral.EphemeralSession(
        token(1, expires_at=T0 + timedelta(minutes=4)), account_id="1", refresh=failing,
        now=clock,
    )
    assert session.credentials().access_key_id.endswith("1")  # 4 min left: keep serving
    assert "could not refresh" in caplog.text
    clock.now = T0 + timedelta(minutes=3, seconds=50)  # 10 s left: now it is an error
    with pytest.raises(AwsloginError, match="Could not reach"):
        session.credentials()
    assert "secret1" not in caplog.text and "refresh1" not in caplog.text


def test_forget_drops_the_secrets() -> None:
    session = ephemeral.EphemeralSession(
        token(1, expires_at=T0), account_id="1", refresh=lambda rt: None, now=Clock(),
    )
    session.forget()
    assert "secret1" not in repr(vars(session)) and "refresh1" not in repr(vars(session))
    with pytest.raises(AwsloginError):
        session.credentials()


@pytest.mark.parametrize(
    ("explicit", "environ", "profile_region", "expected"),
    [
        ("eu-west-1", {"AWS_REGION": "us-west-2"}, "ap-south-1", ("eu-west-1", "--region")),
        (None, {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "x"}, "ap-south-1",
         ("us-west-2", "$AWS_REGION")),
        (None, {"AWS_DEFAULT_REGION": "ca-central-1"}, "ap-south-1",
         ("ca-central-1", "$AWS_DEFAULT_REGION")),
        (None, {}, "ap-south-1", ("ap-south-1", "profile work")),
        (None, {}, None, ("us-east-1", "the default; use --region to choose another")),
    ],
)
def test_region_order(aws_home, explicit, environ, profile_region, expected) -> None:
    text = "[default]\nregion = sa-east-1\n"
    if profile_region:
        text += f"[profile work]\nregion = {profile_region}\n"
    aws_home.config.write_text(text)
    before = aws_home.config.read_bytes()
    assert ephemeral.choose_region(explicit, "work", environ) == expected
    assert aws_home.config.read_bytes() == before


def args(**overrides) -> SimpleNamespace:
    base = dict(profile=None, region="eu-west-1", endpoint_url="http://127.0.0.1:9",
                remote=True, no_browser=False, redirect_port=None, timeout=600.0, qr=False,
                copy=False, env=False, command=["--", "true"])
    base.update(overrides)
    return SimpleNamespace(**base)


@pytest.mark.parametrize("command", [[], ["--"], None])
def test_a_missing_command_is_a_usage_error_before_any_sign_in(command, monkeypatch) -> None:
    monkeypatch.setattr(ephemeral, "sign_in", lambda *a: pytest.fail("signed in"))
    with pytest.raises(UsageError, match="after '--'"):
        ephemeral.run_ephemeral(args(command=command))


def test_run_ephemeral_wires_login_refresh_and_runner(aws_home, monkeypatch) -> None:
    """With fakes for the flow, the Sign-In client and the runner: what goes where."""
    from awslogin import runner, signin

    first = token(1, expires_at=datetime.now(timezone.utc) + timedelta(seconds=30))
    seen: dict = {}

    def fake_sign_in(a, base_url):
        seen["base_url"] = base_url
        return SimpleNamespace(login_session="arn:aws:sts::1:assumed-role/R/a",
                               account_id="111122223333", base_url=base_url,
                               client_id="arn:aws:signin:::devtools/cross-device", key="KEY",
                               token=first, clock_offset=0.0)

    class FakeClient:
        def __init__(self, base_url):
            seen["client_base"] = base_url

        def refresh(self, *, client_id, refresh_token, key):
            seen["refresh"] = (client_id, refresh_token, key)
            return replace(first, access_key_id="ASIANEW",
                           expires_at=datetime.now(timezone.utc) + timedelta(minutes=15))

    def fake_run(command, source, *, region, static_env=False, extra_env=None):
        seen["run"] = (command, region, static_env)
        seen["creds"] = source().access_key_id
        return 7

    monkeypatch.setattr(ephemeral, "sign_in", fake_sign_in)
    monkeypatch.setattr(signin, "SigninClient", FakeClient)
    monkeypatch.setattr(runner, "run_command", fake_run)
    assert ephemeral.run_ephemeral(args(command=["--", "aws", "s3", "ls"], env=True)) == 7
    assert seen["base_url"] == seen["client_base"] == "http://127.0.0.1:9"
    assert seen["run"] == (["aws", "s3", "ls"], "eu-west-1", True)
    assert seen["refresh"] == ("arn:aws:signin:::devtools/cross-device", "refresh1", "KEY")
    assert seen["creds"] == "ASIANEW"
    assert sorted(p.name for p in aws_home.root.rglob("*")) == [".aws"]


def test_sign_in_opens_no_browser_on_a_headless_host_without_a_terminal(monkeypatch):
    # the same choice as login: nobody can paste and there is no browser, so print the URL
    from awslogin.login import detect, flows

    captured = {}
    monkeypatch.setattr(detect, "stdin_isatty", lambda: False)
    monkeypatch.setattr(detect.sys, "platform", "linux")
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY",
                 "SSH_CLIENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(flows, "perform_login",
                        lambda options, **kw: captured.setdefault("options", options))
    ephemeral.sign_in(args(remote=None), "http://127.0.0.1:1")
    assert captured["options"].remote is False
    assert captured["options"].open_browser is False


def test_redirect_port_with_remote_is_refused_before_any_sign_in(monkeypatch) -> None:
    monkeypatch.setattr(ephemeral, "sign_in", lambda *a, **k: pytest.fail("signed in"))
    with pytest.raises(UsageError, match="--redirect-port"):
        ephemeral.run_ephemeral(args(remote=True, redirect_port=8400))
