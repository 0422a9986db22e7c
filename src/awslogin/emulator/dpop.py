"""DPoP proof verification (RFC 9449 §4.3), as SECURITY.md A6-A9 asks of the token endpoint."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_B64URL = re.compile(r"[A-Za-z0-9_-]*")  # fullmatch: `$` would allow a final newline
MAX_PROOF_LENGTH = 4096


class DpopError(Exception):
    """A proof that must be refused; `code` is the error code sent back."""

    def __init__(self, message: str, code: str = "INVALID_REQUEST") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Proof:
    """What a verified proof tells the token endpoint."""

    jkt: str  # RFC 7638 thumbprint of the proof's public key
    jti: str
    iat: int


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DpopError("The DPoP proof is not valid base64url.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DpopError("The DPoP proof is not valid base64url.")


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC public JWK."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def _json_part(text: str, what: str) -> dict:
    try:
        value = json.loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError):
        raise DpopError(f"The DPoP proof {what} is not JSON.")
    if not isinstance(value, dict):
        raise DpopError(f"The DPoP proof {what} is not a JSON object.")
    return value


def _public_key(jwk: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, dict):
        raise DpopError("The DPoP proof header has no jwk.")
    if "d" in jwk:
        raise DpopError("The DPoP proof jwk contains a private key.")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise DpopError("The DPoP proof jwk must be an EC P-256 key.")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise DpopError("The DPoP proof jwk has no x and y.")
    xb, yb = b64url_decode(x), b64url_decode(y)
    if len(xb) != 32 or len(yb) != 32:
        raise DpopError("The DPoP proof jwk coordinates must be 32 bytes.")
    try:
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
        )
        return numbers.public_key()
    except ValueError:
        raise DpopError("The DPoP proof jwk is not a point on P-256.")


def normalise_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) with scheme/host lower-cased and default ports filled in."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # urlsplit's hostname drops userinfo, which would make u:p@host "equal" host.
        raise DpopError("The DPoP proof htu must not contain user information.")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise DpopError("The DPoP proof htu is not a valid URL.")
    if port is None:
        port = 443 if scheme == "https" else 80
    return scheme, (parts.hostname or "").lower(), port, parts.path or "/"


def verify_proof(
    headers: list[str],
    request_url: str,
    *,
    now: float,
    iat_past: int,
    iat_future: int,
    nonces: tuple[str, ...] = (),
) -> Proof:
    """Check the DPoP header values of a token request; DpopError says why one is refused.

    *request_url* is the URL the request reached; *nonces* the nonces currently accepted
    (empty: nonce mode off). Replay (`jti`) is checked by the caller, which owns the memory.
    """
    if len(headers) != 1:
        raise DpopError("Send exactly one DPoP header.")
    proof = headers[0].strip()
    if len(proof) > MAX_PROOF_LENGTH:
        raise DpopError("The DPoP proof is too long.")
    parts = proof.split(".")
    if len(parts) != 3:
        raise DpopError("The DPoP proof is not a compact JWS.")
    header = _json_part(parts[0], "header")
    if header.get("typ") != "dpop+jwt":
        raise DpopError("The DPoP proof typ must be dpop+jwt.")
    if header.get("alg") != "ES256":
        raise DpopError("The DPoP proof alg must be ES256.")
    key = _public_key(header.get("jwk"))
    signature = b64url_decode(parts[2])
    if len(signature) != 64:
        raise DpopError("The DPoP proof signature must be 64 bytes (r||s).")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise DpopError("The DPoP proof signature does not verify.")
    claims = _json_part(parts[1], "payload")
    jti, htm, htu, iat = (claims.get(k) for k in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise DpopError("The DPoP proof has no valid jti.")
    if htm != "POST":
        raise DpopError("The DPoP proof htm must be POST.")
    if not isinstance(htu, str) or normalise_url(htu) != normalise_url(request_url):
        raise DpopError("The DPoP proof htu does not match the token endpoint URL.")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise DpopError("The DPoP proof has no valid iat.")
    if not now - iat_past <= iat <= now + iat_future:
        raise DpopError(
            "The DPoP proof iat is outside the accepted window: check this computer's clock."
        )
    if nonces and claims.get("nonce") not in nonces:
        raise DpopError("Send the DPoP-Nonce value in the proof.", code="use_dpop_nonce")
    return Proof(jkt=jwk_thumbprint(header["jwk"]), jti=jti, iat=int(iat))
