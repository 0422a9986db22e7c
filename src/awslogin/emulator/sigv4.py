"""AWS Signature Version 4 verification (header form), written from the published spec.

The emulator recomputes the canonical request from what actually arrived (method, path,
query, the signed headers, a hash of the body), derives the signing key from the secret it
issued, and compares signatures in constant time, so any altered byte is refused.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 15 * 60
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\Z"
)
_SPACES = re.compile(r"\s+")


class SignatureError(Exception):
    """A request whose signature must be refused; `code` is the STS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Authorization:
    """The parts of a SigV4 `Authorization` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> Authorization:
    """Split the Authorization header; SignatureError when it is not SigV4."""
    if not value:
        raise SignatureError(
            "MissingAuthenticationToken", "Request is missing Authentication Token"
        )
    match = _AUTH.match(value.strip())
    if not match:
        raise SignatureError(
            "IncompleteSignature", "The request must carry a valid AWS4-HMAC-SHA256 signature."
        )
    scope = match["credential"].split("/")
    if len(scope) != 5:
        raise SignatureError("IncompleteSignature", "The credential scope is malformed.")
    signed = tuple(match["signed"].split(";"))
    if list(signed) != sorted(signed) or any(h != h.lower() for h in signed):
        raise SignatureError("SignatureDoesNotMatch", "SignedHeaders must be lower-case, sorted.")
    return Authorization(scope[0], scope[1], scope[2], scope[3], scope[4], signed,
                         match["signature"])


def _canonical_uri(raw_path: str) -> str:
    path = unquote(raw_path) or "/"
    normalised = posixpath.normpath(path)
    if path.endswith("/") and normalised != "/":
        normalised += "/"
    if normalised.startswith("//"):
        normalised = "/" + normalised.lstrip("/")
    return quote(normalised, safe="/~")


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    signed_headers: tuple[str, ...],
    payload_hash: str,
) -> str:
    """The SigV4 canonical request for what arrived."""
    lines = []
    for name in signed_headers:
        values = [_SPACES.sub(" ", v.strip()) for n, v in headers if n.lower() == name]
        if not values:
            raise SignatureError("SignatureDoesNotMatch", f"Signed header {name} is missing.")
        lines.append(f"{name}:{','.join(values)}\n")
    return "\n".join(
        [
            method,
            _canonical_uri(raw_path),
            _canonical_query(raw_query),
            "".join(lines),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived SigV4 key."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def request_time(headers: list[tuple[str, str]]) -> tuple[str, datetime.datetime]:
    """The signed request time (X-Amz-Date, else Date) as text and as UTC datetime."""
    found = {n.lower(): v.strip() for n, v in headers}
    if "x-amz-date" in found:
        text = found["x-amz-date"]
        try:
            when = datetime.datetime.strptime(text, "%Y%m%dT%H%M%SZ")
        except ValueError:
            raise SignatureError("IncompleteSignature", "X-Amz-Date is malformed.")
        return text, when.replace(tzinfo=datetime.timezone.utc)
    raise SignatureError("IncompleteSignature", "The request has no X-Amz-Date header.")


def verify(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    auth: Authorization,
    secret: str,
    service: str,
    now: float,
) -> None:
    """Check scope, time window, signed headers and signature; SignatureError otherwise."""
    amz_date, when = request_time(headers)
    if abs(when.timestamp() - now) > MAX_SKEW:
        raise SignatureError(
            "SignatureDoesNotMatch",
            "Signature expired: the request time is more than 15 minutes from the server time.",
        )
    if auth.date != amz_date[:8] or auth.service != service or auth.terminator != "aws4_request":
        raise SignatureError(
            "SignatureDoesNotMatch", f"Credential should be scoped to a valid date and '{service}'."
        )
    required = {"host", "x-amz-date"} | {
        n.lower() for n, _ in headers if n.lower() == "x-amz-security-token"
    }
    if not required <= set(auth.signed_headers):
        raise SignatureError(
            "SignatureDoesNotMatch", "Host, X-Amz-Date and X-Amz-Security-Token must be signed."
        )
    payload_hash = hashlib.sha256(body).hexdigest()
    declared = {n.lower(): v for n, v in headers}.get("x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise SignatureError("SignatureDoesNotMatch", "The payload hash does not match the body.")
    canonical = canonical_request(
        method, raw_path, raw_query, headers, auth.signed_headers, payload_hash
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            amz_date,
            f"{auth.date}/{auth.region}/{auth.service}/{auth.terminator}",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = signing_key(secret, auth.date, auth.region, auth.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, auth.signature):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
