"""Receivers of notifications (app.live.receivers): loaded from the settings, secrets redacted."""

from __future__ import annotations

import logging

import pytest

from app.live import receivers


def test_urls_are_redacted_to_scheme_and_host():
    assert receivers.redact_url("https://hooks.slack.com/services/T0/B0/XYZ") == \
        "https://hooks.slack.com/…"
    assert receivers.redact_url("http://user:pw@127.0.0.1:9000/") == "http://127.0.0.1:9000"
    url = "https://alice:hunter22@example.com/hook/s3cret?token=abcd1234"
    text = receivers.scrub(f"ConnectionError: {url} failed for /hook/s3cret?token=abcd1234", url)
    assert "hunter22" not in text and "s3cret" not in text and "abcd1234" not in text


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
    assert from_file.name == "apprise-0" and from_file.shown.startswith("json://127.0.0.1:9")
    with caplog.at_level(logging.ERROR):
        assert receivers.load(str(tmp_path / "missing.yml"), "") == []
    assert "no Apprise config file" in caplog.text
