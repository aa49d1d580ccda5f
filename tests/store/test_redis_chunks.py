"""The Redis history's chunk layout (app.store.redis_chunks): the shape that makes a year of a
host fit in 16 MB, the precision it keeps, and the first format's keys read until they age out."""

import math
import time

import pytest
import redis

from app.domain.history import HISTORY_KEYS
from app.store import open_store
from app.store.redis_chunks import F32_MAX
from app.store.tiers import STAMP, Retention, encode_raw, encode_rolled

HOUR = 3600
KEYS = len(HISTORY_KEYS)  # 13: a host sample's history keys, one row group
PREFIX = "dashboard:"


@pytest.fixture
def client(redis_url):
    with redis.Redis.from_url(redis_url) as c:
        yield c


@pytest.fixture
def store(redis_url):
    opened = open_store(redis_url, log_size=100, poll_interval=0.05)
    yield opened
    opened.close()


@pytest.fixture
def base():
    """The start of the hour two hours ago."""
    return math.floor(time.time() / HOUR) * HOUR - 2 * HOUR


def _sample(n: int) -> dict[str, float]:
    return {key: n * 1.5 + i for i, key in enumerate(HISTORY_KEYS)}


def _members(client, tier, host="h", grp=""):
    return client.zrange(f"{PREFIX}hist2:{host}:{tier}:{grp}", 0, -1)


def test_a_minute_of_samples_is_one_member_of_4_bytes_a_figure(store, client, base):
    for n in range(150):  # two and a half minutes at 1 Hz
        store.record_history("h", base + n, _sample(n))
    header = 8 + 2 + 2 * KEYS  # start, key count, key ids
    raw = _members(client, "raw")
    assert [len(m) for m in raw] == [header + count * (2 + 4 * KEYS) for count in (60, 60, 30)]
    [minutes] = _members(client, "1m")  # 20 minutes of minute buckets per member
    assert len(minutes) == header + 3 * (2 + 13 * KEYS)  # min, max, avg and a 1-byte count
    [hours] = _members(client, "1h")
    assert len(hours) == header + 1 * (2 + 14 * KEYS)
    got = store.history("h", "load1", "raw", base, base + 150)
    assert [p[1] for p in got] == [n * 1.5 + HISTORY_KEYS.index("load1") for n in range(150)]


def test_an_hour_of_samples_and_a_day_of_buckets_fit_a_year_in_16_mb(store, client, base):
    # A year at the default retention is a day of raw samples, 30 days of minutes and 365 days
    # of hours. 4 bytes a figure, plus the allocator's rounding of each chunk and the sorted
    # set's bookkeeping (the first format took 230 bytes a raw sample, 470 a bucket).
    store.write_history("h", "raw", ((base + n, _sample(n)) for n in range(HOUR)))
    raw = client.memory_usage(f"{PREFIX}hist2:h:raw:", samples=0)
    assert len(_members(client, "raw")) == 60
    assert raw <= HOUR * (2 + 4 * KEYS) * 1.15  # 224 kB
    day = base - base % 86400 - 2 * 86400
    figures = {k: (1.0, 2.0, 90.0, 60) for k in HISTORY_KEYS}
    store.write_history("h", "1m", ((day + 60 * n, figures) for n in range(1440)))
    minutes = client.memory_usage(f"{PREFIX}hist2:h:1m:", samples=0)
    assert len(_members(client, "1m")) == 72
    assert minutes <= 1440 * (2 + 13 * KEYS) * 1.15  # 283 kB a day
    store.write_history("h", "1h", ((day + HOUR * n, figures) for n in range(48)))
    hours = client.memory_usage(f"{PREFIX}hist2:h:1h:", samples=0) / 2
    assert len(_members(client, "1h")) == 2
    assert (raw * 24 + minutes * 30 + hours * 365) / 1e6 <= 16


def test_figures_keep_7_significant_digits_and_32_bit_range(store, base):
    values = {"cpu_percent": 12.3, "mem_used": 8_123_456_789.0, "net_rx_bps": 1e300,
              "load1": -1e300}
    store.record_history("h", base, values)
    got = store.history_many("h", list(values), "raw", base, base + 1)
    assert got["cpu_percent"][0][1] == pytest.approx(12.3, rel=6e-8)
    assert got["mem_used"][0][1] == pytest.approx(8_123_456_789.0, rel=6e-8)
    assert got["net_rx_bps"][0][1] == F32_MAX and got["load1"][0][1] == -F32_MAX
    assert store.history("h", "cpu_percent", "1h", base, base + 1)[0][4] == 1


def test_a_key_that_joins_mid_chunk_leaves_earlier_entries_without_it(store, base):
    store.record_history("h", base, {"cpu_percent": 1.0})
    store.record_history("h", base + 1, {"cpu_percent": 2.0, "temperature": 40.0})
    store.record_history("h", base + 2, {"cpu_percent": 3.0})
    got = store.history_many("h", ["cpu_percent", "temperature"], "raw", base, base + 60)
    assert [p[1] for p in got["cpu_percent"]] == [1.0, 2.0, 3.0]
    assert got["temperature"] == [(base + 1, 40.0, 40.0, 40.0, 1)]
    assert store.history("h", "temperature", "1m", base, base + 60) == [
        (base, 40.0, 40.0, 40.0, 1)]


def _old_point(client, store, tier, t, figures, grp=""):
    """Write one point in the first format (hist:..., one member, doubles)."""
    ids = store._ids(figures, create=True)  # noqa: SLF001 - the shared key dictionary
    by_id = {ids[k]: f for k, f in figures.items()}
    stamp = int(t) if tier != "raw" else round(t * 1000)
    member = STAMP.pack(stamp) + (encode_raw(by_id) if tier == "raw" else encode_rolled(by_id))
    client.zadd(f"{PREFIX}hist:h:{tier}:{grp}", {member: stamp})


def test_the_first_formats_keys_are_read_merged_trimmed_and_forgotten(store, client, base):
    _old_point(client, store, "raw", base, {"cpu_percent": 5.0})
    _old_point(client, store, "1m", base, {"cpu_percent": (1.0, 5.0, 6.0, 2)})
    _old_point(client, store, "1m", base - 3 * 86400, {"cpu_percent": (1.0, 1.0, 1.0, 1)})
    store.record_history("h", base + 1, {"cpu_percent": 9.0})  # the same minute, new format
    _old_point(client, store, "raw", base, {"container_cpu:web": 3.0}, grp="container_cpu:web")
    store.record_history("h", base + 2, {"container_cpu:web": 4.0})  # now in "containers"
    assert [p[1] for p in store.history("h", "container_cpu:web", "raw", base, base + 60)] == [
        3.0, 4.0]
    assert store.history("h", "cpu_percent", "raw", base, base + 60) == [
        (base, 5.0, 5.0, 5.0, 1), (base + 1, 9.0, 9.0, 9.0, 1)]
    assert store.history("h", "cpu_percent", "1m", base, base + 60) == [
        (base, 1.0, 5.0, 9.0, 3)]  # one bucket: (6 + 9) / 3
    trimming = open_store(store_url(client), log_size=100, poll_interval=0.05,
                          history_retention=Retention(minute=86400))
    try:
        trimming.trim_history()
        assert len(client.zrange(f"{PREFIX}hist:h:1m:", 0, -1)) == 1  # the 3-day-old one went
    finally:
        trimming.close()
    store.forget_history("h")
    assert client.keys(f"{PREFIX}hist:*") == [] and client.keys(f"{PREFIX}hist2:*") == []


def store_url(client) -> str:
    kw = client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def test_trim_cuts_inside_the_oldest_chunk(store, client):
    store_ = open_store(store_url(client), log_size=100, poll_interval=0.05,
                        history_retention=Retention(raw=90))
    try:
        now = math.floor(time.time())
        store_.write_history("h", "raw", [(now - n, {"cpu_percent": float(n)}) for n in range(300)])
        store_.trim_history()
        kept = [p[1] for p in store_.history("h", "cpu_percent", "raw", 0, now + 1)]
        oldest = int(kept[0])  # 90 s back, less the moments the test took
        assert 80 <= oldest <= 90 and kept == [float(n) for n in range(oldest, -1, -1)]
        assert len(_members(client, "raw")) <= 3  # whole chunks went, the oldest was cut
    finally:
        store_.close()


def test_a_hosts_containers_share_one_row_group(store, client, base):
    values = {f"{family}:{name}": n for n, name in enumerate(("web", "db", "cache"))
              for family in ("container_cpu", "container_memory")}
    store.record_history("h", base, values)
    store.record_history("h", base + 10, {"container_cpu:web": 7.0, "container_memory:web": 8.0})
    assert client.keys(f"{PREFIX}hist2:h:raw:*") == [f"{PREFIX}hist2:h:raw:containers".encode()]
    [chunk] = _members(client, "raw", grp="containers")
    assert len(chunk) == 8 + 2 + 2 * 6 + 2 * (2 + 4 * 6)  # two entries of all six keys
    assert store.history("h", "container_memory:db", "raw", base, base + 60) == [
        (base, 1.0, 1.0, 1.0, 1)]
    assert store.history("h", "container_cpu:web", "1m", base, base + 60) == [
        (base, 0.0, 3.5, 7.0, 2)]
