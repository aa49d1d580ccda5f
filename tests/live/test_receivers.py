"""Receivers of notifications (app.live.receivers): loaded from the settings, secrets redacted."""

from __future__ import annotations

import logging

import pytest

from app.live import receivers


def test_urls_are_redacted_to_their_scheme():
    assert receivers.redact_url("https://hooks.slack.com/services/T0/B0/XYZ") == "https://…"
    assert receivers.redact_url("http://user:pw@127.0.0.1:9000/") == "http://…"
    # ntfy's topic is its host part, as good as a password: it used to show.
    assert receivers.redact_url("ntfy://my-secret-topic") == "ntfy://…"
    url = "https://alice:hunter22@example.com/hook/s3cret?token=abcd1234"
    text = receivers.scrub(f"ConnectionError: {url} failed for /hook/s3cret?token=abcd1234", url)
    assert "hunter22" not in text and "s3cret" not in text and "abcd1234" not in text
    text = receivers.scrub("Failed to send ntfy notification to my-secret-topic: 403", "ntfy://my-secret-topic")
    assert "secret" not in text


# Apprise's plugins import the stdlib's imghdr, deprecated (not an error) on this Python.
@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_load_takes_urls_or_a_config_file_and_leaves_out_bad_ones(tmp_path, caplog):
    found = receivers.load("json://127.0.0.1:9/a nosuch://x/yz-secret",
                           "http://127.0.0.1:9/hook")
    assert [r.name for r in found] == ["webhook-0", "apprise-0"]
    assert "yz-secret" not in caplog.text and "entry 2" in caplog.text
    config = tmp_path / "apprise.txt"
    config.write_text("json://127.0.0.1:9/from-file\n")
    [from_file] = receivers.load(str(config), "")
    assert from_file.name == "apprise-0" and from_file.shown == "json://…"
    with caplog.at_level(logging.ERROR):
        assert receivers.load(str(tmp_path / "missing.yml"), "") == []
    assert "no Apprise config file" in caplog.text


@pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
def test_an_ntfy_topic_shows_nowhere():
    # ntfy's topic is the host part of its URL and as good as a password: it was in the
    # notifier's start-up line (shown) and in the delivery error on every alert card.
    [ntfy] = receivers.load("ntfy://my-secret-topic", "")
    assert ntfy.shown == "ntfy://…"
    apprise_log = logging.getLogger("apprise")

    def refuse(**_):
        apprise_log.warning("Failed to send ntfy notification to my-secret-topic (ntfy.sh): "
                            "403 - forbidden for ntfy://my-secret-topic/")
        return False

    ntfy.plugin.notify = refuse
    alert = {"id": "a1", "name": "disk", "level": "critical", "message": "full", "host": "h",
             "value": None, "started_at": 0.0, "ended_at": None, "source": None}
    with pytest.raises(receivers.SendFailed) as refused:
        ntfy.send({"alert": alert, "status": "firing", "key": "a1-1"}, "http://dash")
    assert "secret" not in str(refused.value) and "403" in str(refused.value)
    assert not apprise_log.propagate  # Apprise's own lines stay out of the server's log
