"""The emulator's in-memory state: bounded tables, purging, thread safety (unit tests)."""

from __future__ import annotations

import threading

import pytest

from awslogin.emulator import state as st
from awslogin.emulator.identities import parse_identity
from awslogin.emulator.state import (
    AccessKey,
    CodeRecord,
    Faults,
    Session,
    Settings,
    Store,
    token_hash,
)

ARN = "arn:aws:sts::111122223333:assumed-role/Developer/alice"


def make_store(**settings) -> Store:
    return Store(Settings(identities=[parse_identity(ARN)], **settings), Faults())


def code(expires: float) -> CodeRecord:
    return CodeRecord("client", "uri", "challenge", ARN, expires)


def test_codes_are_stored_by_hash_only() -> None:
    store = make_store()
    store.add_code("the-code", code(store.now() + 60))
    assert "the-code" not in store.codes
    assert token_hash("the-code") in store.codes


def test_tables_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(st, "MAX_CODES", 5)
    monkeypatch.setattr(st, "MAX_JTIS", 3)
    store = make_store()
    for i in range(12):
        store.add_code(f"c{i}", code(store.now() + 60))
        store.remember_jti(f"j{i}", store.now() + 60)
    assert len(store.codes) == 5 and token_hash("c11") in store.codes
    assert len(store.jtis) == 3 and "j11" in store.jtis


def test_jti_replay_is_detected() -> None:
    store = make_store()
    assert store.remember_jti("j", store.now() + 60)
    assert not store.remember_jti("j", store.now() + 60)


def test_purge_drops_expired_entries() -> None:
    store = make_store(code_ttl=60, session_ttl=60)
    now = store.now()
    past_retention = now - st.RETAIN_EXPIRED_MIN - 1
    store.add_code("old", code(past_retention))
    store.add_code("expired", code(now - 1))
    store.add_code("new", code(now + 60))
    store.remember_jti("old", now - 1)
    store.remember_jti("new", now + 60)
    store.add_session("dead", Session(ARN, "client", "jkt", past_retention))
    store.add_session("expired", Session(ARN, "client", "jkt", now - 1))
    store.add_session("live", Session(ARN, "client", "jkt", now + 60))
    store.add_refresh_token("dead-token", "dead")
    store.add_refresh_token("expired-token", "expired")
    store.add_refresh_token("live-token", "live")
    store.add_access_key("AKOLD", AccessKey("s", "t", ARN, now - st.KEEP_EXPIRED - 1, "dead"))
    store.add_access_key("AKRECENT", AccessKey("s", "t", ARN, now - 1, "live"))
    store.purge()
    # expired codes and sessions stay a while, so that the grants can say "expired" (A11, A14)
    assert list(store.codes) == [token_hash("expired"), token_hash("new")]
    assert list(store.jtis) == ["new"]
    assert list(store.sessions) == ["expired", "live"]
    assert list(store.refresh_tokens) == [token_hash("expired-token"), token_hash("live-token")]
    # an expired key is still known for a while, so that STS can answer ExpiredToken
    assert list(store.access_keys) == ["AKRECENT"]


@pytest.mark.parametrize("rotation,kept", [("aws", False), ("strict", True)])
def test_used_refresh_tokens_kept_only_for_strict_reuse_detection(rotation, kept) -> None:
    store = make_store(refresh_rotation=rotation)
    store.add_session("s", Session(ARN, "client", "jkt", store.now() + 3600))
    store.add_refresh_token("used", "s")
    store.refresh_tokens[token_hash("used")].used_at = store.now() - st.REFRESH_GRACE - 1
    store.purge()
    assert (token_hash("used") in store.refresh_tokens) is kept


def test_revoking_a_session_drops_its_keys() -> None:
    store = make_store()
    store.add_session("s", Session(ARN, "client", "jkt", store.now() + 3600))
    store.add_access_key("AK1", AccessKey("s", "t", ARN, store.now() + 60, "s"))
    store.add_access_key("AK2", AccessKey("s", "t", ARN, store.now() + 60, "other"))
    store.revoke_session("s")
    assert store.sessions["s"].revoked
    assert list(store.access_keys) == ["AK2"]


def test_clock_offset_moves_now() -> None:
    store = make_store()
    before = store.now()
    store.faults.clock_offset = -1000
    assert store.now() < before - 900


def test_concurrent_jtis_are_each_accepted_once() -> None:
    store = make_store()
    accepted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for i in range(200):
            ok = store.remember_jti(f"j{i}", store.now() + 60)
            with lock:
                accepted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert accepted.count(True) == 200
