"""dpop.py: P-256 keys in the cache's PEM forms, RFC 7638 thumbprints, RFC 9449 proofs."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from awslogin import dpop
from awslogin.errors import CacheError

URL = "http://127.0.0.1:8080/v1/token"


def b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def split(proof: str) -> tuple[dict, dict, bytes, bytes]:
    h, p, s = proof.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), b64d(s), f"{h}.{p}".encode()


def verify(proof: str, public: ec.EllipticCurvePublicKey) -> None:
    _, _, sig, signing_input = split(proof)
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))


def test_pem_roundtrip_is_sec1_like_aws_cli() -> None:
    key = dpop.generate_key()
    pem = dpop.key_to_pem(key)
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert dpop.load_key(pem).private_numbers() == key.private_numbers()


def test_load_pkcs8() -> None:
    key = dpop.generate_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert dpop.load_key(pem).private_numbers() == key.private_numbers()


def other_pems() -> list[str]:
    p384 = ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ed = ed25519.Ed25519PrivateKey.generate()
    out = []
    for key, fmt in ((p384, serialization.PrivateFormat.TraditionalOpenSSL),
                     (rsa_key, serialization.PrivateFormat.PKCS8),
                     (ed, serialization.PrivateFormat.PKCS8)):
        out.append(key.private_bytes(serialization.Encoding.PEM, fmt,
                                     serialization.NoEncryption()).decode())
    return out


@pytest.mark.parametrize("pem", [*other_pems(), "", "garbage", "-----BEGIN EC PRIVATE KEY-----\n"
                                 "AAAA\n-----END EC PRIVATE KEY-----\n", "caf\u00e9"])
def test_load_rejects_everything_else(pem) -> None:
    with pytest.raises(CacheError) as err:
        dpop.load_key(pem)
    assert "awslogin login" in str(err.value)
    assert "PRIVATE" not in str(err.value)


def test_rfc7638_example_vector() -> None:
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
             "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
             "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q"
             "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
             "apJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert dpop.thumbprint_of_jwk(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_ec_thumbprint_uses_canonical_members() -> None:
    import hashlib

    key = dpop.generate_key()
    jwk = dpop.public_jwk(key)
    canonical = '{"crv":"P-256","kty":"EC","x":"' + jwk["x"] + '","y":"' + jwk["y"] + '"}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    assert dpop.jwk_thumbprint(key) == expected.rstrip(b"=").decode()
    assert dpop.jwk_thumbprint(key) != dpop.jwk_thumbprint(dpop.generate_key())


def test_proof_shape_and_signature() -> None:
    key = dpop.generate_key()
    now = 1_700_000_000.9
    proof = dpop.dpop_proof(key, URL, now=now)
    header, payload, _, _ = split(proof)
    assert header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.public_jwk(key)}
    assert "d" not in header["jwk"] and header["jwk"]["crv"] == "P-256"
    assert set(payload) == {"htm", "htu", "iat", "jti"}
    assert payload["htm"] == "POST" and payload["htu"] == URL and payload["iat"] == 1_700_000_000
    import uuid
    assert uuid.UUID(payload["jti"]).version == 4
    assert "=" not in proof
    verify(proof, key.public_key())
    again = split(dpop.dpop_proof(key, URL, now=now))[1]
    assert again["jti"] != payload["jti"]


def test_same_shape_as_botocore_and_verifiable_by_crt() -> None:
    """botocore's own proof (awscrt) and ours have the same header and claims layout."""
    from awscrt.crypto import EC
    from botocore.credentials import _build_dpop_header

    key = dpop.generate_key()
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    crt_key = EC.new_key_from_der_data(der)
    theirs = _build_dpop_header(crt_key, URL, uid="00000000-0000-4000-8000-000000000000",
                                ts=1_700_000_000)
    ours = dpop.dpop_proof(key, URL, now=1_700_000_000)
    th, tp, _, _ = split(theirs)
    oh, op, _, _ = split(ours)
    assert json.dumps(th) == json.dumps(oh)  # same members, same order
    assert list(tp) == list(op) and tp["iat"] == op["iat"] and tp["htu"] == op["htu"]
    # the header segment is byte-identical; both verify with the same public key
    assert theirs.split(".")[0] == ours.split(".")[0]
    verify(theirs, key.public_key())
    verify(ours, key.public_key())


def test_iat_follows_now_argument() -> None:
    key = dpop.generate_key()
    skewed = time.time() + 3600
    assert split(dpop.dpop_proof(key, URL, now=skewed))[1]["iat"] == int(skewed)
