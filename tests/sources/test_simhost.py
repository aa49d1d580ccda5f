"""The simulated host: realistic ranges, the real sample's keys, reproducible with a seed."""

from app.domain.hostsample import Process, SampleIn
from app.sources.sample import DETAIL_KEYS, METRICS
from app.sources.simhost import SimulatedHost


def run(seed, count=600):
    clock = iter(range(1_000_000, 1_000_000 + count + 1))
    host = SimulatedHost("sim", seed=seed, clock=lambda: next(clock))
    return [host.sample() for _ in range(count)]


def test_samples_have_every_metric_and_stay_in_range():
    samples = run(1)
    for s in samples:
        assert set(s) == {"host", "ts", "simulated", *METRICS, *DETAIL_KEYS}
        SampleIn.model_validate({k: v for k, v in s.items() if k != "simulated"})
        assert len(s["cpu_cores"]) == s["cpu_count"] and len(s["disks"]) == 2
        assert len(s["interfaces"]) == 2 and s["sensors"]
        assert 0 <= s["cpu_percent"] <= 100 and 0 <= s["mem_percent"] <= 100
        assert 0 <= s["disk_percent"] <= 100 and s["mem_used"] <= s["mem_total"]
        assert s["net_rx_bps"] >= 0 and s["net_tx_bps"] >= 0 and s["load1"] >= 0
        assert 30 <= s["temperature"] <= 90
    assert samples[-1]["uptime"] > samples[0]["uptime"]


def test_values_fluctuate_with_spikes_and_bursts():
    samples = run(2)
    cpu = [s["cpu_percent"] for s in samples]
    rx = [s["net_rx_bps"] for s in samples]
    assert len(set(cpu)) > 100
    assert max(cpu) > 65 and min(cpu) < 35  # bursts happen, and it comes back down
    assert max(rx) > 4 * (1 << 20) and min(rx) < 400 * 1024


def test_same_seed_same_samples():
    assert run(3, 50) == run(3, 50)
    assert run(3, 50) != run(4, 50)


def test_process_list_changes_and_fits_the_schema():
    clock = iter(range(1_000_000, 1_000_000 + 2000, 5))
    host = SimulatedHost("sim", seed=5, clock=lambda: next(clock))
    lists = []
    for _ in range(100):
        host.sample()
        lists.append(host.processes())
    names = [{row["name"] for row in rows} for rows in lists]
    assert any("backup.sh" in n for n in names) and any("backup.sh" not in n for n in names)
    for rows in lists:
        for row in rows:
            Process.model_validate(row)
        assert [r["cpu_percent"] for r in rows] == sorted((r["cpu_percent"] for r in rows),
                                                          reverse=True)
        assert len({r["pid"] for r in rows}) == len(rows)
