"""The containers source's arithmetic and shapes, on the Engine API's own JSON (no engine
needed: ``tests/system/test_containers_engine.py`` runs a real one)."""

from __future__ import annotations

import pytest

from app.sources import containers as src, containerstats as stats_of
from app.sources.containers import Engine, EngineOff

INSPECT = {
    "Id": "0123456789abcdef" * 4, "Name": "/web", "Image": "sha256:abc",
    "Config": {"Image": "nginx:1.27", "Cmd": ["nginx", "-g", "daemon off;"],
               "Entrypoint": ["/docker-entrypoint.sh"], "Env": ["PASSWORD=secret"],
               "Labels": {"token": "secret"}},
    "State": {"Status": "running", "ExitCode": 0, "OOMKilled": False,
              "StartedAt": "2026-12-06T21:02:29.848051672Z",
              "Health": {"Status": "healthy", "Log": [{"Output": "secret"}]}},
    "RestartCount": 3,
}


def test_a_row_keeps_what_is_shown_and_never_labels_or_environment():
    row = src.row_of(INSPECT)
    assert row == {"id": "0123456789ab", "name": "web", "image": "nginx:1.27",
                   "state": "running", "exit_code": None, "oom_killed": False,
                   "health": "healthy", "started": 1796590949.0, "restarts": 3}
    assert "secret" not in repr(src.row_of(INSPECT, cmdline=True))
    assert src.row_of(INSPECT, cmdline=True)["command"] == (
        "/docker-entrypoint.sh nginx -g daemon off;")


def test_an_exited_container_has_its_code_and_no_health():
    info = {**INSPECT, "State": {**INSPECT["State"], "Status": "exited", "ExitCode": 137,
                                 "OOMKilled": True, "Health": {"Status": "unhealthy"}}}
    row = src.row_of(info)
    assert (row["state"], row["exit_code"], row["oom_killed"], row["health"]) == (
        "exited", 137, True, "none")


@pytest.mark.parametrize("text, expected", [
    ("2026-12-06T21:02:29.848051672Z", 1796590949.0),
    ("2026-12-06T22:02:29.5+01:00", 1796590949.0),
    ("0001-01-01T00:00:00Z", None), ("", None), ("garbage", None)])
def test_engine_times(text, expected):
    assert src.unix_time(text) == expected


def test_cpu_percent_as_docker_stats_computes_it():
    before = {"cpu_usage": {"total_usage": 1_000_000_000}, "system_cpu_usage": 100_000_000_000}
    # 0.5 s of CPU over 1 s of 2 CPUs (2 s of system time): half of one CPU, 50 %.
    now = {"cpu_usage": {"total_usage": 1_500_000_000}, "system_cpu_usage": 102_000_000_000,
           "online_cpus": 2}
    assert stats_of.cpu_percent(now, before) == 50.0
    # Older engines give no online_cpus: one entry per CPU in percpu_usage.
    now.pop("online_cpus")
    now["cpu_usage"]["percpu_usage"] = [1, 2, 3, 4]
    assert stats_of.cpu_percent(now, before) == 100.0
    assert stats_of.cpu_percent(now, {}) is None
    assert stats_of.cpu_percent({**now, "system_cpu_usage": 100_000_000_000}, before) == 0.0


@pytest.mark.parametrize("detail, used", [
    ({"total_inactive_file": 100}, 900),  # cgroup v1
    ({"inactive_file": 300}, 700),  # cgroup v2
    ({}, 1000), ({"inactive_file": 5000}, 1000)])
def test_memory_is_the_usage_less_the_inactive_cache(detail, used):
    stats = {"memory_stats": {"usage": 1000, "limit": 4000, "stats": detail}}
    assert stats_of.memory(stats) == (used, 4000, round(used / 40, 1))
    assert stats_of.memory({}) == (0, 0, 0.0)


def test_io_totals_sum_every_network_and_device():
    stats = {"networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20},
                          "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
             "blkio_stats": {"io_service_bytes_recursive": [
                 {"op": "Read", "value": 100}, {"op": "Write", "value": 7},
                 {"op": "read", "value": 1}, {"op": "Total", "value": 108}]}}
    assert stats_of.io_totals(stats) == (11, 22, 101, 7)
    assert stats_of.io_totals({"blkio_stats": {"io_service_bytes_recursive": None}}) == (0, 0, 0, 0)


def test_figures_come_from_two_readings_one_shot_or_not():
    engine = Engine()
    stats = {"cpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0,
                           "online_cpus": 1},
             "precpu_stats": {}, "memory_stats": {"usage": 10, "limit": 100},
             "networks": {"eth0": {"rx_bytes": 0, "tx_bytes": 0}}}
    row = {"id": "a" * 12}
    engine._figures(row, stats, now=10.0)
    assert row == {"id": "a" * 12, "mem_used": 10, "mem_limit": 100, "mem_percent": 10.0}
    later = {**stats, "cpu_stats": {"cpu_usage": {"total_usage": 250}, "system_cpu_usage": 1000,
                                    "online_cpus": 1},
             "networks": {"eth0": {"rx_bytes": 4000, "tx_bytes": 2000}}}
    engine._figures(row, later, now=12.0)
    assert row["cpu_percent"] == 25.0
    assert (row["net_rx_bps"], row["net_tx_bps"], row["block_read_bps"]) == (2000, 1000, 0)


def test_addresses_prefer_docker_host_then_docker_then_podman():
    assert src.addresses({"DOCKER_HOST": "tcp://10.0.0.1:2375"}) == ["tcp://10.0.0.1:2375"]
    found = src.addresses({"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert found == ["unix:///var/run/docker.sock", "unix:///run/podman/podman.sock",
                     "unix:///run/user/1000/podman/podman.sock"]


def test_no_engine_is_off_not_an_error(tmp_path):
    engine = Engine(environ={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert engine.connect() is False and engine.client is None
    with pytest.raises(EngineOff):
        engine.rows()
