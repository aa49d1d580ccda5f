"""Configuration from DASHBOARD_* variables: defaults, overrides, and errors naming the variable."""

import pytest

from app import create_app
from app.config import DEFAULT_THRESHOLDS, ConfigError, load_settings
from app.config.apart import load_settings_apart


def test_defaults_run_one_worker_with_sqlite(monkeypatch):
    for name in ("STORE_URL", "SIMULATOR", "SAMPLE_INTERVAL", "HEARTBEAT", "STALE_AFTER"):
        monkeypatch.delenv(f"DASHBOARD_{name}", raising=False)
    settings = load_settings()
    assert settings.store_url == ""  # create_app puts the file under the instance folder
    assert settings.simulator is False
    assert settings.sample_interval == 1.0
    assert settings.heartbeat == 15.0
    assert settings.max_body == 1024 * 1024
    assert settings.thresholds == DEFAULT_THRESHOLDS
    assert settings.stale_after == 10.0


def test_a_process_apart_hands_back_the_same_settings(monkeypatch):
    """What a worker gets (validated by ``python -m app.config.apart``, pickled back) equals
    what validating here gives: secrets, rules, thresholds and proxies included."""
    monkeypatch.setenv("DASHBOARD_VIEW_TOKEN", "a-view-token-of-20-chars")
    monkeypatch.setenv("DASHBOARD_ALERT_RULES", '[{"metric": "cpu_percent", "op": ">", '
                       '"value": 5, "for": 2, "name": "busy", "hosts": "web*"}]')
    monkeypatch.setenv("DASHBOARD_THRESHOLDS", '{"cpu_percent": [50, 60]}')
    monkeypatch.setenv("DASHBOARD_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("DASHBOARD_SESSION_LIFETIME", "2h")
    apart = load_settings_apart()
    assert apart == load_settings()
    assert apart.view_token.get_secret_value() == "a-view-token-of-20-chars"
    assert "a-view-token" not in repr(apart)
    assert apart.alert_rules[0].stored()["for"] == 2.0
    assert apart.session_lifetime == 7200.0


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SIMULATOR", "1")
    monkeypatch.setenv("DASHBOARD_SAMPLE_INTERVAL", "0.5")
    monkeypatch.setenv("DASHBOARD_THRESHOLDS", '{"cpu_percent": [50, 60]}')
    settings = load_settings()
    assert settings.simulator is True
    assert settings.sample_interval == 0.5
    assert settings.thresholds["cpu_percent"] == (50, 60)
    assert settings.thresholds["mem_percent"] == DEFAULT_THRESHOLDS["mem_percent"]


@pytest.mark.parametrize(("name", "value"), [
    ("SAMPLE_INTERVAL", "soon"),
    ("SAMPLE_INTERVAL", "0"),
    ("HEARTBEAT", "-1"),
    ("SIMULATOR", "perhaps"),
    ("STORE_URL", "postgres://db/x"),
    ("STORE_URL", "redis:/db/0"),
    ("MAX_BODY", "0"),
    ("THRESHOLDS", '{"cpu_percent": [95, 90]}'),
    ("THRESHOLDS", '{"nonsense": [1, 2]}'),
    ("TRANSPORT", "websocket"),
    ("STALE_AFTER", "0"),
    ("STALE_AFTER", "a while"),
    ("HISTORY_RAW", "1m"),  # shorter than the live range
    ("HISTORY_RAW", "1.5h"),
    ("HISTORY_MINUTE", "30 days"),
    ("HISTORY_HOUR", "12h"),
    ("HISTORY_HOUR", "inf"),
])
def test_bad_value_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(f"DASHBOARD_{name}", value)
    with pytest.raises(ConfigError, match=f"DASHBOARD_{name}"):
        create_app()


@pytest.mark.parametrize("url", ["sqlite:////var/lib/dashboard.sqlite3", "redis://redis.lan:6379/0"])
def test_store_url_takes_sqlite_and_redis(url):
    assert load_settings({"STORE_URL": url}).store_url == url


def test_overrides_beat_the_environment(monkeypatch):
    monkeypatch.setenv("DASHBOARD_HEARTBEAT", "30")
    assert load_settings({"HEARTBEAT": 2}).heartbeat == 2


def test_ingest_token_is_read_and_kept_out_of_reprs(monkeypatch):
    monkeypatch.setenv("DASHBOARD_INGEST_TOKEN", "t0ken-t0ken-t0ken")
    settings = load_settings()
    assert settings.ingest_token.get_secret_value() == "t0ken-t0ken-t0ken"
    assert "t0ken-t0ken-t0ken" not in repr(settings) and "t0ken-t0ken-t0ken" not in str(settings)
    monkeypatch.delenv("DASHBOARD_INGEST_TOKEN")
    assert load_settings().ingest_token.get_secret_value() == ""


def test_default_alert_rules(monkeypatch):
    monkeypatch.delenv("DASHBOARD_ALERT_RULES", raising=False)
    rules = {(r.metric, r.op, r.value, r.for_, r.level) for r in load_settings().alert_rules}
    assert rules == {("cpu_percent", ">", 90, 30, "warning"),
                     ("mem_percent", ">", 95, 60, "critical"),
                     ("disk_percent", ">", 95, 60, "critical")}


def test_alert_rules_are_read_from_json(monkeypatch):
    monkeypatch.setenv("DASHBOARD_ALERT_RULES", '[{"metric": "load1", "op": ">=", "value": 4, '
                                                '"for": 5, "level": "error", "name": "busy"}]')
    [rule] = load_settings().alert_rules
    assert (rule.metric, rule.op, rule.value, rule.for_, rule.level, rule.name) == (
        "load1", ">=", 4, 5, "error", "busy")
    monkeypatch.setenv("DASHBOARD_ALERT_RULES", "[]")
    assert load_settings().alert_rules == ()


@pytest.mark.parametrize("value", [
    "not json",
    '{"metric": "cpu_percent"}',
    '[{"metric": "cpu_percent", "op": ">", "value": 90}]',
    '[{"metric": "nonsense", "op": ">", "value": 90, "name": "x"}]',
    '[{"metric": "cpu_percent", "op": "=", "value": 90, "name": "x"}]',
    '[{"metric": "cpu_percent", "op": ">", "value": "high", "name": "x"}]',
    '[{"metric": "cpu_percent", "op": ">", "value": 90, "for": -5, "name": "x"}]',
    '[{"metric": "cpu_percent", "op": ">", "value": 90, "level": "info", "name": "x"}]',
    '[{"metric": "cpu_percent", "op": ">", "value": 90, "name": "x"},'
    ' {"metric": "mem_percent", "op": ">", "value": 90, "name": "x"}]',
])
def test_bad_alert_rules_name_the_variable(monkeypatch, value):
    monkeypatch.setenv("DASHBOARD_ALERT_RULES", value)
    with pytest.raises(ConfigError, match="DASHBOARD_ALERT_RULES"):
        create_app()


def test_thresholds_that_are_not_json_name_the_variable(monkeypatch):
    monkeypatch.setenv("DASHBOARD_THRESHOLDS", "cpu=50")
    with pytest.raises(ConfigError, match="DASHBOARD_THRESHOLDS"):
        load_settings()


@pytest.mark.parametrize("name", ["INGEST_TOKEN", "VIEW_TOKEN"])
def test_a_token_under_16_characters_stops_start_up_naming_it(name):
    with pytest.raises(ConfigError, match=f"DASHBOARD_{name}: .*at least 16 characters"):
        load_settings({name: "x" * 15})
    assert load_settings({name: "x" * 16})


def test_redis_over_tls_is_accepted():
    from redis.connection import SSLConnection

    from app.store import open_store

    url = "rediss://127.0.0.1:6380/0"
    assert load_settings({"STORE_URL": url}).store_url == url
    store = open_store(url, log_size=100, poll_interval=0.1)  # connects on first use only
    try:
        assert store._pool.connection_class is SSLConnection
    finally:
        store.close()


def test_history_retention_defaults_and_units(monkeypatch):
    settings = load_settings()
    assert (settings.history_raw, settings.history_minute, settings.history_hour) == (
        86400, 30 * 86400, 365 * 86400)
    monkeypatch.setenv("DASHBOARD_HISTORY_RAW", "36h")
    monkeypatch.setenv("DASHBOARD_HISTORY_MINUTE", "2w")
    monkeypatch.setenv("DASHBOARD_HISTORY_HOUR", "2y")
    settings = load_settings({"HISTORY_RAW": "7200"})
    assert (settings.history_raw, settings.history_minute, settings.history_hour) == (
        7200, 14 * 86400, 2 * 365 * 86400)


def test_the_store_gets_the_history_retention(make_app):
    store = make_app(HISTORY_RAW="2h", HISTORY_MINUTE="7d").extensions["dashboard"].store
    assert (store.history_retention.raw, store.history_retention.minute,
            store.history_retention.hour) == (7200, 7 * 86400, 365 * 86400)


@pytest.mark.parametrize("value", ["Mars/Olympus", "../etc/passwd", "UTC+1"])
def test_an_unknown_time_zone_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("DASHBOARD_TIMEZONE", value)
    with pytest.raises(ConfigError, match="DASHBOARD_TIMEZONE.*IANA"):
        load_settings()


def test_a_time_zone_by_name_is_used_for_the_charts(monkeypatch):
    from app.view.timeaxis import zone_of

    monkeypatch.setenv("DASHBOARD_TIMEZONE", "Europe/Paris")
    assert str(zone_of(load_settings().timezone)) == "Europe/Paris"
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert str(zone_of("")) == "Asia/Tokyo"  # unset: the server's own


def test_a_sentinel_url_is_accepted_and_a_bad_one_names_the_variable():
    url = "redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/0?sentinel_password=s"
    assert load_settings({"STORE_URL": url}).store_url == url
    with pytest.raises(ConfigError, match="DASHBOARD_STORE_URL: .*/service or /service/db"):
        load_settings({"STORE_URL": "redis+sentinel://127.0.0.1:26379"})
    with pytest.raises(ConfigError, match="DASHBOARD_STORE_URL: .*redis\\+sentinel://"):
        load_settings({"STORE_URL": "sentinel://127.0.0.1:26379/mymaster"})
