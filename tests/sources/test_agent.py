"""The agent: batching, the bounded buffer, backoff, the HTTP sender and the command's options.

Time is fake: ``FakeTime.sleep`` moves ``FakeTime.clock`` on, so nothing here really sleeps.
"""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.sources import agent as agent_mod
from app.sources.agent import BACKOFF_CAP, Agent, SendError, http_sender
from tests.servers import free_port


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class FakeDashboard:
    """A ``send`` that records what it took, and fails with ``error`` while one is set."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.error: SendError | None = None
        self.batches: list[list[int]] = []
        self.attempts: list[float] = []

    def __call__(self, samples: list[dict]) -> None:
        self.attempts.append(self.time.now)
        if self.error is not None:
            raise self.error
        self.batches.append([s["n"] for s in samples])


def make(batch=3, keep=100, jitter=1.0, send_every=0.0):
    time = FakeTime()
    dashboard = FakeDashboard(time)
    counter = iter(range(1, 10**6))
    agent = Agent(lambda: {"n": next(counter)}, dashboard, interval=1.0, batch=batch, keep=keep,
                  send_every=send_every, clock=time.clock, sleep=time.sleep,
                  jitter=lambda: jitter)
    return agent, dashboard, time


def run_until(agent: Agent, time: FakeTime, end: float) -> None:
    while time.now < end:
        agent.sleep(agent.step())


def test_samples_go_out_one_by_one_while_the_dashboard_takes_them(caplog):
    agent, dashboard, time = make()
    start = time.now
    run_until(agent, time, start + 3.5)
    # The first sample one interval after start (the sampler primes its counters), then 1 Hz.
    assert dashboard.attempts == [start + 1, start + 2, start + 3]
    assert dashboard.batches == [[1], [2], [3]] and agent.sent == 3 and not agent.buffer
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_with_send_every_the_samples_of_that_time_go_in_one_request_on_a_fixed_schedule():
    agent, dashboard, time = make(batch=10, send_every=5.0)
    start = time.now
    run_until(agent, time, start + 15.5)
    assert dashboard.attempts == [start + 5, start + 10, start + 15]
    assert dashboard.batches == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]]


def test_with_send_every_a_backlog_still_goes_at_once_in_batches_and_the_schedule_holds():
    agent, dashboard, time = make(batch=4, send_every=5.0)
    start = time.now
    dashboard.error = SendError("503", retry=True)
    run_until(agent, time, start + 5.5)  # the send at 5 failed: retry at 6
    dashboard.error = None
    run_until(agent, time, start + 10.5)
    assert dashboard.batches == [[1, 2, 3, 4], [5, 6], [7, 8, 9, 10]]
    assert dashboard.attempts[1:] == [start + 6, start + 6, start + 10]


def test_retries_back_off_exponentially_up_to_the_cap_and_keep_sampling(caplog):
    agent, dashboard, time = make(keep=1000)
    start = time.now
    dashboard.error = SendError("connection refused", retry=True)
    run_until(agent, time, start + 130)
    waits = [b - a for a, b in zip(dashboard.attempts, dashboard.attempts[1:])]
    assert waits == [1, 2, 4, 8, 16, BACKOFF_CAP, BACKOFF_CAP, BACKOFF_CAP]
    assert len(agent.buffer) == 129  # one sample a second all along, none lost
    assert "retry in 30.0 s" in caplog.text


def test_jitter_shortens_a_backoff_by_at_most_half():
    agent, dashboard, time = make(jitter=0.0)
    dashboard.error = SendError("down", retry=True)
    run_until(agent, time, time.now + 20)
    waits = [b - a for a, b in zip(dashboard.attempts, dashboard.attempts[1:])]
    assert waits[:4] == [0.5, 1, 2, 4]  # half of 1, 2, 4, 8


def test_the_backlog_goes_out_in_batches_oldest_first_once_the_dashboard_is_back(caplog):
    caplog.set_level(logging.INFO)
    agent, dashboard, time = make(batch=3)
    start = time.now
    dashboard.error = SendError("503", retry=True)
    run_until(agent, time, start + 7.5)  # samples 1-7 buffered; attempts at 1, 2, 4 and 8
    dashboard.error = None
    run_until(agent, time, start + 8.5)
    assert dashboard.batches == [[1, 2, 3], [4, 5, 6], [7, 8]]
    assert dashboard.attempts[-3:] == [start + 8] * 3  # one after the other, no waiting
    assert not agent.buffer and agent.failures == 0
    assert "takes samples again; 0 were dropped" in caplog.text


def test_the_buffer_is_bounded_drops_the_oldest_and_logs_how_many(caplog):
    caplog.set_level(logging.INFO)
    agent, dashboard, time = make(batch=10, keep=5)
    start = time.now
    dashboard.error = SendError("down", retry=True)
    run_until(agent, time, start + 9.5)  # 9 samples into a buffer of 5
    assert [s["n"] for s in agent.buffer] == [5, 6, 7, 8, 9] and agent.dropped == 4
    assert caplog.text.count("buffer full (5 samples); dropping the oldest") == 1
    dashboard.error = None
    run_until(agent, time, start + 16.5)  # the retry after sample 16, at start + 16
    assert dashboard.batches[0] == [12, 13, 14, 15, 16]
    assert "11 were dropped meanwhile" in caplog.text
    assert agent.dropped == 0


def test_a_refused_batch_is_dropped_and_sending_goes_on(caplog):
    agent, dashboard, time = make()
    dashboard.error = SendError("HTTP 422: invalid payload", retry=False)
    run_until(agent, time, time.now + 1.5)
    assert not agent.buffer and dashboard.batches == []
    assert "refused 1 samples (HTTP 422: invalid payload); dropped" in caplog.text
    dashboard.error = None
    run_until(agent, time, time.now + 1)
    assert dashboard.batches == [[2]]


def test_a_too_large_request_halves_the_batch_and_a_single_sample_too_large_is_dropped(caplog):
    agent, dashboard, time = make(batch=8)
    start = time.now
    dashboard.error = SendError("down", retry=True)
    run_until(agent, time, start + 7.5)
    limit = 2  # the dashboard takes at most 2 samples per request

    def send(samples):
        dashboard.attempts.append(time.now)
        if len(samples) > limit:
            raise SendError("HTTP 413", retry=True, too_large=True)
        dashboard.batches.append([s["n"] for s in samples])

    agent.send = send
    run_until(agent, time, start + 8.5)
    assert agent.batch == 2  # 8 -> 4 -> 2, each tried at once
    assert dashboard.attempts[-6:] == [start + 8] * 6  # 8 and 4 refused, then 4 batches of 2
    assert dashboard.batches == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert "2 samples per request from now on" in caplog.text
    limit = 0  # not even one sample fits: it is dropped rather than retried for ever
    run_until(agent, time, start + 9.5)
    assert agent.batch == 1 and not agent.buffer
    assert "refused 1 samples (HTTP 413); dropped" in caplog.text


def test_a_failing_sample_is_logged_and_skipped(caplog):
    time = FakeTime()
    dashboard = FakeDashboard(time)
    readings = iter([{"n": 1}, OSError("disk gone"), {"n": 3}])

    def sample():
        reading = next(readings)
        if isinstance(reading, Exception):
            raise reading
        return reading

    agent = Agent(sample, dashboard, interval=1, batch=5, keep=10, clock=time.clock,
                  sleep=time.sleep)
    run_until(agent, time, time.now + 3.5)
    assert dashboard.batches == [[1], [3]] and "sample failed" in caplog.text


def test_run_ends_on_keyboard_interrupt_and_says_what_was_not_sent(caplog):
    caplog.set_level(logging.INFO)
    agent, dashboard, time = make()
    dashboard.error = SendError("down", retry=True)

    def sleep(seconds):
        if time.now > 1010:
            raise KeyboardInterrupt  # what Ctrl-C and (through the command) SIGTERM do
        time.sleep(seconds)

    agent.sleep = sleep
    agent.run()  # returns: no exception
    assert f"0 samples sent, {len(agent.buffer)} unsent" in caplog.text and agent.buffer


# -- the HTTP sender, against a real local HTTP server ------------------------------------------

class Answer(BaseHTTPRequestHandler):
    status, body, seen, location = 202, b"{}", [], None

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        Answer.seen.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
        self._answer()

    def do_GET(self):  # noqa: N802 - where a followed redirect would land
        Answer.seen.append((self.path, dict(self.headers), None))
        self._answer()

    def _answer(self):
        self.send_response(Answer.status)
        if Answer.location:
            self.send_header("Location", Answer.location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(Answer.body)))
        self.end_headers()
        self.wfile.write(Answer.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_base():
    """One local HTTP server for the module (its shutdown takes up to half a second)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def http_server(http_base):
    Answer.seen, Answer.location = [], None
    return http_base


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(http_server, status):
    port = http_server.rsplit(":", 1)[1]
    Answer.status, Answer.body = status, b""
    Answer.location = f"http://localhost:{port}/elsewhere"  # another host name: same server
    with pytest.raises(SendError) as caught:
        http_sender(http_server, "s3cret-s3cret-s3cret")([{"host": "a"}])
    assert [path for path, _headers, _body in Answer.seen] == ["/api/v1/samples"]
    assert caught.value.retry and "/elsewhere" in str(caught.value)


def test_the_sender_posts_json_with_the_bearer_token(http_server):
    Answer.status, Answer.body = 202, b'{"ids": [1], "count": 1}'
    http_sender(http_server + "/", "s3cret-s3cret-s3cret")([{"host": "a", "n": 1}])
    [(path, headers, body)] = Answer.seen
    assert path == "/api/v1/samples" and body == {"samples": [{"host": "a", "n": 1}]}
    assert headers["Authorization"] == "Bearer s3cret-s3cret-s3cret"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("status", "retry", "too_large"), [
    (422, False, False), (400, False, False), (415, False, False), (413, True, True),
    (503, True, False), (500, True, False), (401, True, False), (409, True, False),
])
def test_the_sender_says_whether_a_refused_batch_may_be_sent_again(http_server, status, retry,
                                                                   too_large):
    Answer.status, Answer.body = status, b'{"error": "the reason"}'
    with pytest.raises(SendError) as caught:
        http_sender(http_server)([{"host": "a"}])
    assert (caught.value.retry, caught.value.too_large) == (retry, too_large)
    assert str(caught.value) == f"HTTP {status}: the reason"


def test_an_unreachable_dashboard_is_worth_a_retry():
    with pytest.raises(SendError) as caught:
        http_sender(f"http://127.0.0.1:{free_port()}", timeout=2)([{"host": "a"}])
    assert caught.value.retry and "refused" in str(caught.value).lower()


# -- the command ------------------------------------------------------------------------------

@pytest.fixture
def started(monkeypatch):
    """Agents the command built, instead of running them."""
    built = []
    monkeypatch.setattr(agent_mod.Agent, "run", lambda self: built.append(self))
    monkeypatch.setattr(agent_mod.signal, "signal", lambda *args: None)  # leave pytest's own
    return built


def test_the_command_builds_an_agent_from_its_options(app, started):
    result = app.test_cli_runner().invoke(args=[
        "agent", "--to", "http://dash.lan:8000", "--interval", "0.5", "--host", "box-7",
        "--batch", "20", "--buffer", "60", "--send-every", "5"])
    assert result.exit_code == 0, result.output
    [agent] = started
    assert (agent.interval, agent.batch, agent.keep, agent.send_every) == (0.5, 20, 120, 5.0)
    sample = agent.sample()
    assert sample["host"] == "box-7" and 0 <= sample["cpu_percent"] <= 100


def test_with_processes_the_agent_sends_a_list_every_so_often(app, started):
    result = app.test_cli_runner().invoke(args=[
        "agent", "--to", "http://dash.lan:8000", "--processes", "--host", "box-7"])
    assert result.exit_code == 0, result.output
    [agent] = started
    first = agent.sample()  # primes psutil's per-process CPU figures
    assert "processes" not in first
    time.sleep(0.1)
    rows = agent.sample()["processes"]
    assert rows and all("cmdline" not in row for row in rows)
    assert "processes" not in agent.sample()  # the next list in 5 s


def test_process_lists_come_at_their_own_pace():
    now = [0.0]
    scans = iter([None, [{"pid": 1}], [{"pid": 2}]])
    take = agent_mod.with_processes(lambda: {"host": "a"}, type("S", (), {
        "scan": lambda self: next(scans)})(), 10.0, clock=lambda: now[0])
    assert take() == {"host": "a"}  # priming
    assert take() == {"host": "a", "processes": [{"pid": 1}]}
    now[0] = 9.0
    assert take() == {"host": "a"}
    now[0] = 10.0
    assert take() == {"host": "a", "processes": [{"pid": 2}]}


@pytest.mark.parametrize(("args", "complaint"), [
    (["--to", "dash.lan:8000"], "--to"),
    (["--to", "ftp://dash.lan"], "--to"),
    (["--to", "http://d", "--host", "bad host"], "--host"),
    (["--to", "http://d", "--interval", "0"], "--interval"),
    (["--to", "http://d", "--batch", "1001"], "--batch"),
    (["--to", "http://d", "--send-every", "-1"], "--send-every"),
    ([], "--to"),
])
def test_the_command_refuses_bad_options(app, started, args, complaint):
    result = app.test_cli_runner().invoke(args=["agent", *args])
    assert result.exit_code == 2 and complaint in result.output and not started
