"""`awslogin login`'s own decisions: region order, the region prompt, the flow choice."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from awslogin.commands import login
from awslogin.errors import LoginCancelledError, UsageError
from awslogin.login import detect


@pytest.mark.parametrize(
    ("explicit", "env", "profile", "expected"),
    [
        ("eu-west-1", {"AWS_REGION": "x", "AWS_DEFAULT_REGION": "y"}, {"region": "z"},
         "eu-west-1"),
        (None, {"AWS_REGION": "x", "AWS_DEFAULT_REGION": "y"}, {"region": "z"}, "x"),
        (None, {"AWS_DEFAULT_REGION": "y"}, {"region": "z"}, "y"),
        (None, {}, {"region": " z "}, "z"),
        (None, {"AWS_REGION": ""}, {}, None),
    ],
)
def test_region_order(explicit, env, profile, expected) -> None:
    assert login.resolve_region(explicit, profile, env) == expected


def test_known_regions_come_from_botocore() -> None:
    regions = login.known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "aws-global" not in regions


def answers(*values):
    it = iter(values)

    def read(prompt: str) -> str:
        value = next(it)
        if isinstance(value, BaseException):
            raise value
        return value

    return read


def test_region_prompt_defaults_to_us_east_1() -> None:
    out = io.StringIO()
    assert login.prompt_region(answers("\n"), out) == "us-east-1"
    assert out.getvalue().startswith("No AWS region has been configured.")


def test_region_prompt_rejects_unknown_regions() -> None:
    out = io.StringIO()
    assert login.prompt_region(answers("mars-1\n", "ap-northeast-1\n"), out) == "ap-northeast-1"
    assert "'mars-1' is not an AWS Region" in out.getvalue()
    with pytest.raises(UsageError, match="--region"):
        login.prompt_region(answers("a\n", "b\n", "c\n"), io.StringIO())
    with pytest.raises(LoginCancelledError):
        login.prompt_region(answers(EOFError()), io.StringIO())


def args(**kw) -> SimpleNamespace:
    base = {"remote": None, "no_browser": False, "redirect_port": None}
    return SimpleNamespace(**{**base, **kw})


def test_flow_choice_explicit_options_win() -> None:
    out = io.StringIO()
    assert detect.choose(args(remote=True), {}, out).remote is True
    assert detect.choose(args(remote=False), {"SSH_CONNECTION": "a b c d"}, out).remote is False
    assert out.getvalue() == ""  # nothing to explain when the user chose


@pytest.mark.parametrize("kw", [{"no_browser": True}, {"redirect_port": 8400}])
def test_flow_choice_callback_options_mean_same_device(kw) -> None:
    out = io.StringIO()
    assert detect.choose(args(**kw), {"SSH_CONNECTION": "a b c d"}, out).remote is False
    assert "--remote" in out.getvalue()


def test_flow_choice_detected_and_explained() -> None:
    out = io.StringIO()
    assert detect.choose(args(), {"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, out).remote is True
    assert "SSH" in out.getvalue() and "--no-remote" in out.getvalue()


@pytest.mark.parametrize(
    ("kw", "open_browser"),
    [({}, True), ({"remote": False}, True), ({"no_browser": True}, False),
     ({"redirect_port": 8400}, True), ({"remote": False, "no_browser": True}, False)],
)
def test_flow_choice_says_whether_to_open_a_browser(monkeypatch, kw, open_browser) -> None:
    monkeypatch.setattr(detect, "stdin_isatty", lambda: True)
    monkeypatch.setattr(detect.sys, "platform", "darwin")  # detection: a browser is there
    assert detect.choose(args(**kw), {}, io.StringIO()).open_browser is open_browser


def test_headless_without_a_terminal_means_no_browser(monkeypatch) -> None:
    monkeypatch.setattr(detect, "stdin_isatty", lambda: False)
    monkeypatch.setattr(detect.sys, "platform", "linux")
    out = io.StringIO()
    choice = detect.choose(args(), {}, out)
    assert choice.remote is False and choice.open_browser is False
    assert out.getvalue().startswith("Printing the sign-in URL")


def test_redirect_port_with_remote_is_a_usage_error_before_anything(aws_home) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "awslogin", "login", "--remote", "--redirect-port", "8400",
         "--region", "us-east-1"],
        env=aws_home.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "--redirect-port" in result.stderr and "--remote" in result.stderr
    assert "Traceback" not in result.stderr
    assert not aws_home.config.exists() and not aws_home.cache_dir.exists()
