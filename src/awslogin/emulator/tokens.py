"""What the emulator issues: AWS-looking credentials, opaque tokens and signed idTokens."""

from __future__ import annotations

import base64
import json
import secrets
import string

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from awslogin.emulator.dpop import b64url, jwk_thumbprint

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def new_access_key_id() -> str:
    """`ASIA` + 16 upper-case alphanumerics, like STS temporary credentials."""
    return "ASIA" + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(16))


def new_secret_access_key() -> str:
    """A 40-character secret access key."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_session_token() -> str:
    """An opaque session token of a plausible size (base64, like AWS's)."""
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(300)).decode("ascii")


def new_code() -> str:
    """An unpredictable, URL-safe authorization code (256 bits)."""
    return secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    """An unpredictable, opaque refresh token."""
    return "aorAAAAAG" + secrets.token_urlsafe(96)


class SigningKey:
    """The emulator's ES256 key for idTokens, published as a JWKS."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        self._jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
        self.kid = jwk_thumbprint(self._jwk)

    def jwks(self) -> dict:
        """The public key set served at /.well-known/jwks.json."""
        return {"keys": [{**self._jwk, "use": "sig", "alg": "ES256", "kid": self.kid}]}

    def sign(self, claims: dict) -> str:
        """A compact ES256 JWS of *claims*."""
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
