"""Tasks: PUT/GET under /api/v1/tasks, finality, the tasks region, and the task stream's parts."""

import json

import gevent
import pytest

from app.live import tasks
from app.store import Item

RUNNING = {"state": "running", "progress": 40, "message": "copying", "estimated_seconds": 12}


def put(client, task_id, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.put(f"/api/v1/tasks/{task_id}", data=data, content_type=content_type)


def test_put_stores_a_task_item_and_state(client, live):
    response = put(client, "backup-1", RUNNING)
    assert response.status_code == 200
    task = response.get_json()
    assert task["task_id"] == "backup-1" and task["state"] == "running"
    assert task["progress"] == 40 and task["message"] == "copying"
    assert task["estimated_seconds"] == 12 and task["updated_at"] > 0
    [item] = live.store.since(0)
    assert item.kind == "task" and item.data == task
    assert live.store.get_state("task:backup-1") == task


def test_get_one_and_list_newest_first(client):
    put(client, "a", {"state": "pending", "progress": 0})
    put(client, "b", {"state": "running", "progress": 5})
    put(client, "a", {"state": "running", "progress": 10})
    assert client.get("/api/v1/tasks/a").get_json()["progress"] == 10
    assert [t["task_id"] for t in client.get("/api/v1/tasks").get_json()] == ["a", "b"]
    assert [t["task_id"] for t in client.get("/api/v1/tasks?limit=1").get_json()] == ["a"]


@pytest.mark.parametrize("path", ["/api/v1/tasks/nope", "/api/v1/tasks/nope/stream",
                                  "/api/v1/tasks/bad%20id", "/api/v1/tasks/bad%20id/stream"])
def test_unknown_task_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.is_json
    assert "no task" in response.get_json()["error"]


@pytest.mark.parametrize("final", ["succeeded", "failed"])
def test_a_finished_task_takes_no_more_updates(client, live, final):
    assert put(client, "t", {"state": final, "progress": 100}).status_code == 200
    stored = live.store.latest_id()
    response = put(client, "t", {"state": "running", "progress": 50})
    assert response.status_code == 409 and response.is_json
    assert final in response.get_json()["error"]
    assert response.get_json()["task"]["state"] == final
    assert live.store.latest_id() == stored


BAD_TASKS = [
    # (task id, body, content type, status, what the error mentions)
    ("t", {"state": "done", "progress": 1}, "application/json", 422, "state"),
    ("t", {"progress": 1}, "application/json", 422, "state"),
    ("t", {"state": "running"}, "application/json", 422, "progress"),
    ("t", {"state": "running", "progress": 101}, "application/json", 422, "progress"),
    ("t", {"state": "running", "progress": -1}, "application/json", 422, "progress"),
    ("t", {"state": "running", "progress": "half"}, "application/json", 422, "progress"),
    ("t", {"state": "running", "progress": 1, "estimated_seconds": -5}, "application/json", 422,
     "estimated_seconds"),
    ("t", {"state": "running", "progress": 1, "message": "x" * 501}, "application/json", 422,
     "message"),
    ("t", {"state": "running", "progress": 1, "owner": "me"}, "application/json", 422, "owner"),
    ("t", "{nope", "application/json", 400, "JSON"),
    ("t", "[]", "application/json", 400, "object"),
    ("t", "state=running", "application/x-www-form-urlencoded", 415, "JSON"),
    ("x" * 101, {"state": "running", "progress": 1}, "application/json", 400, "task_id"),
    ("a$b", {"state": "running", "progress": 1}, "application/json", 400, "task_id"),
]


@pytest.mark.parametrize(("task_id", "body", "content_type", "status", "mentions"), BAD_TASKS)
def test_bad_task_update_is_rejected_and_stores_nothing(client, live, task_id, body,
                                                        content_type, status, mentions):
    response = put(client, task_id, body, content_type)
    assert response.status_code == status and response.is_json
    assert mentions in json.dumps(response.get_json())
    assert live.store.latest_id() == 0


def test_task_writes_need_the_token_like_other_writes(make_app):
    app = make_app(INGEST_TOKEN="s3cret-s3cret-s3cret")
    client = app.test_client()
    assert put(client, "t", RUNNING).status_code == 401
    response = client.put("/api/v1/tasks/t", json=RUNNING,
                          headers={"Authorization": "Bearer s3cret-s3cret-s3cret"})
    assert response.status_code == 200


# -- the region ----------------------------------------------------------------------------------

def task_item(item_id, task_id, state, progress, message=None):
    return Item(item_id, "task", 0, {"task_id": task_id, "state": state, "progress": progress,
                                     "message": message, "estimated_seconds": None,
                                     "updated_at": float(item_id)})


def test_region_shows_bars_states_and_totals(live):
    view = live.view
    changed = view.apply([
        task_item(1, "ok-1", "succeeded", 100), task_item(2, "ok-2", "succeeded", 100),
        task_item(3, "ok-3", "succeeded", 100), task_item(4, "bad", "failed", 30),
        task_item(5, "run", "running", 42.4, "<b>copying</b>"),
    ])
    assert changed == ["tasks"]
    html = view.html["tasks"]
    assert '<progress value="42.4" max="100"' in html and "42 %" in html
    assert 'class="task state-running"' in html and ">running<" in html
    assert 'class="task state-failed"' in html
    assert "&lt;b&gt;copying&lt;/b&gt;" in html and "<b>copying" not in html
    assert '<strong class="total">5</strong>' in html
    assert '<strong class="succeeded">3</strong>' in html
    assert '<strong class="failed">1</strong>' in html
    assert '<strong class="rate">75.0 %</strong>' in html
    # running first
    assert html.index('data-task="run"') < html.index('data-task="ok-3"')


def test_region_loads_the_latest_state_of_each_task_from_the_store(client, live):
    put(client, "a", {"state": "running", "progress": 10})
    put(client, "a", {"state": "succeeded", "progress": 100})
    live.view.load(live.store)
    assert '<strong class="total">1</strong>' in live.view.html["tasks"]
    assert '<strong class="succeeded">1</strong>' in live.view.html["tasks"]


def test_region_shows_a_dash_before_anything_finished(live):
    live.view.apply([task_item(1, "run", "running", 1)])
    assert '<strong class="rate">–</strong>' in live.view.html["tasks"]


# -- the stream's parts ---------------------------------------------------------------------------

def parse(data: bytes) -> dict:
    fields = dict(line.split(": ", 1) for line in data.decode().strip().split("\n"))
    return {**fields, "data": json.loads(fields["data"])}


def test_message_names_the_event_by_state():
    base = {"task_id": "t", "progress": 5, "estimated_seconds": None, "updated_at": 1.0,
            "message": "not sent"}
    for state, event in [("pending", "progress"), ("running", "progress"),
                         ("succeeded", "complete"), ("failed", "error")]:
        msg = parse(tasks.message({**base, "state": state}, 7))
        assert msg["event"] == event and msg["id"] == "7"
        assert msg["data"] == {"task_id": "t", "state": state, "progress": 5,
                               "estimated_seconds": None, "updated_at": 1.0}


def test_stream_follows_the_watcher_queue_and_ends_on_completion(live):
    live.store.set_state("task:t", task_item(1, "t", "running", 10).data)
    gen = tasks.stream(live.tasks, live.store, live.view, "t", heartbeat=0.05)
    first = parse(next(gen))
    assert first["event"] == "progress" and first["data"]["progress"] == 10
    assert len(live.tasks) == 1
    assert next(gen) == b": ping\n\n"  # nothing happened within the heartbeat
    live.tasks.feed([task_item(1, "t", "running", 10),  # the state already sent: skipped
                     task_item(2, "other", "running", 99),  # not watched by this stream
                     task_item(3, "t", "running", 60),
                     task_item(4, "t", "succeeded", 100)])
    second, third = parse(next(gen)), parse(next(gen))
    assert (second["event"], second["id"], second["data"]["progress"]) == ("progress", "3", 60)
    assert (third["event"], third["id"]) == ("complete", "4")
    with pytest.raises(StopIteration):
        next(gen)
    assert len(live.tasks) == 0


def test_closing_a_stream_unwatches_and_shutdown_ends_streams(live):
    live.store.set_state("task:t", task_item(1, "t", "running", 10).data)
    gen = tasks.stream(live.tasks, live.store, live.view, "t", heartbeat=5)
    next(gen)
    gen.close()
    assert len(live.tasks) == 0
    gen = tasks.stream(live.tasks, live.store, live.view, "t", heartbeat=5)
    next(gen)
    live.tasks.close_all()
    with pytest.raises(StopIteration):
        next(gen)
    assert len(live.tasks) == 0


def test_a_watcher_that_falls_behind_is_ended(live):
    watchers = tasks.TaskWatchers(queue_size=2)
    queue = watchers.watch("t")
    watchers.feed([task_item(i, "t", "running", i) for i in range(1, 4)])
    assert queue.get_nowait() is tasks.CLOSE and len(watchers) == 0


def test_a_task_stream_ends_after_its_lifetime_like_every_stream(live):
    live.store.set_state("task:t", task_item(1, "t", "running", 10).data)
    gen = tasks.stream(live.tasks, live.store, live.view, "t", heartbeat=5, lifetime=0.2)
    next(gen)
    with gevent.Timeout(3):  # the heartbeat (5 s) is not what ends it
        assert list(gen) == []
    assert len(live.tasks) == 0


def test_a_task_stream_whose_client_stops_reading_is_shut_down(live):
    import socket

    live.store.set_state("task:t", task_item(1, "t", "running", 10).data)
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        gen = tasks.stream(live.tasks, live.store, live.view, "t", heartbeat=5,
                           closer=server_end)
        next(gen)  # the server now waits in a write that never ends: the stream reads nothing
        live.tasks.feed([task_item(i, "t", "running", i) for i in range(2, live.tasks.queue_size + 4)])
        client_end.settimeout(5)
        assert client_end.recv(10) == b""  # shut down: the blocked write fails at once
        assert len(live.tasks) == 0


def test_stream_of_a_finished_task_is_one_complete_message(client, live):
    put(client, "t", {"state": "failed", "progress": 30})
    gevent.sleep(0.3)  # the tailer folds it
    response = client.get("/api/v1/tasks/t/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    msg = parse(response.get_data())
    assert msg["event"] == "error" and msg["data"]["state"] == "failed"
    assert msg["id"] == str(live.store.latest_id())
