"""The JSON event stream: messages per kind, channels, replay after ``Last-Event-ID``, resync,
the fan-out, heartbeats through a store outage, and the real thing on gunicorn and Redis."""

from __future__ import annotations

import json
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import gevent
import httpx
import pytest

from app.domain import alerts
from app.domain.tasks import update_task
from app.live import jsonstream, sse, tasks
from app.web.api import stream as jsonstream_api
from app.live.jsonstream import JsonStreams, messages
from app.domain.schemas import TaskIn
from app.store import Item, StoreUnavailable
from app.live.delivery import page_messages as _messages
from tests.servers import Server, free_port
from tests.sse_client import SSEClient
from tests.web.test_ops import scrape

ALL = frozenset(jsonstream.CHANNELS)
EVENTS = frozenset({"events"})
CHANNEL = {"metric": "metrics", "custom": "metrics", "event": "events", "alert": "alerts",
           "task": "tasks"}


def split(raw: bytes) -> list[dict]:
    """SSE bytes -> one dict per message: field -> value (``data`` lines joined, the data of
    a named message decoded from JSON), comments under ``comment``."""
    found = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        fields: dict = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            key, value = name or "comment", value.removeprefix(" ")
            fields[key] = f"{fields[key]}\n{value}" if key == "data" and key in fields else value
        if "event" in fields and "data" in fields:
            fields["data"] = json.loads(fields["data"])
        found.append(fields)
    return found


class Reader:
    """The messages of a stream (a generator, or a test client's streamed response), one by one."""

    def __init__(self, body) -> None:
        self.body = body
        self._chunks = iter(getattr(body, "response", body))
        self._pending: deque[dict] = deque()

    def next(self, timeout: float = 5.0) -> dict:
        with gevent.Timeout(timeout):  # the tailer runs while this greenlet waits
            while not self._pending:
                self._pending.extend(split(next(self._chunks)))
        return self._pending.popleft()

    def take(self, count: int) -> list[dict]:
        return [self.next() for _ in range(count)]

    def wait_for(self, predicate, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while not predicate(message := self.next(max(deadline - time.monotonic(), 0.001))):
            pass
        return message

    def close(self) -> None:
        self.body.close()


@pytest.fixture
def open_stream(client):
    """Open streams with the test client: ``open_stream(url, **headers)`` -> (response, Reader)."""
    opened = []

    def open_(url: str, **headers):
        response = client.get(url, headers=headers, buffered=False)
        opened.append(response)
        return response, Reader(response)

    yield open_
    for response in opened:
        response.close()


def caught_up(live) -> None:
    """Wait until the tailer folded everything the store holds."""
    with gevent.Timeout(5):
        while live.view.last_id < live.store.latest_id():
            gevent.sleep(0.01)


def event(live, text: str = "e") -> int:
    return live.store.append("event", {"level": "info", "message": text, "source": None,
                                       "ts": time.time()})


def one_of_each(client, live) -> list[tuple[str, int]]:
    """Log one item of every streamed kind; return (event name, log id) in log order."""
    store = live.store
    logged = [("metric", store.append("metrics", {"host": "elsewhere", "cpu_percent": 1.0}))]
    response = client.post("/api/v1/metrics", json={"metrics": [{"name": "depth", "value": 3}]})
    logged.append(("custom", response.get_json()["id"]))
    logged.append(("event", client.post("/api/v1/events", json={"message": "m"}).get_json()["id"]))
    alerts.save(store, {"id": f"a{time.time_ns()}", "name": "disk", "level": "warning",
                        "state": "firing", "message": "m", "host": None, "metric": None,
                        "source": "api", "started_at": time.time(), "ended_at": None,
                        "value": None, "peak": None})
    logged.append(("alert", store.latest_id()))
    assert client.put("/api/v1/tasks/t1", json={"state": "running", "progress": 5}).status_code == 200
    logged.append(("task", store.latest_id()))
    return logged


# -- messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, data, name, expected", [
    ("metrics", {"host": "h", "cpu_percent": 5.5}, "metric",
     {"id": 7, "ts": 100.5, "host": "h", "cpu_percent": 5.5}),
    ("custom", {"metrics": [{"name": "q", "value": 1}], "ts": 100.25}, "custom",
     {"id": 7, "ts": 100.25, "metrics": [{"name": "q", "value": 1}]}),
    # An event's own ts wins over the store's; so does an alert's own id over the log id.
    ("event", {"level": "info", "message": "é\nx", "source": None, "ts": 99.0}, "event",
     {"id": 7, "ts": 99.0, "level": "info", "message": "é\nx", "source": None}),
    ("alert", {"id": "a1", "name": "cpu-high", "state": "firing"}, "alert",
     {"id": "a1", "ts": 100.5, "name": "cpu-high", "state": "firing"}),
    ("task", {"task_id": "t", "state": "running", "progress": 5}, "task",
     {"id": 7, "ts": 100.5, "task_id": "t", "state": "running", "progress": 5}),
])
def test_each_kind_is_one_named_message_of_compact_json(kind, data, name, expected):
    raw = jsonstream.message(Item(7, kind, 100.5, data))
    assert raw == (f"id: 7\nevent: {name}\ndata: "
                   + json.dumps(expected, separators=(",", ":")) + "\n\n").encode()
    assert jsonstream.channel_of(Item(7, kind, 100.5, data)) == CHANNEL[name]


def test_other_kinds_belong_to_no_channel():
    assert jsonstream.channel_of(Item(1, "something-new", 0.0, {})) is None


# -- the routes -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, field", [
    ("/api/v1/stream?channels=logs", "channels"),
    ("/api/v1/stream?channels=", "channels"),
    ("/api/v1/stream?channels=events,", "channels"),
    ("/api/v1/stream?last_event_id=abc", "last_event_id"),
    ("/api/v1/stream?last_event_id=-1", "last_event_id"),
    ("/api/v1/stream?since=3", "since"),
    ("/api/events/all?channels=events", "channels"),  # the demo's paths have their channels
])
def test_a_bad_query_is_a_400_naming_the_parameter(client, live, url, field):
    response = client.get(url)
    assert response.status_code == 400 and response.is_json
    assert field in response.get_json()["error"]
    assert [d["field"] for d in response.get_json()["details"]] == [field]
    assert len(live.json) == 0


def test_an_unknown_demo_path_is_a_404(client):
    assert client.get("/api/events/tasks").status_code == 404


def test_with_a_view_token_the_streams_need_a_session(make_app):
    client = make_app(VIEW_TOKEN="letmein-letmein-letmein").test_client()
    for url in ("/api/v1/stream", "/api/events/all"):
        response = client.get(url)
        assert response.status_code == 401 and response.is_json
    assert client.post("/login", data={"token": "letmein-letmein-letmein"}).status_code == 303
    response = client.get("/api/v1/stream", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    response.close()


def test_a_fresh_stream_starts_at_the_position_then_sends_its_channels(client, live,
                                                                        open_stream):
    client.get("/healthz")  # starts the tailer
    first_id = event(live)
    caught_up(live)
    response, reader = open_stream("/api/v1/stream?channels=events,alerts")
    assert response.headers["Cache-Control"] == "no-cache, no-transform"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert reader.next() == {"id": str(first_id), "retry": "1000"}  # no data: not an event
    logged = one_of_each(client, live)
    got = reader.take(2)
    assert [(m["event"], int(m["id"])) for m in got] == [
        (name, log_id) for name, log_id in logged if name in ("event", "alert")]
    assert got[0]["data"]["message"] == "m" and got[0]["data"]["id"] == int(got[0]["id"])
    last = event(live, "last")  # nothing of the other channels came in between
    assert reader.next()["id"] == str(last)
    reader.close()
    assert len(live.json) == 0


@pytest.mark.parametrize("path, names", [
    ("/api/v1/stream", ["metric", "custom", "event", "alert", "task"]),
    ("/api/v1/stream?channels=metrics", ["metric", "custom"]),
    ("/api/v1/stream?channels=tasks,%20events", ["event", "task"]),
])
def test_channels_choose_what_is_sent(client, live, open_stream, path, names):
    client.get("/healthz")
    _, reader = open_stream(path)
    reader.next()
    logged = one_of_each(client, live)
    assert [(m["event"], int(m["id"])) for m in reader.take(len(names))] == [
        (name, log_id) for name, log_id in logged if name in names]
    again = one_of_each(client, live)  # the next message is the next item of the channels
    assert reader.next()["id"] == str(next(i for name, i in again if name in names))


# -- replay and resync ------------------------------------------------------------------------

def test_replay_sends_exactly_the_later_items_of_the_channels_then_live_ones(client, live,
                                                                             open_stream):
    client.get("/healthz")
    logged = one_of_each(client, live) + one_of_each(client, live)
    seen = logged[2][1]  # the client had everything up to the first event
    _, reader = open_stream("/api/v1/stream?channels=events,tasks", **{"Last-Event-ID": str(seen)})
    assert reader.next() == {"retry": "1000"}  # no id: a client cut off now resumes from seen
    expected = [(n, i) for n, i in logged if i > seen and n in ("event", "task")]
    assert [(m["event"], int(m["id"])) for m in reader.take(len(expected))] == expected
    live_id = event(live, "live")
    message = reader.next()
    assert (message["id"], message["data"]["message"]) == (str(live_id), "live")


def test_items_logged_around_subscribing_come_once_from_the_store_or_the_hub(live):
    live.start()
    ids = [event(live) for _ in range(5)]
    caught_up(live)
    resuming = Reader(messages(live.json, live.store, EVENTS, 60, None, after=ids[0]))
    fresh = Reader(messages(live.json, live.store, EVENTS, 60, None))
    unfolded = [event(live) for _ in range(2)]  # logged; the tailer folds them after subscribing
    assert resuming.next() == {"retry": "1000"}  # subscribed at ids[-1]
    assert fresh.next() == {"id": str(ids[-1]), "retry": "1000"}
    more = [event(live) for _ in range(3)]  # in the store while the replay reads it
    assert [int(m["id"]) for m in resuming.take(9)] == ids[1:] + unfolded + more
    assert [int(m["id"]) for m in fresh.take(5)] == unfolded + more
    last = event(live)
    assert resuming.next()["id"] == fresh.next()["id"] == str(last)


def test_the_query_parameter_resumes_and_the_header_wins(client, live, open_stream):
    client.get("/healthz")
    ids = [event(live) for _ in range(4)]
    _, reader = open_stream(f"/api/v1/stream?last_event_id={ids[1]}")
    assert reader.next() == {"retry": "1000"}
    assert [int(m["id"]) for m in reader.take(2)] == ids[2:]
    _, reader = open_stream(f"/api/events/all?last_event_id={ids[0]}",
                            **{"Last-Event-ID": str(ids[2])})
    reader.next()
    assert reader.next()["id"] == str(ids[3])
    _, reader = open_stream(f"/api/v1/stream?last_event_id={ids[2]}", **{"Last-Event-ID": " "})
    reader.next()  # an empty header counts as absent
    assert reader.next()["id"] == str(ids[3])


def test_an_id_whose_items_were_trimmed_gets_a_resync_then_live_ones(make_app):
    app = make_app(LOG_SIZE=100)
    client, live = app.test_client(), app.extensions["dashboard"]
    client.get("/healthz")
    for n in range(350):
        event(live, f"e{n}")
    caught_up(live)
    first, latest = live.store.first_id(), live.store.latest_id()
    assert first > 2
    response = client.get("/api/v1/stream", headers={"Last-Event-ID": "1"}, buffered=False)
    reader = Reader(response)
    assert reader.next() == {"id": str(latest), "event": "resync", "retry": "1000",
                             "data": {"reason": "trimmed", "latest_id": latest}}
    live_id = event(live, "live")
    assert reader.next()["id"] == str(live_id)
    reader.close()
    # The oldest kept item follows the client's id: nothing is missing, so it is a replay.
    response = client.get("/api/v1/stream", headers={"Last-Event-ID": str(first - 1)},
                          buffered=False)
    reader = Reader(response)
    assert reader.next() == {"retry": "1000"}
    assert reader.next()["id"] == str(first)
    reader.close()


@pytest.mark.parametrize("header, reason", [
    ("1000000", "unknown"), ("abc", "invalid"), ("-1", "invalid"), ("1.5", "invalid"),
    ("٤٢", "invalid"), ("9" * 30, "invalid")])
def test_an_id_above_the_newest_or_not_an_id_gets_a_resync(client, live, open_stream,
                                                            header, reason):
    client.get("/healthz")
    latest = event(live)
    caught_up(live)
    _, reader = open_stream("/api/v1/stream", **{"Last-Event-ID": header})
    assert reader.next() == {"id": str(latest), "event": "resync", "retry": "1000",
                             "data": {"reason": reason, "latest_id": latest}}
    live_id = event(live)
    assert reader.next()["id"] == str(live_id)
    _, reader = open_stream("/api/v1/stream", **{"Last-Event-ID": str(latest + 1)})
    assert reader.next() == {"retry": "1000"}  # the newest id is no resync


def _mid_replay(live, monkeypatch, count: int) -> tuple[list[int], Reader]:
    """``count`` events, and a stream replaying them from id 0 that has read its first batch
    of 10 (one store read) and sent it."""
    monkeypatch.setattr(jsonstream, "REPLAY_BATCH", 10)
    live.start()
    ids = [event(live) for _ in range(count)]
    caught_up(live)
    reader = Reader(messages(live.json, live.store, ALL, 60, None, after=0))
    reader.next()
    assert [int(m["id"]) for m in reader.take(10)] == ids[:10]
    return ids, reader


def test_a_long_replay_lets_other_greenlets_run_between_its_pages(live, monkeypatch):
    """Last-Event-ID: 0 on a long log must not hold the worker until the whole log is sent."""
    monkeypatch.setattr(jsonstream, "REPLAY_BATCH", 10)
    live.start()
    ids = [event(live) for _ in range(50)]
    caught_up(live)
    ran_at: list[int] = []  # how many pages the replay had read when the other greenlet ran
    pages = []

    def other():
        while len(ran_at) < 100:
            ran_at.append(len(pages))
            gevent.sleep(0)

    gevent.spawn(other)
    body = messages(live.json, live.store, ALL, 60, None, after=0)
    next(body)  # the first message (no id), sent before the replay
    for _ in range(5):
        pages.append(next(body))  # no wait of ours in between: only the replay may switch
    body.close()
    assert b"".join(pages).count(b"id: ") == len(ids)  # five pages of ten: every event
    assert {1, 2, 3, 4} <= set(ran_at)


def test_a_replay_whose_items_are_trimmed_meanwhile_resyncs(live, monkeypatch):
    ids, reader = _mid_replay(live, monkeypatch, 40)
    live.store._db.execute("DELETE FROM log WHERE id <= ?", (ids[20],))  # a trim, under it
    assert reader.next() == {"id": str(ids[-1]), "event": "resync", "retry": "1000",
                             "data": {"reason": "trimmed", "latest_id": ids[-1]}}
    live_id = event(live)
    assert reader.next()["id"] == str(live_id)


def test_a_replay_the_store_cannot_serve_ends_the_stream_without_a_farewell(live, monkeypatch):
    live.start()
    after = event(live)
    event(live)
    caught_up(live)
    reader = Reader(messages(live.json, live.store, ALL, 60, None, after=after))
    reader.next()

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(live.store, "since", down)
    with pytest.raises(StopIteration):
        reader.next()  # the client reconnects with the id it has
    assert len(live.json) == 0


def test_a_store_that_is_down_when_resuming_tells_the_client_to_retry(client, live,
                                                                       monkeypatch):
    client.get("/healthz")

    def down():
        raise StoreUnavailable("down")

    monkeypatch.setattr(live.store, "latest_id", down)
    response = client.get("/api/v1/stream", headers={"Last-Event-ID": "1"})
    # Not a 503: EventSource never reconnects after an error status, but does after an end.
    assert response.status_code == 200 and response.get_data() == b"retry: 1000\n\n"
    assert len(live.json) == 0


def stall(live, monkeypatch) -> dict:
    """Make the tailer see nothing new until ``state["stalled"]`` is set False."""
    state, real_wait = {"stalled": True}, live.store.wait

    def wait(after_id, timeout, poll=None):
        if state["stalled"]:
            gevent.sleep(min(timeout, 0.05))
            return []
        return real_wait(after_id, timeout, poll)

    monkeypatch.setattr(live.store, "wait", wait)
    return state


def test_a_client_ahead_of_this_tailer_waits_for_it_and_gets_no_duplicate(client, live,
                                                                          open_stream,
                                                                          monkeypatch):
    client.get("/healthz")
    caught_up(live)
    state = stall(live, monkeypatch)
    ids = [event(live) for _ in range(2)]  # the client saw both through another host
    gevent.spawn_later(0.3, state.update, stalled=False)
    _, reader = open_stream("/api/v1/stream", **{"Last-Event-ID": str(ids[1])})
    assert reader.next() == {"retry": "1000"}
    live_id = event(live)
    assert reader.next()["id"] == str(live_id)


def test_a_client_this_tailer_does_not_catch_up_with_is_told_to_retry(client, live,
                                                                      monkeypatch):
    monkeypatch.setattr(jsonstream_api, "CATCH_UP", 0.2)
    client.get("/healthz")
    caught_up(live)
    stall(live, monkeypatch)
    ahead = event(live)
    response = client.get("/api/v1/stream", headers={"Last-Event-ID": str(ahead)})
    assert response.status_code == 200 and response.get_data() == b"retry: 1000\n\n"
    assert len(live.json) == 0


# -- endings ----------------------------------------------------------------------------------

def test_shutdown_ends_with_the_position_it_was_closed_at(live):
    live.start()
    first = event(live)
    caught_up(live)
    reader = Reader(messages(live.json, live.store, EVENTS, 60, None))
    assert reader.next() == {"id": str(first), "retry": "1000"}
    live.json.close_all()
    event(live)  # folded after the close: this stream never gets it, so its id is not the last
    caught_up(live)
    assert reader.next() == {"id": str(first), "retry": "1000"}
    with pytest.raises(StopIteration):
        reader.next()
    assert len(live.json) == 0
    late = Reader(messages(live.json, live.store, EVENTS, 60, None))  # opened during shutdown
    assert late.next() == late.next() == {"id": str(live.view.last_id), "retry": "1000"}


def test_shutdown_during_a_replay_ends_it_at_the_last_id_sent(live, monkeypatch):
    ids, reader = _mid_replay(live, monkeypatch, 30)
    live.json.close_all()
    assert reader.next() == {"id": str(ids[9]), "retry": "1000"}
    with pytest.raises(StopIteration):
        reader.next()


def test_a_stream_ends_after_its_lifetime_with_a_farewell(live):
    live.start()
    reader = Reader(messages(live.json, live.store, ALL, 0.2, None))
    first = reader.next()
    assert reader.next(timeout=3) == first  # id and retry: the client resumes from there


def test_closing_a_stream_unsubscribes_it(live):
    live.start()
    for after in (None, 0):
        event(live)
        caught_up(live)
        gen = messages(live.json, live.store, ALL, 60, None, after=after)
        next(gen)
        if after is not None:
            next(gen)  # a replay batch
        assert len(live.json) == 1
        gen.close()  # what the WSGI server does when the client hangs up
        assert len(live.json) == 0 and not live.json._streams


# -- the fan-out ------------------------------------------------------------------------------

def json_streams(queue_size: int = 8, heartbeat: float = 15.0) -> JsonStreams:
    return JsonStreams(SimpleNamespace(last_id=0), queue_size, heartbeat, retry_ms=1000)


def test_each_item_is_encoded_once_and_each_hub_gets_one_joined_write():
    encoded, real = [], jsonstream.message

    def counting(item):
        encoded.append(item.id)
        return real(item)

    streams = json_streams()
    items = [Item(1, "metrics", 1.0, {"host": "h"}), Item(2, "event", 2.0, {"message": "x"}),
             Item(3, "task", 3.0, {"task_id": "t"}), Item(4, "event", 4.0, {"message": "y"})]
    streams.feed(items)
    assert encoded == []  # nobody listens
    a, b, c = (streams.subscribe(channels, 60, lambda position: b"first", counting)[1]
               for channels in (EVENTS, EVENTS, frozenset({"events", "metrics"})))
    streams.feed(items)
    assert encoded == [1, 2, 4]  # once each, and the task not at all: nobody wants it
    for sub in (a, b, c):
        assert sub.queue.get_nowait() == b"first"
    joined = a.queue.get_nowait()
    assert joined == real(items[1]) + real(items[3])
    assert b.queue.get_nowait() is joined  # the very same bytes
    assert c.queue.get_nowait() == real(items[0]) + real(items[1]) + real(items[3])
    assert all(sub.queue.empty() for sub in (a, b, c))


def test_a_burst_of_1000_items_is_one_queued_write():
    streams = json_streams(queue_size=2)
    _, sub, _ = streams.subscribe(EVENTS, 60, lambda position: b"first")
    streams.feed([Item(n, "event", 0.0, {"n": n}) for n in range(1, 1001)])
    assert not sub.dropped and sub.queue.qsize() == 2
    sub.queue.get_nowait()
    assert sub.queue.get_nowait().count(b"\nevent: event\n") == 1000


def test_idle_hubs_get_a_heartbeat_once_per_interval():
    streams = json_streams(heartbeat=5)
    _, sub, _ = streams.subscribe(EVENTS, 60, lambda position: b"first")
    sub.queue.get_nowait()
    now = time.monotonic()
    streams.tick(now + 1)
    assert sub.queue.empty()
    streams.tick(now + 6)
    assert sub.queue.get_nowait() == sse.HEARTBEAT
    streams.tick(now + 7)
    assert sub.queue.empty()


def test_a_slow_json_client_is_dropped_and_counted_but_not_as_a_viewer(make_app):
    app = make_app(QUEUE_SIZE=2)
    client, streams = app.test_client(), app.extensions["dashboard"].json
    _, slow, _ = streams.subscribe(EVENTS, 60, lambda position: b"first")
    _, reader, _ = streams.subscribe(frozenset({"events", "alerts"}), 60, lambda p: b"first")
    streams.feed([Item(1, "event", 0.0, {}), Item(2, "event", 0.0, {})])  # one write each
    reader.queue.get_nowait(), reader.queue.get_nowait()
    streams.feed([Item(3, "event", 0.0, {})])  # slow's queue (first, 1-2) is full
    assert slow.dropped and not reader.dropped and len(streams) == 1
    samples = scrape(client)
    assert samples[("dashboard_slow_consumer_drops_total", ())] == 1
    assert samples[("dashboard_messages_sent_total", ())] == 2 + 2 + 1  # messages x clients
    assert samples[("dashboard_viewers", ())] == 0


def test_streams_heartbeat_through_a_store_outage_and_resume_by_themselves(make_app,
                                                                           monkeypatch):
    app = make_app(HEARTBEAT=0.2)
    client, live = app.test_client(), app.extensions["dashboard"]
    assert client.put("/api/v1/tasks/t", json={"state": "running", "progress": 1}).status_code == 200
    caught_up(live)
    page = Reader(_messages(live, 60, None))
    feed = Reader(messages(live.json, live.store, EVENTS, 60, None))
    task = Reader(tasks.stream(live.tasks, live.store, live.view, "t", 0.2))
    for reader in (page, feed, task):
        reader.next()
    real_wait = live.store.wait

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(live.store, "wait", down)
    gevent.sleep(0.3)  # the tailer is in its outage now
    written = event(live, "written while the tailer could not read")
    update_task(live.store, "t", TaskIn(state="running", progress=50))
    for reader in (page, feed, task):
        for _ in range(2):
            reader.wait_for(lambda m: m.get("comment") == "ping", timeout=4)
    monkeypatch.setattr(live.store, "wait", real_wait)  # the store is back
    assert feed.wait_for(lambda m: "event" in m, timeout=4)["id"] == str(written)
    page.wait_for(lambda m: "written while" in m.get("data", ""), timeout=4)
    assert task.wait_for(lambda m: "event" in m, timeout=4)["data"]["progress"] == 50


def test_after_an_outage_a_log_that_parted_from_ours_is_resumed_where_both_agree(
        make_app, monkeypatch):
    # What a Redis failover can do (replication is asynchronous): the new primary lacks the
    # newest items the tailer read, and gives their ids to new ones. Played on SQLite, whose
    # waits cooperate with this test's greenlet (a Redis XREAD here would block the thread).
    app = make_app(HEARTBEAT=0.2)
    client, live = app.test_client(), app.extensions["dashboard"]
    client.get("/healthz")  # starts the tailer
    for n in range(5):
        event(live, f"before {n}")
    caught_up(live)
    feed = Reader(messages(live.json, live.store, EVENTS, 60, None))
    feed.next()
    real_wait = live.store.wait

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(live.store, "wait", down)
    gevent.sleep(0.3)  # the tailer is in its outage now
    with live.store._db:  # ids 4 and 5 lost, the counter back at 3
        live.store._db.execute("DELETE FROM log WHERE id > 3")
        live.store._db.execute("UPDATE sqlite_sequence SET seq = 3 WHERE name = 'log'")
    new = [event(live, f"after {n}") for n in range(3)]
    assert new == [4, 5, 6]
    monkeypatch.setattr(live.store, "wait", real_wait)  # the store is back
    farewell = feed.wait_for(lambda m: "retry" in m and "data" not in m, timeout=5)
    assert farewell["id"] == "3"  # the newest id both logs agree on
    caught_up(live)
    resumed = Reader(messages(live.json, live.store, EVENTS, 60, None, after=3))
    got = [resumed.wait_for(lambda m: "event" in m) for _ in range(3)]
    assert [(m["id"], m["data"]["message"]) for m in got] == [
        ("4", "after 0"), ("5", "after 1"), ("6", "after 2")]


# -- on gunicorn ------------------------------------------------------------------------------

# A heartbeat every second: SSEClient.close() waits for its reader thread, which only wakes up
# when something arrives, and an events-only stream is otherwise quiet.
QUICK_HEARTBEAT = {"DASHBOARD_HEARTBEAT": "1"}


@pytest.mark.server
def test_a_client_that_reconnects_gets_exactly_what_it_missed_then_live_ones(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", **QUICK_HEARTBEAT}
    with Server(free_port(), env) as server, httpx.Client(base_url=server.url) as api:
        url = server.url + "/api/v1/stream?channels=events"
        with SSEClient(url) as client:
            first = client.next(5)
            assert first.id is not None and first.retry == 1000 and first.event is None
            seen = api.post("/api/v1/events", json={"message": "seen"}).json()["id"]
            assert client.wait_for(lambda m: m.event is not None, 5).id == str(seen)
        missed = [api.post("/api/v1/events", json={"message": f"missed {n}"}).json()["id"]
                  for n in range(100)]
        with SSEClient(url, headers={"Last-Event-ID": str(seen)}) as client:
            head = client.next(5)
            assert head.retry == 1000 and head.id is None and head.event is None
            live_id = api.post("/api/v1/events", json={"message": "live"}).json()["id"]
            got = [client.wait_for(lambda m: m.event is not None, 10) for _ in range(101)]
    assert [m.event for m in got] == ["event"] * 101
    assert [int(m.id) for m in got] == missed + [live_id]
    assert [json.loads(m.data)["message"] for m in got] == [
        f"missed {n}" for n in range(100)] + ["live"]


@pytest.mark.server
def test_two_hosts_of_two_workers_stream_every_event_once_in_log_order(redis_url):
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_ALERT_RULES": "[]",  # our events only
           **QUICK_HEARTBEAT}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}, workers=2) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}, workers=2) as b, \
            SSEClient(a.url + "/api/v1/stream?channels=events") as on_a, \
            SSEClient(b.url + "/api/v1/stream?channels=events") as on_b, \
            httpx.Client(base_url=a.url) as to_a, httpx.Client(base_url=b.url) as to_b:
        for stream in (on_a, on_b):
            assert stream.next(5).retry == 1000
        deadline = time.monotonic() + 60

        def post(n: int) -> int:
            response = (to_a, to_b)[n % 2].post("/api/v1/events", json={"message": f"seq {n}"})
            assert response.status_code == 201
            return response.json()["id"]

        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(post, range(1000)))
        received = {}
        for name, stream in (("a", on_a), ("b", on_b)):
            received[name] = [
                stream.wait_for(lambda m: m.event is not None,
                                max(deadline - time.monotonic(), 0.001))
                for _ in range(1000)]
    for got in received.values():
        assert [m.event for m in got] == ["event"] * 1000
        assert [int(m.id) for m in got] == sorted(ids)  # every one, once, in log order
        assert sorted(int(json.loads(m.data)["message"].split()[1]) for m in got) == list(range(1000))
    assert [m.data for m in received["a"]] == [m.data for m in received["b"]]
