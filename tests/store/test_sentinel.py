"""The store on Redis Sentinel: its URL, the primary it follows, and the writes that wait for a
replica (``WAIT``). The contract suite runs on Sentinel too (``conftest.py``)."""

from __future__ import annotations

import pytest
import redis

from app.store import StoreUnavailable, open_store
from app.store.redis_connect import RedisTarget, check_url


def test_a_sentinel_url_names_the_sentinels_service_db_and_both_passwords():
    target = RedisTarget("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3"
                         "?sentinel_password=spw&socket_keepalive=true")
    try:
        assert target.service == "mymaster" and target.replicas == 1
        hosts = [s.connection_pool.connection_kwargs for s in target.sentinel.sentinels]
        assert [(h["host"], h["port"]) for h in hosts] == [("10.0.0.1", 26379),
                                                           ("10.0.0.2", 26379), ("::1", 26380)]
        assert {h["password"] for h in hosts} == {"spw"}  # the sentinels' own
        assert target.options["password"] == "pw" and target.options["db"] == 3
        assert target.options["socket_keepalive"] is True
        assert target.describe() == {"sentinel": True, "service": "mymaster", "primary": None,
                                     "failovers": 0}
        uri, options = target.limiter_storage()
        assert uri == "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster"
        assert options["sentinel_kwargs"]["password"] == "spw" and options["password"] == "pw"
        assert options["use_replicas"] is False and options["db"] == 3
    finally:
        target.close()


def test_rediss_sentinel_speaks_tls_to_sentinels_and_servers():
    from redis.sentinel import SentinelManagedSSLConnection

    target = RedisTarget("rediss+sentinel://h:26379/mymaster?ssl_ca_certs=/etc/ca.pem")
    try:
        client = target.client(max_connections=2, timeout=1)
        assert client.connection_pool.connection_class is SentinelManagedSSLConnection
        assert client.connection_pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
        sentinel = target.sentinel.sentinels[0].connection_pool
        assert sentinel.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
        assert target.limiter_storage()[1]["ssl"] is True
    finally:
        target.close()


@pytest.mark.parametrize("url", ["redis+sentinel://h:26379", "redis+sentinel://h:26379/",
                                 "redis+sentinel://h:26379/m/x", "redis+sentinel://h:26379/m/0/1",
                                 "redis+sentinel://h:26379,,h2/m", "redis+sentinel://h:port/m",
                                 "memcached://h:11211"])
def test_a_bad_url_says_what_a_good_one_looks_like(url):
    with pytest.raises(ValueError, match="Redis URL|redis\\+sentinel://"):
        check_url(url)


def test_the_store_follows_the_primary_the_sentinels_name(sentinel_url, sentinels):
    store = open_store(sentinel_url, log_size=100, poll_interval=0.05)
    try:
        store.append("event", {"message": "m"})
        primary = sentinels.primary()
        assert store.describe() == {"backend": "redis", "sentinel": True, "service": "mymaster",
                                    "primary": f"127.0.0.1:{primary.port}", "failovers": 0}
    finally:
        store.close()


def test_replicated_writes_are_on_the_replica_when_they_return(sentinel_url, sentinels):
    store = open_store(sentinel_url, log_size=100, poll_interval=0.05)
    replica = next(s for s in sentinels.servers if s.port != sentinels.primary().port)
    try:
        with redis.Redis(port=replica.port, decode_responses=True) as client:
            for n in range(20):
                store.append("approval", {"n": n}, state_key="approval:x", replicated=True)
                assert '"n":%d' % n in client.hget("dashboard:state", "approval:x")
                entry = store.audit_append({"ts": 1.0, "who": "a", "action": "sign-in"})
                assert client.zcount("dashboard:audit", entry, entry) == 1
                store.set_state("password:a", {"hash": str(n)}, replicated=True)
                assert client.hget("dashboard:state", "password:a") == '{"hash":"%d"}' % n
    finally:
        store.close()


def test_a_replicated_write_no_replica_confirms_is_unavailable(sentinel_url, monkeypatch):
    store = open_store(sentinel_url, log_size=100, poll_interval=0.05)
    try:
        monkeypatch.setattr(store.target, "replicas", 2)  # more than the set has
        monkeypatch.setattr(store, "_wait_ms", 50)
        with pytest.raises(StoreUnavailable, match="replica"):
            store.append("approval", {"n": 1}, state_key="approval:y", replicated=True)
        store.append("event", {"message": "not replicated: no wait"})
    finally:
        store.close()
