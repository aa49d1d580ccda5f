"""The ask command's parts: SSE parsing, reconnecting with Last-Event-ID and backoff, giving up,
and the exit status and line it prints (the real command runs in the browser test)."""

import io
import json
import urllib.error

import pytest

from app.sources import ask
from app.sources.ask import AskError, Event, Waiter, describe, parse_sse

REQUEST = [b"event: permission_request\n", b"id: 7\n", b'data: {"id": "a", "state": "pending"}\n',
           b"\n"]
DENIED = {"id": "a", "state": "denied", "approved": False, "reason": "not now", "by": "page",
          "at": 5.0}


def outcome_lines(data: dict, event: str = "permission_response", log_id: str = "9"):
    return [f"event: {event}\n".encode(), f"id: {log_id}\n".encode(),
            f"data: {json.dumps(data)}\n".encode(), b"\n"]


def test_parse_sse_skips_comments_and_joins_data_lines():
    lines = [b": ping\n", b"\n", b"event: x\r\n", b"id: 3\n", b"data: a\n", b"data: b\n", b"\n",
             b"data: c\n", b"\n"]
    assert list(parse_sse(lines)) == [Event("x", "3", "a\nb"), Event(None, "3", "c")]


class FakeStreams:
    """``open_stream`` for a Waiter: each call plays the next script (lines, or an exception
    to raise on connect, or lines then an exception mid-stream) and records its Last-Event-ID."""

    def __init__(self, *scripts) -> None:
        self.scripts = list(scripts)
        self.asked_with: list[str | None] = []

    def __call__(self, last_id):
        self.asked_with.append(last_id)
        script = self.scripts.pop(0)
        if isinstance(script, BaseException):
            raise script
        lines, error = script if isinstance(script, tuple) else (script, None)

        def read():
            yield from lines
            if error is not None:
                raise error

        class Response(io.RawIOBase):
            def __iter__(self):
                return read()

        return Response()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def waiter(streams, fake, deadline=1000.0):
    return Waiter(streams, deadline=deadline, clock=fake.clock, sleep=fake.sleep,
                  jitter=lambda: 1.0)


def test_reconnects_with_last_event_id_and_backs_off_until_the_answer():
    fake = FakeTime()
    streams = FakeStreams((REQUEST, ConnectionResetError("cut")),  # broken after the request
                          urllib.error.URLError("refused"), urllib.error.URLError("refused"),
                          urllib.error.HTTPError("u", 502, "bad gateway", {}, io.BytesIO(b"")),
                          outcome_lines(DENIED))
    assert waiter(streams, fake).wait() == DENIED
    assert streams.asked_with == [None, "7", "7", "7", "7"]
    assert fake.slept == [1.0, 2.0, 4.0, 8.0]  # doubling, from BACKOFF_BASE


def test_a_stream_that_ends_cleanly_is_opened_again():
    fake = FakeTime()
    streams = FakeStreams(REQUEST, outcome_lines({**DENIED, "state": "expired"},
                                                 "permission_cleared"))
    assert waiter(streams, fake).wait()["state"] == "expired"
    assert streams.asked_with == [None, "7"]


def test_backoff_is_capped():
    fake = FakeTime()
    streams = FakeStreams(*[OSError("down")] * 8, outcome_lines(DENIED))
    waiter(streams, fake).wait()
    assert max(fake.slept) == ask.BACKOFF_CAP


def test_gives_up_once_past_the_deadline_and_stops_on_4xx():
    fake = FakeTime()
    streams = FakeStreams(*[OSError("down")] * 20)
    with pytest.raises(AskError, match="giving up"):
        waiter(streams, fake, deadline=10.0).wait()
    assert fake.now > 10.0 and len(streams.asked_with) < 20
    gone = urllib.error.HTTPError("u", 404, "nf", {}, io.BytesIO(b'{"error": "no approval"}'))
    with pytest.raises(AskError, match="404: no approval"):
        waiter(FakeStreams(gone), FakeTime()).wait()


@pytest.mark.parametrize(("outcome", "line"), [
    (DENIED, "denied by page: not now"),
    ({**DENIED, "state": "approved", "approved": True, "reason": None}, "approved by page"),
    ({**DENIED, "state": "expired", "by": None, "reason": None}, "expired"),
    ({**DENIED, "state": "withdrawn", "by": "api", "reason": None}, "withdrawn by api"),
])
def test_describe(outcome, line):
    assert describe(outcome) == line


def test_an_answer_cannot_drive_the_terminal():
    # A reason typed on the page reached the terminal as it came: colours, a cleared screen,
    # a new window title, a bidi override, a forged second line.
    reason = "\x1b[2J\x1b[31mok\x1b[0m\x1b]0;pwned\x07 \u202efine\nexit 0\r"
    line = describe({**DENIED, "reason": reason, "by": "pa\x1b[1mge"})
    assert line == "denied by page: ok fineexit 0"


@pytest.mark.parametrize(("state", "status"), [("approved", 0), ("denied", 1), ("expired", 2),
                                                ("withdrawn", 2)])
def test_the_command_exits_by_the_outcome(monkeypatch, state, status):
    from click.testing import CliRunner

    monkeypatch.setattr(ask, "post_question", lambda url, token, question: "a" * 32)
    monkeypatch.setattr(Waiter, "wait", lambda self: {**DENIED, "state": state})
    result = CliRunner().invoke(ask.command, ["--to", "http://127.0.0.1:1", "Deploy?"])
    assert result.exit_code == status
    assert result.stdout.startswith(state)


def test_the_command_exits_3_when_it_cannot_ask():
    from click.testing import CliRunner

    result = CliRunner().invoke(ask.command, ["--to", "http://127.0.0.1:1", "Deploy?"])
    assert result.exit_code == ask.EXIT_ERROR and "ask:" in result.stderr


def test_the_lines_a_person_reads_are_in_dashboard_language(monkeypatch):
    from app.sources import ask as ask_mod

    monkeypatch.setenv("DASHBOARD_LANGUAGE", "zh_Hans")
    assert ask_mod._words()("ask: interrupted; %(id)s withdrawn", id="a1") == "ask：已中断；a1 已撤回"
    monkeypatch.delenv("DASHBOARD_LANGUAGE")
    assert ask_mod._words()("ask: interrupted; %(id)s withdrawn", id="a1") == \
        "ask: interrupted; a1 withdrawn"


def test_the_reconnect_lines_are_in_dashboard_language(monkeypatch):
    from app.sources import ask as ask_mod

    monkeypatch.setenv("DASHBOARD_LANGUAGE", "zh_Hans")
    fake, lines = FakeTime(), []
    streams = FakeStreams(REQUEST, *[OSError("down")] * 20)
    chinese = Waiter(streams, deadline=10.0, clock=fake.clock, sleep=fake.sleep,
                     jitter=lambda: 1.0, log=lines.append, say=ask_mod._words())
    with pytest.raises(AskError, match="^仪表盘没有给出答复（down）；放弃等待$"):
        chinese.wait()
    assert lines[:2] == ["ask：流已结束；1.0 秒后重新连接", "ask：down；2.0 秒后重新连接"]
    english, lines = waiter(FakeStreams(REQUEST, OSError("down"), outcome_lines(DENIED)),
                            FakeTime()), []
    english.log = lines.append
    english.wait()
    assert lines == ["ask: the stream ended; reconnecting in 1.0 s",
                     "ask: down; reconnecting in 2.0 s"]
