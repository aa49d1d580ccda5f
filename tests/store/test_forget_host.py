"""Forgetting a host (``app.domain.hosts.forget``) on both backends: its sample, process list
and history go, other hosts' stay, one log item says so, and the host comes back with its next
sample."""

import time

from app.domain import history, hosts, processes
from app.domain.fleet import Fleet


def _report(store, host, cpu, ts):
    sample = {"host": host, "ts": ts, "cpu_percent": cpu}
    store.append("metrics", sample, state_key=f"sample:{host}")
    history.record(store, sample, now=ts)


def test_forget_drops_one_hosts_data_and_logs_it(store):
    now = time.time()
    for host in ("gone", "kept"):
        _report(store, host, 10.0, now - 1)
        processes.record(store, host, now - 1, [{"pid": 1, "name": "init"}], cmdline=False)
    before = store.latest_id()

    assert hosts.forget(store, "gone", now=now)

    assert store.get_state("sample:gone") is None
    assert store.get_state("processes:gone") is None
    assert store.history_many("gone", ["cpu_percent"], "raw", 0, now + 10) == {"cpu_percent": []}
    assert store.get_state("sample:kept") is not None
    assert store.get_state("processes:kept") is not None
    assert len(store.history("kept", "cpu_percent", "raw", 0, now + 10)) == 1
    [item] = store.since(before)
    assert (item.kind, item.data) == (hosts.KIND, {"host": "gone", "ts": now})
    # Another process that starts now does not see it either.
    fleet = Fleet(stale_after=10)
    fleet.load(store)
    assert "gone" not in fleet and "kept" in fleet


def test_an_unknown_host_changes_nothing(store):
    assert not hosts.forget(store, "never-seen")
    assert store.latest_id() == 0


def test_a_forgotten_host_that_reports_again_comes_back(store):
    now = time.time()
    _report(store, "back", 10.0, now - 2)
    fleet = Fleet(stale_after=10)
    fleet.load(store)
    start = store.latest_id()
    hosts.forget(store, "back")
    _report(store, "back", 20.0, now - 1)

    items = store.since(start)
    assert [i.kind for i in items] == [hosts.KIND, "metrics"]
    fleet.apply(items[:1])
    assert "back" not in fleet
    fleet.apply(items[1:])
    assert fleet.hosts["back"].sample["cpu_percent"] == 20.0
    assert store.get_state("sample:back")["cpu_percent"] == 20.0
    assert [p[2] for p in store.history("back", "cpu_percent", "raw", 0, now + 10)] == [20.0]
