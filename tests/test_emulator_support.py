"""Test-side helpers for talking to the emulator over HTTP (no client code of awslogin).

The emulator must be checked against an independent implementation of the protocol, so these
helpers build PKCE pairs, DPoP proofs and authorize URLs themselves, and drive botocore's own
`signin` client. The few tests at the bottom check the helpers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import botocore.session
import urllib3
from botocore import UNSIGNED
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import Emulator, start_emulator, stop_emulator

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
DEFAULT_ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"
HTTP = urllib3.PoolManager(retries=False)


@contextmanager
def running(*args: str) -> Iterator[Emulator]:
    """An emulator for a whole module; it must still be running when the module is done."""
    emu = start_emulator(*args)
    try:
        yield emu
        assert emu.process.poll() is None, (
            f"the emulator died: {''.join(emu.stderr_lines)[-3000:]}"
        )
    finally:
        stop_emulator(emu)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce() -> tuple[str, str]:
    """(verifier, challenge) with a 64-character verifier, like the AWS CLI."""
    verifier = b64url(secrets.token_bytes(48))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


class DpopKey:
    """A P-256 key that signs DPoP proofs shaped like botocore's."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {
            "kty": "EC",
            "x": b64url(n.x.to_bytes(32, "big")),
            "y": b64url(n.y.to_bytes(32, "big")),
            "crv": "P-256",
        }

    @property
    def pem(self) -> str:
        """SEC1 PEM, as the AWS CLI writes to the cache."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

    def proof(self, url: str, *, header: dict | None = None, claims: dict | None = None,
              drop: tuple[str, ...] = (), signer: DpopKey | None = None) -> str:
        """A proof for POST *url*; header/claims override fields, drop removes claims."""
        h = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk, **(header or {})}
        c = {"htm": "POST", "htu": url, "iat": int(time.time()), "jti": str(uuid.uuid4()),
             **(claims or {})}
        for name in drop:
            c.pop(name, None)
        signing_input = ".".join(
            b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (h, c)
        )
        der = (signer or self).key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def authorize_url(base: str, *, client_id: str = SAME_DEVICE, redirect_uri: str | None = None,
                  state: str | None = None, challenge: str | None = None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "state": state or str(uuid.uuid4()),
        "code_challenge_method": "SHA-256",
        "scope": "openid",
        "redirect_uri": redirect_uri or default_redirect(base, client_id),
        "code_challenge": challenge or pkce()[1],
    }
    params.update(extra)
    return f"{base}/v1/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}"


def default_redirect(base: str, client_id: str) -> str:
    if client_id == CROSS_DEVICE:
        return f"{base}/v1/sessions/confirmation"
    return "http://127.0.0.1:54321/oauth/callback"


def get(url: str, **kw) -> urllib3.BaseHTTPResponse:
    return HTTP.request("GET", url, redirect=False, **kw)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Grant:
    """An approved authorization: what the code exchange needs."""

    code: str
    verifier: str
    redirect_uri: str
    client_id: str
    state: str


def auto_authorize(base: str, client_id: str = SAME_DEVICE) -> Grant:
    """Run /v1/authorize on an --auto-approve emulator and return the code."""
    verifier, challenge = pkce()
    state = str(uuid.uuid4())
    redirect_uri = default_redirect(base, client_id)
    r = get(authorize_url(base, client_id=client_id, state=state, challenge=challenge,
                          redirect_uri=redirect_uri))
    assert r.status == 302, (r.status, r.data[:300])
    location = r.headers["Location"]
    q = query_of(location)
    assert q["state"] == state
    assert location.startswith(redirect_uri + "?")
    return Grant(q["code"], verifier, redirect_uri, client_id, state)


def signin_client(base: str):
    """botocore's own `signin` client, unsigned, no retries, pointed at the emulator."""
    session = botocore.session.get_session()
    return session.create_client(
        "signin",
        region_name="us-east-1",
        endpoint_url=base,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )


def create_token(client, token_input: dict, key: DpopKey, proof: str | None = None) -> dict:
    """create_o_auth2_token with a DPoP header (a fresh proof unless one is given)."""

    def add_dpop(params, **kwargs):
        params["headers"]["DPoP"] = proof or key.proof(params["url"])

    client.meta.events.register("before-call.signin.CreateOAuth2Token", add_dpop)
    try:
        return client.create_o_auth2_token(tokenInput=token_input)
    finally:
        client.meta.events.unregister("before-call.signin.CreateOAuth2Token", add_dpop)


def exchange(base: str, grant: Grant, key: DpopKey) -> dict:
    """The code exchange through botocore; the tokenOutput."""
    out = create_token(
        signin_client(base),
        {"clientId": grant.client_id, "grantType": "authorization_code", "code": grant.code,
         "codeVerifier": grant.verifier, "redirectUri": grant.redirect_uri},
        key,
    )
    return out["tokenOutput"]


def refresh(base: str, refresh_token: str, key: DpopKey, client_id: str = SAME_DEVICE) -> dict:
    out = create_token(
        signin_client(base),
        {"clientId": client_id, "grantType": "refresh_token", "refreshToken": refresh_token},
        key,
    )
    return out["tokenOutput"]


def post_token(base: str, body: dict | bytes, *, dpop: list[str] | str | None,
               content_type: str = "application/json") -> urllib3.BaseHTTPResponse:
    """A raw POST /v1/token (for what botocore would never send)."""
    headers: list[tuple[str, str]] = [("Content-Type", content_type)]
    for value in [dpop] if isinstance(dpop, str) else dpop or []:
        headers.append(("DPoP", value))
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HTTP.request("POST", f"{base}/v1/token", body=data,
                        headers=urllib3.HTTPHeaderDict(headers))


def stats(base: str) -> dict:
    return json.loads(get(f"{base}/__emulator/stats").data)


def set_faults(base: str, **faults) -> dict:
    r = HTTP.request("POST", f"{base}/__emulator/faults", body=json.dumps(faults).encode(),
                     headers={"Content-Type": "application/json"})
    assert r.status == 200, r.data
    return json.loads(r.data)


def sts_client(base: str, creds: dict):
    session = botocore.session.get_session()
    return session.create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=base,
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
        config=Config(retries={"total_max_attempts": 1}),
    )


# -- checks of the helpers themselves --------------------------------------------------------


def test_pkce_pair_matches_s256() -> None:
    verifier, challenge = pkce()
    assert 43 <= len(verifier) <= 128
    assert len(challenge) == 43
    assert challenge == b64url(hashlib.sha256(verifier.encode()).digest())


def test_dpop_proof_has_botocore_shape() -> None:
    key = DpopKey()
    header, claims, sig = key.proof("http://127.0.0.1:1/v1/token").split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["typ"] == "dpop+jwt"
    assert set(json.loads(base64.urlsafe_b64decode(claims + "=="))) == {"htm", "htu", "iat", "jti"}
    assert len(base64.urlsafe_b64decode(sig + "==")) == 64
