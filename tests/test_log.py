"""`log.redact`: secrets from a real login against the emulator never survive; names do."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awslogin import dpop, signin
from awslogin.log import MASK, redact
from awslogin.login.pending import start_same_device
from awslogin.store.cache import cache_path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def _authorization_code(authorize_url: str) -> str:
    """What the browser would carry to the callback: the auto-approving emulator's redirect."""
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(authorize_url, timeout=30)
    assert info.value.code == 302
    location = info.value.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


@pytest.fixture
def real_login(aws_home, emulator) -> dict[str, str]:
    """Every secret (and every public name) of one real same-device login."""
    pending = start_same_device(emulator.url, 50123)
    code = _authorization_code(pending.authorize_url)
    token = signin.SigninClient(emulator.url).exchange_code(
        client_id=pending.client_id, code=code, code_verifier=pending.code_verifier,
        redirect_uri=pending.redirect_uri, key=dpop.generate_key(),
    )
    arn = signin.arn_from_id_token(token.id_token)
    return {
        "code": code,
        "verifier": pending.code_verifier,
        "refresh_token": token.refresh_token,
        "secret_access_key": token.secret_access_key,
        "session_token": token.session_token,
        "id_token": token.id_token,
        # public, must stay readable in --debug output
        "state": pending.state,
        "challenge": pending.code_challenge,
        "access_key_id": token.access_key_id,
        "arn": arn,
        "cache_path": str(cache_path(arn)),
    }


SECRETS = ("code", "verifier", "refresh_token", "secret_access_key", "session_token",
           "id_token")
CONTEXTS = ("{}", "got {} from the service", "'{}'", '"{}"', "({})", "{}\n", "[{}]",
            "value: {}.", "  File x, line 3, in f\n    {}\n")


@pytest.mark.parametrize("name", SECRETS)
def test_every_secret_of_a_real_login_is_masked_standing_alone(real_login, name) -> None:
    value = real_login[name]
    for context in CONTEXTS:
        text = redact(context.format(value))
        assert value not in text, (name, context)
        assert MASK in text


def test_the_public_names_of_a_real_login_stay_visible(real_login) -> None:
    assert real_login["access_key_id"].startswith("ASIA") and len(real_login["access_key_id"]) == 20
    for name in ("state", "access_key_id", "arn", "cache_path"):
        text = f"debug: {name} is {real_login[name]} here"
        assert redact(text) == text, name


@pytest.mark.parametrize(
    "text",
    [
        "test_same_session_again_needs_no_question",
        "test_refresh_with_429_backs_off_and_retries_forever_and_ever",
        "ThisIsAVeryLongCamelCaseClassNameWithManyWordsInIt",
        "HTTPServerAWSLoginTLSConnectionDPoPProofHandler",
        "/tmp/pytest-of-root/pytest-12/test_debug_traceback_of_a_broken_config_li0/home",
        "arn:aws:sts::111122223333:assumed-role/Developer_Role_With_A_Long_Name_2024/alice",
        "arn:aws:iam::111122223333:role/AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b",
        "5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
        "ASIAIOSFODNN7EXAMPLE",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15c6c15b0f00a08.json",
    ],
)
def test_words_paths_arns_uuids_and_hashes_are_not_masked(text: str) -> None:
    assert redact(text) == text


@given(st.integers(min_value=30, max_value=96), st.sampled_from(["", " ", "\n", "'"]))
def test_random_urlsafe_values_of_40_or_more_characters_are_masked(size, edge) -> None:
    value = secrets.token_urlsafe(size)
    assert value not in redact(f"{edge}{value}{edge}")
