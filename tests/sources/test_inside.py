"""The sample's lists (cores, modes, file systems, disks, interfaces, sensors) and the process
scan: invariants on this machine's live psutil data, and a fake psutil for the edge cases."""

import time
from collections import namedtuple

import psutil
import pytest

from app.domain.hostsample import Process, SampleIn
from app.sources import devices
from app.sources.processes import ProcessScanner, top
from app.sources.sample import CPU_MODES, DETAIL_KEYS
from app.sources.sampler import HostSampler

Part = namedtuple("Part", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")
IO = namedtuple("IO", "read_count write_count read_bytes write_bytes busy_time")
Nic = namedtuple("Nic", "bytes_sent bytes_recv packets_sent packets_recv errin errout dropin dropout")
Stat = namedtuple("Stat", "isup duplex speed mtu")
Temp = namedtuple("Temp", "label current high critical")
Mem = namedtuple("Mem", "rss vms")


@pytest.fixture(scope="module")
def live_sample():
    sampler = HostSampler("test-host", "/")
    time.sleep(0.3)
    sampler.sample()
    time.sleep(0.3)
    return sampler.sample()


def test_live_sample_lists_are_in_range(live_sample):
    s = live_sample
    assert set(DETAIL_KEYS) <= set(s)
    assert len(s["cpu_cores"]) == psutil.cpu_count() == s["cpu_count"]
    assert all(0 <= p <= 100 for p in s["cpu_cores"])
    assert set(s["cpu_times"]) <= set(CPU_MODES) and "idle" in s["cpu_times"]
    assert all(0 <= p <= 100 for p in s["cpu_times"].values())
    assert sum(s["cpu_times"].values()) <= 101  # shares of one whole (rounded)
    assert 0 <= s["swap_percent"] <= 100 and 0 <= s["swap_used"] <= s["swap_total"]
    assert s["disks"], "the root file system at least"
    pseudo = {"proc", "sysfs", "tmpfs", "devtmpfs", "cgroup", "cgroup2", "overlay", "squashfs"}
    for disk in s["disks"]:
        assert disk["fstype"] not in pseudo and 0 <= disk["percent"] <= 100
        assert 0 <= disk["used"] <= disk["total"]
    assert len({d["device"] for d in s["disks"]}) == len(s["disks"])
    for io in s["disk_io"]:
        assert not io["device"].startswith(("loop", "ram", "zram"))
        assert min(io["read_bps"], io["write_bps"], io["read_iops"], io["write_iops"]) >= 0
        assert io["busy_percent"] is None or 0 <= io["busy_percent"] <= 100
    for nic in s["interfaces"]:
        assert nic["name"] != "lo" and nic["rx_bps"] >= 0 and nic["tx_bps"] >= 0
        assert nic["errors"] >= 0 and nic["drops"] >= 0 and isinstance(nic["up"], bool)
    for sensor in s["sensors"]:
        assert -50 < sensor["celsius"] < 150
    SampleIn.model_validate(s)  # what the agent sends, the API takes


def test_live_process_scan():
    scanner = ProcessScanner(count=5)
    assert scanner.scan() is None  # the first scan only primes psutil's CPU figures
    time.sleep(0.2)
    rows = scanner.scan()
    assert 5 <= len(rows) <= 10
    for row in rows:
        Process.model_validate(row)
        assert row["cpu_percent"] >= 0 and 0 <= row["mem_percent"] <= 100 and row["rss"] >= 0
        assert "cmdline" not in row
    assert [r["cpu_percent"] for r in rows] == sorted((r["cpu_percent"] for r in rows), reverse=True)


def test_command_lines_only_when_asked():
    scanner = ProcessScanner(count=3, cmdline=True)
    scanner.scan()
    assert all("cmdline" in row for row in scanner.scan())


def test_a_file_system_that_disappears_is_skipped(monkeypatch):
    def usage(path):
        if path == "/gone":
            raise FileNotFoundError(path)
        return Usage(100, 40, 60, 40.0)

    monkeypatch.setattr(psutil, "disk_usage", usage)
    parts = [Part("/dev/sda1", "/", "ext4", ""), Part("/dev/sdb1", "/gone", "ext4", ""),
             Part("/dev/sda1", "/srv/bind", "ext4", "")]  # a bind mount repeats its device
    assert devices.disks(parts) == [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4",
                                     "percent": 40.0, "used": 40, "total": 100}]


def test_disk_rates_skip_partitions_and_a_disk_that_disappears(monkeypatch):
    monkeypatch.setattr(devices, "_whole_disk", lambda name: name in ("sda", "sdb"))
    readings = iter([
        {"sda": IO(0, 0, 0, 0, 0), "sdb": IO(0, 0, 0, 0, 0), "sda1": IO(0, 0, 0, 0, 0)},
        {"sda": IO(10, 20, 4096, 8192, 500), "sda1": IO(10, 20, 4096, 8192, 500)},  # sdb gone
        {"sda": IO(10, 20, 0, 0, 500), "sdc": IO(5, 5, 5, 5, 5)},  # counter reset; sdc new
    ])
    rates = devices.DiskRates(read=lambda: next(readings))
    assert rates.sample(2.0) == [{"device": "sda", "read_bps": 2048, "write_bps": 4096,
                                  "read_iops": 5.0, "write_iops": 10, "busy_percent": 25.0}]
    assert rates.sample(1.0) == [{"device": "sda", "read_bps": 0.0, "write_bps": 0.0,
                                  "read_iops": 0.0, "write_iops": 0.0, "busy_percent": 0.0}]


def test_interfaces_rates_without_loopback():
    before = {"lo": Nic(0, 0, 0, 0, 0, 0, 0, 0), "eth0": Nic(0, 0, 0, 0, 0, 0, 0, 0)}
    now = {"lo": Nic(9, 9, 0, 0, 0, 0, 0, 0), "eth0": Nic(1000, 3000, 0, 0, 1, 2, 3, 0),
           "wg0": Nic(5, 5, 0, 0, 0, 0, 0, 0)}
    rates = devices.InterfaceRates(before, stats=lambda: {"eth0": Stat(True, 0, 0, 1500)})
    assert rates.sample(now, 2.0) == [{"name": "eth0", "rx_bps": 1500, "tx_bps": 500,
                                       "errors": 3, "drops": 3, "up": True}]


def test_no_sensors():
    assert devices.sensors(read=lambda: {}) == []

    def broken():
        raise OSError("no hwmon")
    assert devices.sensors(read=broken) == []


def test_sensors_are_labelled_and_repeated_labels_numbered():
    chips = {"coretemp": [Temp("Core 0", 51.04, 80.0, 100.0), Temp("Core 0", 49.0, 0, None)],
             "acpitz": [Temp("", 40.0, None, None), Temp("", None, None, None)]}
    assert devices.sensors(read=lambda: chips) == [
        {"label": "coretemp Core 0", "celsius": 51.0, "high": 80.0, "critical": 100.0},
        {"label": "coretemp Core 0 #2", "celsius": 49.0, "high": None, "critical": None},
        {"label": "acpitz", "celsius": 40.0, "high": None, "critical": None}]


class FakeProc:
    def __init__(self, pid, cpu=1.0, rss=1000, error=None, denied=()):
        self.pid = pid
        self._error = error
        info = {"pid": pid, "name": f"p{pid}", "username": "u", "cpu_percent": cpu,
                "memory_info": Mem(rss, rss), "status": "sleeping",
                "create_time": time.time() - 60}
        for attr in denied:  # psutil's ad_value for an attribute it may not read
            info[attr] = None
        self._info = info

    @property
    def info(self):
        if self._error:
            raise self._error
        return self._info

    def cmdline(self):
        raise psutil.NoSuchProcess(self.pid)  # exited between the scan and this call


def test_process_scan_skips_vanished_and_denied_processes():
    procs = [FakeProc(1, cpu=5.0), FakeProc(2, error=psutil.NoSuchProcess(2)),
             FakeProc(3, error=psutil.AccessDenied(3)), FakeProc(4, error=psutil.ZombieProcess(4)),
             FakeProc(5, denied=("cpu_percent", "memory_info")), FakeProc(6, cpu=9.0, rss=10)]
    scanner = ProcessScanner(count=5, cmdline=True, iterate=lambda attrs, ad_value: iter(procs))
    assert scanner.scan() is None
    rows = scanner.scan()
    assert [r["pid"] for r in rows] == [6, 1]
    assert rows[0]["runtime"] in (59, 60, 61) and rows[0]["cmdline"] == ""


def test_top_is_the_union_of_cpu_and_memory_leaders():
    rows = [{"pid": n, "cpu_percent": float(n), "rss": 100 - n} for n in range(10)]
    assert [r["pid"] for r in top(rows, 2)] == [9, 8, 1, 0]
