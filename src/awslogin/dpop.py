"""DPoP proofs (RFC 9449) with a P-256 key, as the AWS CLI and botocore make them.

The same key signs the code exchange and every refresh: the service binds the refresh token
to the key's RFC 7638 thumbprint. Keys are stored in the token cache as SEC1 PEM
(`BEGIN EC PRIVATE KEY`, like the AWS CLI); PKCS#8 PEM written by other tools is read too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from awslogin.errors import CacheError

_COORDINATE_BYTES = 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_key() -> ec.EllipticCurvePrivateKey:
    """Return a new P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """Return *key* as SEC1 PEM (`-----BEGIN EC PRIVATE KEY-----`), as the AWS CLI writes it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """Load a P-256 private key from SEC1 or PKCS#8 PEM; anything else raises `CacheError`."""
    problem = CacheError(
        "The DPoP key in the login cache is not a P-256 private key. Run awslogin login"
        " to sign in again."
    )
    if not isinstance(pem, str):
        raise problem
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise problem from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise problem
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """Return the public JWK of *key*: kty, x, y, crv (the order botocore uses)."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
        "crv": "P-256",
    }


_REQUIRED_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                     "OKP": ("crv", "kty", "x")}


def thumbprint_of_jwk(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint of a public JWK: sha256 of its required members in lexical order."""
    required = {name: jwk[name] for name in _REQUIRED_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def jwk_thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    """Return the RFC 7638 thumbprint (base64url sha256) of *key*'s public JWK."""
    return thumbprint_of_jwk(public_jwk(key))


def dpop_proof(key: ec.EllipticCurvePrivateKey, url: str, *, now: float) -> str:
    """Return a compact DPoP proof JWS for `POST url` issued at *now* (unix seconds)."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key)}
    payload = {"htm": "POST", "htu": url, "iat": int(now), "jti": str(uuid.uuid4())}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(payload, separators=(",", ":")).encode())
    )
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
    return f"{signing_input}.{_b64url(raw)}"
