"""PKCE and state of a pending login (SECURITY.md B4, PROTOCOL.md §1)."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import uuid
from urllib.parse import parse_qs, urlsplit

from awslogin.login import pending

VERIFIER_ALPHABET = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def test_verifier_length_alphabet_and_entropy() -> None:
    verifiers = {pending.new_code_verifier() for _ in range(200)}
    assert len(verifiers) == 200  # never repeats
    for v in verifiers:
        assert VERIFIER_ALPHABET.fullmatch(v)
    # token_urlsafe draws 6 random bits per character: at least 256 bits in total
    v = next(iter(verifiers))
    assert len(v) * math.log2(64) >= 256


def test_challenge_is_unpadded_base64url_sha256() -> None:
    v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
    assert pending.code_challenge(v) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    digest = hashlib.sha256(v.encode()).digest()
    assert pending.code_challenge(v) + "=" == base64.urlsafe_b64encode(digest).decode()
    assert len(pending.code_challenge(pending.new_code_verifier())) == 43


def test_state_is_a_fresh_uuid4() -> None:
    states = {pending.new_state() for _ in range(50)}
    assert len(states) == 50
    for s in states:
        assert uuid.UUID(s).version == 4
        assert str(uuid.UUID(s)) == s


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, strict_parsing=True)


def test_same_device_authorize_url() -> None:
    p = pending.start_same_device("https://us-east-1.signin.aws.amazon.com/", 52084)
    assert p.redirect_uri == "http://127.0.0.1:52084/oauth/callback"
    assert p.client_id == "arn:aws:signin:::devtools/same-device"
    url = p.authorize_url
    assert url.startswith("https://us-east-1.signin.aws.amazon.com/v1/authorize?response_type=code")
    # the AWS CLI's encoding: ':' and '/' percent-encoded
    assert "client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A52084%2Foauth%2Fcallback" in url
    q = _query(url)
    assert q == {
        "response_type": ["code"],
        "client_id": [p.client_id],
        "state": [p.state],
        "code_challenge_method": ["SHA-256"],
        "scope": ["openid"],
        "redirect_uri": [p.redirect_uri],
        "code_challenge": [pending.code_challenge(p.code_verifier)],
    }
    assert list(q) == [  # parameter order as the AWS CLI sends it
        "response_type", "client_id", "state", "code_challenge_method", "scope",
        "redirect_uri", "code_challenge",
    ]


def test_cross_device_authorize_url() -> None:
    p = pending.start_cross_device("https://ap-northeast-1.signin.aws.amazon.com")
    assert p.client_id == "arn:aws:signin:::devtools/cross-device"
    assert p.redirect_uri == "https://ap-northeast-1.signin.aws.amazon.com/v1/sessions/confirmation"
    assert _query(p.authorize_url)["redirect_uri"] == [p.redirect_uri]


def test_verifier_is_not_in_repr() -> None:
    p = pending.start_cross_device("https://x.example")
    assert p.code_verifier not in repr(p)


def test_each_start_is_fresh() -> None:
    a = pending.start_cross_device("https://x.example")
    b = pending.start_cross_device("https://x.example")
    assert a.state != b.state and a.code_verifier != b.code_verifier
