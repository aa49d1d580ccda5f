"""The process table is scanned only while someone views the host, in whichever process."""

import time
from types import SimpleNamespace

import pytest

from app.domain import processes
from app.live.procwatch import ProcessWatch
from app.live.viewers import watchers
from app.sources.simhost import SimulatedHost
from app.store import open_store

ROW = {"pid": 1, "name": "init", "user": "root", "cpu_percent": 0.5, "mem_percent": 0.1,
       "rss": 1000, "state": "sleeping", "runtime": 60, "cmdline": "init --secret"}


class FakeScanner:
    def __init__(self):
        self.primed = False
        self.scans = self.resets = 0

    def scan(self):
        self.scans += 1
        if not self.primed:
            self.primed = True
            return None
        return [ROW]

    def reset(self):
        self.resets += 1
        self.primed = False


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/s.db", log_size=1000, poll_interval=0.05)
    yield store
    store.close()


def settings(**values):
    return SimpleNamespace(**{"host_name": "web-1", "process_interval": 5.0,
                              "process_count": 15, "show_cmdline": False, **values})


def viewing(store, owner, hosts, age=0.0):
    store.set_state(f"viewers:{owner}", {"count": sum(hosts.values()), "ts": time.time() - age,
                                         "hosts": hosts})


def test_watchers_count_fresh_entries_of_every_process(store):
    viewing(store, "a", {"web-1": 2, "db-1": 1})
    viewing(store, "b", {"web-1": 1})
    viewing(store, "dead", {"web-1": 5}, age=60)  # a process that died long ago
    store.set_state("viewers:old", {"count": 3, "ts": time.time()})  # written before hosts
    assert watchers(store, "web-1") == 3 and watchers(store, "db-1") == 1
    assert watchers(store, "nobody") == 0


def test_no_viewer_no_scan_then_scans_at_the_interval_then_stops(store, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("app.live.procwatch.time.monotonic", lambda: clock[0])
    scanner = FakeScanner()
    watch = ProcessWatch(settings(), scanner)
    for _ in range(3):
        assert watch.tick(store) is None
    assert scanner.scans == 0 and processes.latest(store, "web-1") is None

    viewing(store, "other-worker", {"web-1": 1})  # a viewer on another worker's stream
    assert watch.tick(store) is None and scanner.scans == 1  # primes
    clock[0] += 0.5
    assert watch.tick(store) is None and scanner.scans == 1  # a second after priming
    clock[0] += 0.5
    assert watch.tick(store) is not None and scanner.scans == 2
    stored = processes.latest(store, "web-1")
    assert stored["processes"] == [{k: v for k, v in ROW.items() if k != "cmdline"}]
    clock[0] += 4.0
    assert watch.tick(store) is None  # not due yet
    clock[0] += 1.0
    assert watch.tick(store) is not None and scanner.scans == 3

    viewing(store, "other-worker", {})  # the viewer left
    clock[0] += 5.0
    assert watch.tick(store) is None and scanner.resets == 1 and scanner.scans == 3


def test_the_simulated_host_gives_its_list_with_command_lines_when_shown(store):
    viewing(store, "w", {"web-1": 1})
    watch = ProcessWatch(settings(show_cmdline=True), FakeScanner())
    assert watch.tick(store, SimulatedHost("web-1", seed=1)) is not None  # no priming needed
    assert len(processes.latest(store, "web-1")["processes"]) >= 15
