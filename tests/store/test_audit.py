"""The audit log and accounts in the store, on SQLite and on a real Redis: entries kept, filtered,
paged and trimmed; accounts and keys written and changed with compare-and-set."""

import pytest

from app.domain import accounts, audit
from app.domain import apikeys


def entry(store, who="alice", action="alert-ack", ts=1000.0, target="a1"):
    return audit.record(store, who=who, role="operator", action=action, target=target,
                        address="192.0.2.1", now=ts)


def test_entries_come_back_newest_first_with_ids(store):
    first = entry(store, ts=1000.0)
    second = entry(store, who="bob", action="host-forget", ts=1001.0, target="web1")
    assert second["id"] > first["id"]
    got = store.audit_query()
    assert [e["id"] for e in got] == [second["id"], first["id"]]
    assert got[0] == {**second}
    assert got[0]["address"] == "192.0.2.1" and got[0]["role"] == "operator"


def test_each_entry_reaches_the_log_for_the_live_page(store):
    kept = entry(store)
    (item,) = store.recent("audit", 1)
    assert item.data == kept


def test_filters_and_pages(store):
    for i in range(30):
        entry(store, who="alice" if i % 2 else "bob", action="alert-ack" if i % 3 else "sign-in",
              ts=1000.0 + i)
    alice = store.audit_query(who="alice", limit=100)
    assert len(alice) == 15 and all(e["who"] == "alice" for e in alice)
    signins = store.audit_query(action="sign-in", limit=100)
    assert len(signins) == 10 and all(e["action"] == "sign-in" for e in signins)
    window = store.audit_query(since=1010.0, until=1020.0, limit=100)
    assert sorted(e["ts"] for e in window) == [1010.0 + i for i in range(10)]
    page1 = store.audit_query(limit=7)
    page2 = store.audit_query(before=page1[-1]["id"], limit=7)
    assert len(page1) == len(page2) == 7
    assert page2[0]["id"] < page1[-1]["id"]
    assert {e["id"] for e in page1}.isdisjoint(e["id"] for e in page2)
    both = store.audit_query(who="bob", action="sign-in", before=page1[0]["id"], limit=100)
    assert all(e["who"] == "bob" and e["action"] == "sign-in" for e in both) and both


def test_the_sweep_trims_by_age_and_by_count(store):
    for i in range(20):
        entry(store, ts=1000.0 + i)
    assert audit.sweep(store, 1000.0 + 400 * 86400 + 5, retention=400 * 86400, keep=100) == 5
    left = store.audit_query(limit=100)
    assert min(e["ts"] for e in left) == 1005.0 and len(left) == 15
    assert audit.sweep(store, 0.0, retention=1.0, keep=4) == 11
    assert [e["ts"] for e in store.audit_query(limit=100)] == [1019.0, 1018.0, 1017.0, 1016.0]


def test_an_unknown_action_is_a_programming_error(store):
    with pytest.raises(ValueError):
        audit.record(store, who="x", role="admin", action="made-up")


def test_accounts_live_in_the_store_without_their_secret(store):
    account = accounts.add(store, "alice", "operator", "correct-horse-battery")
    assert accounts.get(store, "alice")["role"] == "operator"
    logged = store.recent("account", 1)[0].data
    assert logged == account and "hash" not in str(logged)
    assert store.get_state("password:alice")["hash"].startswith("$argon2id$")
    assert accounts.verify_password(store, "alice", "correct-horse-battery")["name"] == "alice"
    assert accounts.verify_password(store, "alice", "wrong-password!") is None
    assert accounts.verify_password(store, "nobody", "correct-horse-battery") is None
    with pytest.raises(accounts.Conflict):
        accounts.add(store, "alice", "viewer", "another-password")


def test_changes_bump_the_generation_and_end_sessions(store):
    accounts.add(store, "bob", "viewer", "correct-horse-battery")
    account, sid = accounts.open_session(store, "bob", now=50.0)
    assert account["sessions"] == {accounts.sid_hash(sid): 50.0} and account["last_sign_in"] == 50.0
    promoted = accounts.set_role(store, "bob", "operator")
    assert promoted["generation"] == 2 and promoted["sessions"] == {}
    _, sid = accounts.open_session(store, "bob")
    disabled = accounts.set_disabled(store, "bob", True)
    assert disabled["disabled"] and disabled["sessions"] == {} and disabled["generation"] == 3
    assert accounts.verify_password(store, "bob", "correct-horse-battery") is None
    accounts.set_disabled(store, "bob", False)
    changed = accounts.set_password(store, "bob", "a-new-long-password")
    assert changed["generation"] == 4
    assert accounts.verify_password(store, "bob", "a-new-long-password") is not None


def test_sign_out_ends_one_session_only(store):
    accounts.add(store, "carol", "admin", "correct-horse-battery")
    _, laptop = accounts.open_session(store, "carol")
    _, phone = accounts.open_session(store, "carol")
    accounts.close_session(store, "carol", laptop)
    assert set(accounts.get(store, "carol")["sessions"]) == {accounts.sid_hash(phone)}


def test_keys_keep_a_hash_and_revoke_at_once(store):
    record, key = apikeys.add_key(store, "deploy-bot", ["ingest", "ask"], by="alice")
    key_id, secret = apikeys.parse_key(key)
    assert key_id == record["id"] and "hash" not in record
    stored = store.get_state(f"apikey:{key_id}")
    assert secret not in str(stored) and apikeys.secret_matches(stored, secret)
    assert not apikeys.secret_matches(stored, secret[:-1] + "x")
    assert apikeys.keys(store)[0]["scopes"] == ["ask", "ingest"]
    with pytest.raises(accounts.Conflict):
        apikeys.add_key(store, "deploy-bot", ["read"], by="alice")
    assert apikeys.revoke_key(store, key_id)["revoked"] is True
    with pytest.raises(accounts.UnknownAccount):
        apikeys.revoke_key(store, "0" * 12)
