"""The audit page's live feed (app.live.audit): one region for every admin watching, sent again
on each new entry over the real tailer; a stream ends with its person's session."""

import gevent
import pytest

from app.domain import accounts, audit
from app.live.delivery import audit_messages
from app.view.audit import PAGE
from tests.sse_client import region
from tests.web.test_poll import settle


@pytest.fixture
def feed(make_app):
    """The app's Live with one entry and its tailer running."""
    app = make_app()
    app.test_client().get("/")  # starts the tailer
    live = app.extensions["dashboard"]
    audit.record(live.store, who="ann", role="admin", action="key-add", target="first")
    settle(live, live.store.latest_id())
    return live


def next_message(stream) -> str:
    """The next message that is not a heartbeat."""
    with gevent.Timeout(5):
        message = next(stream).decode()
        while message.startswith(":"):
            message = next(stream).decode()
    return message


def test_a_new_entry_reaches_every_watching_admin_as_the_same_bytes(feed):
    first = audit_messages(feed, 60, None)
    second = audit_messages(feed, 60, None)
    snapshot = next(first)
    assert next(second) is snapshot  # encoded once
    rows = region(snapshot.decode(), "audit-rows")
    assert rows and "first" in rows and 'hx-swap-oob="true"' in rows
    assert len(feed.audit.get().hub) == 2 and feed.viewers_here() == 0  # not dashboard viewers
    entry = audit.record(feed.store, who="key:bot", role="key", action="key-revoke",
                         target="<b>second</b>", address="203.0.113.7")
    settle(feed, feed.store.latest_id())
    change = next_message(first)
    assert next_message(second) == change
    assert change.startswith(f"id: {feed.view.last_id}\n")
    rows = region(change, "audit-rows")
    assert rows.index(f'id="audit-{entry["id"]}"') < rows.index("first")  # newest on top
    assert "&lt;b&gt;second&lt;/b&gt;" in rows and "<b>" not in rows
    first.close(), second.close()
    assert len(feed.audit.get().hub) == 0


def test_the_feed_keeps_the_newest_page_and_links_to_older(feed):
    for n in range(PAGE + 5):
        audit.record(feed.store, who="ann", role="admin", action="account-add", target=f"a{n}")
    settle(feed, feed.store.latest_id())
    entries = feed.audit.get().current().entries
    assert len(entries) == PAGE and entries[0]["target"] == f"a{PAGE + 4}"
    assert f'href="/audit?before={entries[-1]["id"]}"' in feed.audit.get().current().html


def test_a_disabled_admin_s_stream_ends(feed):
    accounts.add(feed.store, "ann", "admin", "password-123456")
    stream = audit_messages(feed, 60, None, owner=("ann", "0123456789abcdef"))
    next(stream)
    accounts.set_disabled(feed.store, "ann", True)
    with gevent.Timeout(5):
        rest = list(stream)  # the farewell, then the end
    assert rest and rest[-1].startswith(b"id: ") and b"retry: " in rest[-1]
    assert len(feed.audit.get().hub) == 0


def test_the_route_streams_the_region(make_app):
    app = make_app()
    client = app.test_client()  # no account: a local client is an admin
    response = client.get("/audit/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    first = next(iter(response.response)).decode()
    assert region(first, "audit-rows") and "retry: " in first
    response.close()


def test_each_language_gets_its_own_rows_rendered_once(feed):
    """A zh_Hans reader's stream carries Chinese rows, an English reader's English ones; each
    language's feed is rendered once for all of its readers, and exists only once read."""
    assert "zh_Hans" not in [f.rows.env.globals["language"].code for f in feed.audit]
    english = audit_messages(feed, 60, None, language="en")
    chinese = audit_messages(feed, 60, None, language="zh_Hans")
    chinese_too = audit_messages(feed, 60, None, language="zh_Hans")
    en_rows = region(next(english).decode(), "audit-rows")
    zh_snapshot = next(chinese)
    assert next(chinese_too) is zh_snapshot  # encoded once for both
    zh_rows = region(zh_snapshot.decode(), "audit-rows")
    assert ">Who<" in en_rows and ">admin<" in en_rows
    assert ">操作人<" in zh_rows and ">管理员<" in zh_rows and ">Who<" not in zh_rows
    assert len(feed.audit.get("zh_Hans").hub) == 2 and len(feed.audit.get("en").hub) == 1
    audit.record(feed.store, who="bob", role="admin", action="key-add", target="second")
    settle(feed, feed.store.latest_id())
    en_change, zh_change = next_message(english), next_message(chinese)
    assert next_message(chinese_too) == zh_change
    assert "second" in en_change and ">Who<" in en_change
    assert "second" in zh_change and ">操作人<" in zh_change and ">Who<" not in zh_change
    english.close(), chinese.close(), chinese_too.close()
    assert feed.audit.watching() == 0


def test_the_route_streams_the_readers_language(make_app):
    client = make_app().test_client()
    client.get("/audit?lang=zh_Hans")  # the cookie
    response = client.get("/audit/stream")
    rows = region(next(iter(response.response)).decode(), "audit-rows")
    response.close()
    assert "没有记录。" in rows and "No entries" not in rows
    english = make_app().test_client().get("/audit/stream")
    rows = region(next(iter(english.response)).decode(), "audit-rows")
    english.close()
    assert "No entries." in rows
