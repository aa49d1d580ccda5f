"""The compatibility streams' engine (``app.live.compat``): each client's shapes, exact, and
one encode per message for every subscriber of a stream."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import gevent
import pytest

from app.domain import approvals
from app.live import jsonstream, tasks
from app.live.compat import Compat, formats, metrics_stream, session_stream, shapes
from app.live.compat import sessions as sessions_mod
from app.live.hub import Hub
from app.store import Item
from app.view.folds import task_summary

T0 = 1_800_000_000.25
ISO0 = "2027-01-15T08:00:00.250+00:00"


def unnamed(raw: bytes) -> list[dict]:
    """The JSON of each unnamed message of ``raw`` (messages without data left out)."""
    found = []
    for block in raw.decode().split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            found.append(json.loads("\n".join(data)))
    return found


def task(state="running", progress=40.0, **extra) -> dict:
    return {"task_id": "build-7", "state": state, "progress": progress, "message": "copying",
            "estimated_seconds": 12.0, "updated_at": T0, "source": None, **extra}


def test_iso_is_utc_to_the_millisecond():
    assert shapes.iso(T0) == ISO0 and shapes.iso(None) is None


# -- the shapes, exact ----------------------------------------------------------------------------

@pytest.mark.parametrize("state, event, extra", [
    ("pending", "progress", {}), ("running", "progress", {}), ("succeeded", "complete", {}),
    ("failed", "error", {"error": "copying"}),
])
def test_progress_reads_as_the_task_progress_service_sent_it(state, event, extra):
    assert shapes.progress(task(state)) == (event, {
        "task_id": "build-7", "state": state, "progress": 40.0, "estimated_time": 12.0,
        "updated_at": ISO0, **extra})
    assert shapes.progress(task("failed", message=None))[1]["error"] == "task failed"
    raw = formats.progress_message(task(state), 42).decode()
    assert raw.startswith(f"id: 42\nevent: {event}\ndata: {{")


def test_the_demo_sends_one_metric_per_figure_and_an_alert_per_event():
    sample = {"host": "h", "ts": T0, "cpu_percent": 12.5, "mem_percent": 40.0,
              "net_rx_bps": 1000.0, "net_tx_bps": 20.0, "temperature": None, "load1": 0.5}
    demo = formats.Demo("h")
    messages = demo(Item(9, "metrics", T0 + 1, sample)).decode().split("\n\n")[:-1]
    assert all(m.startswith("id: 9\ndata: ") for m in messages)
    assert [json.loads(m.split("data: ", 1)[1]) for m in messages] == [
        {"type": "metric", "name": name, "value": value, "timestamp": ISO0}
        for name, value in (("cpu_usage", 12.5), ("memory_usage", 40.0), ("network_rx", 1000.0),
                            ("network_tx", 20.0), ("load", 0.5))]  # no sensor: no temperature
    event = Item(10, "event", T0 + 1, {"level": "warning", "message": "disk", "source": "cron",
                                       "ts": T0})
    assert unnamed(demo(event)) == [{"type": "alert", "level": "warning", "message": "disk",
                                     "timestamp": ISO0, "source": "cron"}]
    for other in (Item(11, "metrics", T0, {**sample, "host": "elsewhere"}),
                  Item(12, "custom", T0, {"readings": []}), Item(13, "task", T0, task())):
        assert demo(other) == b""


def test_the_agent_os_figures():
    tasks_ = {"total": 4, "succeeded": 3, "failed": 1, "success_rate": 75.0}
    assert shapes.agentos_metrics({"cpu_percent": 5.0, "mem_percent": 60.0}, tasks_) == {
        "counters": {"tasks_total": 4, "tasks_succeeded": 3, "tasks_failed": 1},
        "gauges": {"cpu_percent": 5.0, "memory_percent": 60.0, "success_rate": 75.0}}
    nothing = {"total": 0, "succeeded": 0, "failed": 0, "success_rate": None}
    assert shapes.agentos_metrics(None, nothing)["gauges"] == {
        "cpu_percent": None, "memory_percent": None, "success_rate": 0.0}
    item = Item(3, "event", T0, {"level": "critical", "message": "down", "source": None, "ts": T0})
    assert shapes.agentos_event(item) == {"id": 3, "level": "error", "message": "down",
                                          "source": None, "timestamp": ISO0}


def test_a_session_reads_its_approvals_tasks_and_events_as_the_agent_backend_sent_them():
    asked = {"id": "a" * 32, "title": "file_edit", "detail": "edit example.py", "source": "s1",
             "timeout_seconds": 60, "created_at": T0, "expires_at": T0 + 60, "state": "pending",
             "approved": None, "reason": None, "by": None, "answered_at": None}
    assert shapes.session_message("approval", asked, "s1", T0 + 5) == [{
        "session_id": "s1", "type": "permission_request", "timestamp": ISO0, "data": {
            "tool_name": "file_edit", "parameters": {}, "detail": "edit example.py",
            "risk_level": None, "status": "pending", "id": "a" * 32, "timestamp": ISO0,
            "expires_at": shapes.iso(T0 + 60)}}]
    approved = {**asked, "state": "approved", "approved": True, "reason": "ok", "by": "ann",
                "answered_at": T0}
    assert shapes.session_message("approval", approved, "s1", T0 + 5) == [{
        "session_id": "s1", "type": "permission_cleared", "timestamp": ISO0, "data": {
            "message": "approved", "id": "a" * 32, "state": "approved", "approved": True,
            "reason": "ok", "by": "ann", "timestamp": ISO0}}]
    status = {"session_id": "s1", "type": "tool_status", "timestamp": ISO0, "data": {
        "status": "executing", "tool_name": "build-7", "timestamp": ISO0,
        "details": {"progress": 40.0, "message": "copying", "estimated_time": 12.0}}}
    assert shapes.session_message("task", task(), "s1", T0) == [status]
    done = shapes.session_message("task", task("succeeded", 100.0), "s1", T0)
    assert [m["type"] for m in done] == ["tool_status", "tool_result"]
    assert done[0]["data"]["status"] == "completed"
    assert done[1]["data"] == {"tool_name": "build-7", "result": {"message": "copying"},
                               "success": True, "timestamp": ISO0}
    failed = shapes.session_message("task", task("failed"), "s1", T0)[1]["data"]
    assert failed["success"] is False and failed["result"] == {"error": "copying",
                                                                "success": False}
    event = {"level": "info", "message": "started", "source": "s1", "ts": T0}
    assert shapes.session_message("event", event, "s1", T0 + 1) == [{
        "session_id": "s1", "type": "tool_status", "timestamp": ISO0, "data": {
            "status": "info", "tool_name": None, "message": "started", "timestamp": ISO0,
            "details": {}}}]
    assert shapes.heartbeat(T0) == {"type": "heartbeat", "data": {}, "timestamp": 1_800_000_000.25}


# -- one encode per message, whatever the number of subscribers ---------------------------------

def view(**state) -> SimpleNamespace:
    base = {"sample": {"cpu_percent": 3.0, "mem_percent": 30.0}, "tasks": {}, "last_id": 0,
            "approvals": SimpleNamespace(by_id={})}
    return SimpleNamespace(**{**base, **state})


def compat(the_view=None, heartbeat=15.0) -> Compat:
    return Compat(the_view or view(), lambda: Hub(64), host="h", heartbeat=heartbeat,
                  retry_ms=1000)


def test_the_agent_os_stream_encodes_each_second_once_for_all_its_streams():
    engine = compat()
    subs = [engine.metrics.hub.subscribe(engine.metrics.first()) for _ in range(1000)]
    assert engine.metrics.encodes == 1  # the first message too: the newest one is shared
    for sub in subs:
        assert unnamed(sub.queue.get_nowait()) == [engine.metrics.figures()]
    now = time.monotonic()
    for second in range(3):
        engine.tick(now + second)  # every wake-up of the tailer: nothing for these streams
        engine.sweep(now + second + 0.5)  # its sweep, once a second: one message
    assert engine.metrics.encodes == 4
    sent = [sub.queue.drain() for sub in subs]
    assert all(len(got) == 3 for got in sent)
    assert all(got[i] is sent[0][i] for got in sent for i in range(3))  # the very same bytes


def test_a_session_item_is_encoded_once_for_all_the_sessions_streams(monkeypatch):
    encoded = []
    real = sessions_mod.session_messages
    monkeypatch.setattr(sessions_mod, "session_messages",
                        lambda item: encoded.append(item.id) or real(item))
    engine = compat()
    streams = engine.sessions
    mine = [streams.subscribe("s1", 60)[1] for _ in range(3)]
    other = streams.subscribe("s2", 60)[1]
    for sub in (*mine, other):
        assert unnamed(sub.queue.get_nowait()) == []  # nothing yet: retry only
    event = {"level": "info", "message": "m", "source": "s1", "ts": T0}
    engine.feed([Item(1, "event", T0, event), Item(2, "event", T0, {**event, "source": "s3"}),
                 Item(3, "task", T0, task(source="s1")), Item(4, "metrics", T0, {"host": "h"})])
    assert encoded == [1, 3]  # s3 has no stream, a sample is no session's
    joined = mine[0].queue.get_nowait()
    assert [m["type"] for m in unnamed(joined)] == ["tool_status", "tool_status"]
    assert all(sub.queue.get_nowait() is joined for sub in mine[1:])  # one write per batch
    assert other.queue.empty()
    assert streams.counts() == {"s1": 3, "s2": 1}
    for sub in mine:
        streams.unsubscribe(sub)
    assert streams.counts() == {"s2": 1} and "s1" not in streams._hubs  # no hub left behind
    engine.feed([Item(5, "event", T0, event)])
    assert encoded == [1, 3]


def test_a_new_session_stream_starts_with_its_latest_task_and_pending_approvals():
    pending = [{"id": c * 32, "title": f"tool {c}", "detail": None, "source": "s1",
                "created_at": T0 + n, "expires_at": T0 + 60, "state": "pending"}
               for n, c in enumerate("ba")]
    others = {"c" * 32: {**pending[0], "id": "c" * 32, "source": "s2"}}
    tasks_ = {"t1": Item(1, "task", T0, task(source="s1", task_id="t1")),
              "t2": Item(2, "task", T0, task("succeeded", source="s1", task_id="t2")),
              "t3": Item(3, "task", T0, task(source="s2", task_id="t3"))}
    the_view = view(tasks=tasks_, approvals=SimpleNamespace(
        by_id={a["id"]: a for a in pending} | others))
    first = compat(the_view).sessions.subscribe("s1", 60)[1].queue.get_nowait()
    assert first.startswith(b"retry: 1000\n\n")
    got = unnamed(first)
    assert [(m["type"], m["data"].get("tool_name")) for m in got] == [
        ("tool_status", "t2"), ("tool_result", "t2"),
        ("permission_request", "tool b"), ("permission_request", "tool a")]


def test_session_heartbeats_are_one_message_for_every_idle_session_and_streams_expire():
    engine = compat(heartbeat=5.0)
    a = engine.sessions.subscribe("s1", 60)[1]
    b = engine.sessions.subscribe("s2", 8)[1]
    for sub in (a, b):
        sub.queue.get_nowait()
    now = time.monotonic()
    engine.tick(now + 1)
    assert a.queue.empty()
    engine.tick(now + 6)
    beat = a.queue.get_nowait()
    assert b.queue.get_nowait() is beat
    (message,) = unnamed(beat)
    assert message["type"] == "heartbeat" and message["data"] == {}
    assert abs(message["timestamp"] - time.time()) < 5
    engine.sweep(now + 9)  # b's lifetime is over
    assert b.queue.get_nowait() is not None and engine.sessions.counts() == {"s1": 1}


def test_progress_streams_of_one_task_share_each_updates_bytes(live):
    encodes = []

    def counting(task_, log_id):
        encodes.append(log_id)
        return formats.progress_message(task_, log_id)

    queues = [live.tasks.watch("build-7", encode=counting) for _ in range(3)]
    plain = live.tasks.watch("build-7", encode=tasks.message)
    live.tasks.feed([Item(5, "task", T0, task())])
    assert encodes == [5]
    got = [queue.get_nowait() for queue in queues]
    assert all(item.id == 5 and data is got[0][1] for item, data in got)
    assert plain.get_nowait()[1] == tasks.message(task(), 5)  # its own encoding, once too


def test_the_demo_and_the_dashboard_json_stream_each_encode_an_item_once():
    calls = []
    demo = formats.Demo("h")

    def counting_demo(item):
        calls.append(("demo", item.id))
        return demo(item)

    def counting_json(item):
        calls.append(("json", item.id))
        return jsonstream.message(item)

    streams = jsonstream.JsonStreams(SimpleNamespace(last_id=0), 8, 15.0, retry_ms=1000)
    events = frozenset({"events"})
    subs = [streams.subscribe(events, 60, lambda _: b"", encode)[1]
            for encode in (counting_demo, counting_demo, counting_json)]
    item = Item(1, "event", T0, {"level": "info", "message": "x", "ts": T0})
    streams.feed([item])
    assert sorted(calls) == [("demo", 1), ("json", 1)]
    for sub in subs:
        assert sub.queue.get_nowait() == b""  # the first message
    demo_bytes = subs[0].queue.get_nowait()
    assert subs[1].queue.get_nowait() is demo_bytes
    assert unnamed(demo_bytes) == [{"type": "alert", "level": "info", "message": "x",
                                    "timestamp": ISO0, "source": None}]
    assert subs[2].queue.get_nowait() == jsonstream.message(item)


# -- the generators, on the app ------------------------------------------------------------------

def test_the_generators_subscribe_when_read_and_clean_up_when_closed(live):
    live.start()
    gen = session_stream(live.compat, "s1", 60, None)
    assert len(live.compat) == 0  # a response never read leaves nothing behind
    assert next(gen).startswith(b"retry: 1000")
    approvals.ask(live.store, title="shell", source="s1")
    with gevent.Timeout(5):  # the tailer folds it meanwhile
        got = next(gen)
    assert [m["type"] for m in unnamed(got)] == ["permission_request"]
    gen.close()
    assert len(live.compat) == 0 and not live.compat.sessions._hubs
    metrics = metrics_stream(live.compat, 60, None)
    figures = unnamed(next(metrics))
    assert figures == [shapes.agentos_metrics(live.view.sample, task_summary(live.view.tasks))]
    assert len(live.compat) == 1
    metrics.close()
    assert len(live.compat) == 0
