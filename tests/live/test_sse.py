"""The SSE encoder against a byte table (WHATWG HTML, "Server-sent events")."""

import pytest

from app.live import sse

TABLE = [
    # (arguments, exact bytes on the wire)
    ({"data": "hello"}, b"data: hello\n\n"),
    ({"data": ""}, b"data:\n\n"),
    ({"data": "a\nb"}, b"data: a\ndata: b\n\n"),
    ({"data": "a\r\nb\rc\n"}, b"data: a\ndata: b\ndata: c\ndata:\n\n"),
    ({"data": "<p>\n\n</p>"}, b"data: <p>\ndata:\ndata: </p>\n\n"),  # a blank line cannot end it
    ({"data": "x", "id": 42}, b"id: 42\ndata: x\n\n"),
    ({"data": "x", "id": "4\n2\x00"}, b"id: 42\ndata: x\n\n"),
    ({"data": "{}", "event": "metric", "id": 7}, b"id: 7\nevent: metric\ndata: {}\n\n"),
    ({"data": "x", "event": "a\r\nb"}, b"event: ab\ndata: x\n\n"),
    ({"retry": 1000}, b"retry: 1000\n\n"),
    ({"data": "", "id": 9, "retry": 0}, b"id: 9\nretry: 0\ndata:\n\n"),
    ({"comment": "ping"}, b": ping\n\n"),
    ({"comment": "two\nlines"}, b": two\n: lines\n\n"),
    ({"comment": ""}, b":\n\n"),
    ({"data": "é ✓"}, "data: é ✓\n\n".encode()),
]


@pytest.mark.parametrize(("kwargs", "expected"), TABLE)
def test_encode(kwargs, expected):
    assert sse.encode(**kwargs) == expected


def test_heartbeat_is_a_comment():
    assert sse.HEARTBEAT == sse.encode(comment="ping")


@pytest.mark.parametrize("kwargs", [{}, {"retry": -1}])
def test_rejects(kwargs):
    with pytest.raises(ValueError):
        sse.encode(**kwargs)
