"""The emulator's memory: settings, faults, codes, sessions, keys and seen DPoP `jti`s.

Everything lives in one `Store` guarded by one lock. Every table is bounded (the oldest
entries go first) and expired entries are purged as requests arrive (codes and sessions only
after a retention window, so they can still be reported as expired), so a long-running
emulator (or a benchmark) never grows without limit. Codes and refresh tokens are kept only
as SHA-256 hashes: the emulator never holds more than it must.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from awslogin.emulator.identities import Identity

MAX_PENDING = 1_000
MAX_CODES = 10_000
MAX_SESSIONS = 20_000
MAX_REFRESH_TOKENS = 200_000
MAX_ACCESS_KEYS = 200_000
MAX_JTIS = 200_000
PURGE_EVERY = 2.0  # seconds between purges (real time or the emulator's clock)
KEEP_EXPIRED = 3600  # seconds an expired access key is still recognised
RETAIN_EXPIRED_MIN = 600  # expired codes/sessions are kept at least this long, to say "expired"
REFRESH_GRACE = 60  # "aws" rotation: a used refresh token keeps working this long


def token_hash(value: str) -> str:
    """The key under which a code or refresh token is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Settings:
    """What the emulator was started with (fixed for its lifetime)."""

    identities: list[Identity]
    auto_approve: bool = False
    access_token_ttl: int = 900
    session_ttl: int = 43200
    code_ttl: int = 300
    refresh_rotation: str = "aws"
    dpop_nonce: bool = False
    iat_past: int = 300
    iat_future: int = 60
    base_url: str = "http://127.0.0.1:8765"

    def identity(self, arn: str) -> Identity | None:
        """The configured identity with this ARN."""
        return next((i for i in self.identities if i.arn == arn), None)


@dataclass
class Faults:
    """Fault injection (SECURITY.md A16); changed at runtime by POST /__emulator/faults."""

    throttle_next: int = 0
    error_next: int = 0
    latency_ms: int = 0
    clock_offset: float = 0.0
    credentials_changed: set[str] = field(default_factory=set)
    insufficient_permissions: set[str] = field(default_factory=set)

    def as_json(self) -> dict:
        """The faults as a JSON-able object."""
        return {
            "throttle_next": self.throttle_next,
            "error_next": self.error_next,
            "latency_ms": self.latency_ms,
            "clock_offset": self.clock_offset,
            "credentials_changed": sorted(self.credentials_changed),
            "insufficient_permissions": sorted(self.insufficient_permissions),
        }


@dataclass
class PendingAuthorization:
    """An authorize request waiting on the session page for Approve or Cancel."""

    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    csrf_token: str
    expires: float


@dataclass
class CodeRecord:
    """An authorization code, bound to its client, redirect URI, challenge and identity."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    identity: str
    expires: float
    used: bool = False
    session_id: str | None = None  # the session issued from it, revoked on reuse


@dataclass
class Session:
    """A sign-in session (a refresh-token family) bound to one DPoP key."""

    identity: str
    client_id: str
    jkt: str
    expires: float
    revoked: bool = False


@dataclass
class RefreshRecord:
    """One refresh token of a session; `used_at` is set when it is exchanged."""

    session_id: str
    used_at: float | None = None


@dataclass
class AccessKey:
    """Issued temporary credentials, for STS to verify signatures with."""

    secret: str
    session_token: str
    identity: str
    expires: float
    session_id: str


@dataclass
class Stats:
    """Counters read by tests through GET /__emulator/stats."""

    token_requests: int = 0
    code_grants: int = 0
    refresh_grants: int = 0
    errors: int = 0


def _bounded_put(table: OrderedDict, key, value, limit: int) -> None:
    table[key] = value
    while len(table) > limit:
        table.popitem(last=False)


class Store:
    """All mutable state; take `lock` around any read-modify-write of the tables."""

    def __init__(self, settings: Settings, faults: Faults) -> None:
        self.settings = settings
        self.faults = faults
        self.stats = Stats()
        self.lock = threading.RLock()
        self.pending: OrderedDict[str, PendingAuthorization] = OrderedDict()
        self.codes: OrderedDict[str, CodeRecord] = OrderedDict()
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self.refresh_tokens: OrderedDict[str, RefreshRecord] = OrderedDict()
        self.access_keys: OrderedDict[str, AccessKey] = OrderedDict()
        self.jtis: OrderedDict[str, float] = OrderedDict()
        self._last_purge = 0.0  # time.monotonic() of the last purge
        self._last_purge_clock = 0.0  # self.now() at the last purge

    def now(self) -> float:
        """The emulator's clock: real time plus the configured offset."""
        return time.time() + self.faults.clock_offset

    # -- adding -------------------------------------------------------------------------

    def add_pending(self, request_id: str, pending: PendingAuthorization) -> None:
        """Remember an authorize request shown on the session page."""
        with self.lock:
            self._maybe_purge()
            _bounded_put(self.pending, request_id, pending, MAX_PENDING)

    def add_code(self, code: str, record: CodeRecord) -> None:
        """Remember an issued authorization code (by hash)."""
        with self.lock:
            self._maybe_purge()
            _bounded_put(self.codes, token_hash(code), record, MAX_CODES)

    def add_session(self, session_id: str, session: Session) -> None:
        """Remember a new sign-in session."""
        with self.lock:
            _bounded_put(self.sessions, session_id, session, MAX_SESSIONS)

    def add_refresh_token(self, token: str, session_id: str) -> None:
        """Remember a refresh token of a session (by hash)."""
        with self.lock:
            _bounded_put(
                self.refresh_tokens, token_hash(token), RefreshRecord(session_id),
                MAX_REFRESH_TOKENS,
            )

    def add_access_key(self, key_id: str, key: AccessKey) -> None:
        """Remember issued credentials."""
        with self.lock:
            _bounded_put(self.access_keys, key_id, key, MAX_ACCESS_KEYS)

    def remember_jti(self, jti: str, until: float) -> bool:
        """Record a DPoP `jti` until *until*; False when it was already seen (a replay)."""
        with self.lock:
            self._maybe_purge()
            if jti in self.jtis:
                return False
            _bounded_put(self.jtis, jti, until, MAX_JTIS)
            return True

    def revoke_session(self, session_id: str | None) -> None:
        """Revoke a session: its refresh tokens and its credentials stop working."""
        if session_id is None:
            return
        with self.lock:
            session = self.sessions.get(session_id)
            if session is not None:
                session.revoked = True
            for key_id in [k for k, v in self.access_keys.items() if v.session_id == session_id]:
                del self.access_keys[key_id]

    # -- purging ------------------------------------------------------------------------

    def _maybe_purge(self) -> None:
        """Purge when real time or the emulator's clock (a clock_offset jump) has moved on."""
        real, clock = time.monotonic(), self.now()
        if (
            real - self._last_purge >= PURGE_EVERY
            or abs(clock - self._last_purge_clock) >= PURGE_EVERY
        ):
            self._last_purge, self._last_purge_clock = real, clock
            self.purge()

    def purge(self) -> None:
        """Drop what is expired and no longer worth remembering.

        Pending requests and jtis go at expiry. Codes and sessions stay for a retention window
        past expiry (their lifetime, at least RETAIN_EXPIRED_MIN) so that the grants can answer
        AUTHCODE_EXPIRED / TOKEN_EXPIRED rather than "not valid"; the MAX_* caps still bound
        them. Refresh tokens go with their session (or, "aws" rotation, once used and stale).
        """
        with self.lock:
            now = self.now()
            for key in [k for k, v in self.pending.items() if v.expires < now]:
                del self.pending[key]
            keep_codes = max(self.settings.code_ttl, RETAIN_EXPIRED_MIN)
            for key in [k for k, v in self.codes.items() if v.expires + keep_codes < now]:
                del self.codes[key]
            # Expired keys stay a while so that STS can say ExpiredToken rather than "unknown".
            for key in [k for k, v in self.access_keys.items() if v.expires + KEEP_EXPIRED < now]:
                del self.access_keys[key]
            keep_sessions = max(self.settings.session_ttl, RETAIN_EXPIRED_MIN)
            for key in [
                k for k, v in self.sessions.items() if v.expires + keep_sessions < now
            ]:
                del self.sessions[key]
            keep_used = self.settings.refresh_rotation == "strict"
            for key in [
                k
                for k, v in self.refresh_tokens.items()
                if v.session_id not in self.sessions
                or (not keep_used and v.used_at is not None and v.used_at + REFRESH_GRACE < now)
            ]:
                del self.refresh_tokens[key]
            for key in [k for k, until in self.jtis.items() if until < now]:
                del self.jtis[key]
