"""The psutil sampler: plain data with units, within the ranges its docstring promises."""

import time

from app.sources.sample import METRICS
from app.sources.sampler import HostSampler


def test_sample_has_every_metric_in_range():
    sampler = HostSampler("test-host", "/")
    time.sleep(0.2)
    first, second = sampler.sample(), (time.sleep(0.2), sampler.sample())[1]
    for sample in (first, second):
        assert sample["host"] == "test-host"
        assert set(METRICS) <= set(sample)
        for key in ("cpu_percent", "mem_percent", "disk_percent"):
            assert 0 <= sample[key] <= 100, key
        assert sample["net_rx_bps"] >= 0 and sample["net_tx_bps"] >= 0
        assert 0 < sample["mem_used"] <= sample["mem_total"]
        assert 0 < sample["disk_used"] <= sample["disk_total"]
        assert sample["uptime"] > 0
        assert sample["load1"] >= 0
        assert sample["cpu_count"] >= 1
        assert sample["temperature"] is None or -50 < sample["temperature"] < 150
        assert abs(sample["ts"] - time.time()) < 5
    assert second["ts"] > first["ts"]


def test_every_metric_documents_its_unit_and_source():
    for key, metric in METRICS.items():
        assert metric.label and "psutil" in metric.source, key
