"""The Hub: render-once fan-out, bounded queues, slow consumers dropped, clean unsubscribe."""

import pytest

from app.live.delivery import Detached
from app.live.delivery import page_messages as _messages
from app.live.hub import Hub
from app.live.subscriber import CLOSE


def test_publish_hands_every_subscriber_the_same_bytes():
    hub = Hub(queue_size=4)
    a, b = hub.subscribe(b"snap"), hub.subscribe(b"snap")
    message = b"data: x\n\n"
    hub.publish(message)
    for sub in (a, b):
        assert sub.queue.get_nowait() == b"snap"
        assert sub.queue.get_nowait() is message  # encoded once, not copied per client


def test_a_full_queue_drops_only_that_subscriber():
    counts = []
    hub = Hub(queue_size=2, on_count=counts.append)
    slow, fast = hub.subscribe(b"s"), hub.subscribe(b"s")
    hub.publish(b"1")
    fast.queue.get_nowait(), fast.queue.get_nowait()
    hub.publish(b"2")  # slow's queue (s, 1) is full now
    assert slow.dropped and not fast.dropped
    assert len(hub) == 1 and hub.dropped_total == 1
    assert counts == [1, 2, 1]
    hub.publish(b"3")
    assert [fast.queue.get_nowait(), fast.queue.get_nowait()] == [b"2", b"3"]
    hub.unsubscribe(slow)  # a second unsubscribe is harmless
    assert counts == [1, 2, 1]


def test_close_all_ends_current_and_future_streams():
    hub = Hub(queue_size=4)
    sub = hub.subscribe(b"s")
    hub.close_all()
    assert [sub.queue.get_nowait(), sub.queue.get_nowait()] == [b"s", CLOSE]
    late = hub.subscribe(b"s")
    assert [late.queue.get_nowait(), late.queue.get_nowait()] == [b"s", CLOSE]


def test_stream_generator_unsubscribes_when_the_client_goes(live):
    live.start()
    gen = _messages(live, 60, None)
    assert next(gen).startswith(b"id: ")  # the snapshot
    assert len(live.hub) == 1
    gen.close()  # what the WSGI server does when the client hangs up
    assert len(live.hub) == 0


def test_stream_ends_with_a_retry_message_on_close(live):
    live.start()
    gen = _messages(live, 60, None)
    next(gen)
    live.hub.close_all()
    farewell = next(gen)
    assert b"retry: " in farewell
    assert list(gen) == []
    assert len(live.hub) == 0


def test_hooks_count_messages_per_client_reached_and_drops():
    sent, drops = [], []
    hub = Hub(queue_size=1, on_sent=sent.append, on_drop=lambda: drops.append(1))
    hub.publish(b"nobody")
    full, reached = hub.subscribe(b"s"), hub.subscribe(b"s")
    reached.queue.get_nowait()
    hub.publish(b"1")  # full is dropped, the other one is reached
    assert full.dropped and sent == [0, 1] and drops == [1]


def _read_chunks(raw: bytes) -> list[bytes]:
    """Split an HTTP/1.1 chunked body into its chunks."""
    chunks = []
    while raw:
        size, _, rest = raw.partition(b"\r\n")
        length = int(size, 16)
        chunks.append(rest[:length])
        assert rest[length:length + 2] == b"\r\n"
        raw = rest[length + 2:]
    return chunks


@pytest.fixture
def handover(monkeypatch):
    """Direct mode on, as gunicorn.conf.py's StreamWorker turns it on, for up to 5 streams."""
    from app.live import delivery

    monkeypatch.setattr(delivery, "HANDOVER", delivery.Handover())
    delivery.HANDOVER.limit = 5
    return delivery.HANDOVER


def _connection(sndbuf: int | None = None):
    """A TCP connection on 127.0.0.1 as in production: (gevent server end, client end). A full
    send buffer takes part of a frame, not all or nothing."""
    from gevent import socket

    with socket.socket() as listener:  # gevent's own, like gunicorn's; not create_server
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client_end = socket.socket()
        client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client_end.connect(listener.getsockname())
        server_end, _ = listener.accept()
    if sndbuf:
        server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    return server_end, client_end


def _read_all(sock) -> bytes:
    """What ``sock`` receives until the other end closes the connection."""
    received = bytearray()
    while part := sock.recv(65536):
        received.extend(part)
    return bytes(received)


def test_the_hub_owns_a_direct_stream_and_keeps_order_when_its_socket_is_full(live, handover):
    import gevent

    live.start()
    server_end, client_end = _connection(sndbuf=8192)
    gen = _messages(live, 60, server_end)
    assert next(gen).startswith(b"id: ")  # the snapshot goes through the WSGI server
    with pytest.raises(Detached):  # from here on the Hub writes to the connection itself
        next(gen)
    server_end.close()  # as gunicorn does once the greenlet ends: the stream goes on
    assert handover.owned == 1
    messages = [b"data: %d %s\n\n" % (n, b"x" * 7777) for n in range(100)]
    for message in messages:
        live.hub.publish(message)
    [sub] = live.hub._subscribers
    assert sub.busy  # the socket filled up: the rest waits in the stream's queue

    reader = gevent.spawn(_read_all, client_end)  # the event loop finishes the writes
    gevent.sleep(0.2)
    live.hub.close_all()
    received = reader.get(timeout=10)  # ends: the Hub closed the connection after the farewell
    client_end.close()
    body, last = received[:-5], received[-5:]
    assert last == b"0\r\n\r\n"  # the last chunk: a complete chunked response
    chunks = _read_chunks(body)
    assert chunks[:-1] == messages  # all of them, in order, once
    assert b"retry: " in chunks[-1]  # then the farewell
    assert len(live.hub) == 0 and handover.owned == 0


def test_an_owned_stream_whose_client_left_is_closed_and_forgotten(live, handover):
    live.start()
    server_end, client_end = _connection()
    gen = _messages(live, 60, server_end)
    next(gen)
    with pytest.raises(Detached):
        next(gen)
    client_end.close()
    for n in range(3):  # the first write after the client's FIN may still succeed
        live.hub.publish(b"data: %d\n\n" % n)
        if not len(live.hub):
            break
    assert len(live.hub) == 0 and handover.owned == 0


def test_a_slow_owned_stream_is_dropped_and_its_connection_closed(live, handover):
    live.start()
    server_end, client_end = _connection(sndbuf=4096)
    gen = _messages(live, 60, server_end)
    next(gen)
    with pytest.raises(Detached):
        next(gen)
    big = b"data: %s\n\n" % (b"x" * 65536)
    for _ in range(live.settings.queue_size + 2):  # the client reads nothing
        live.hub.publish(big)
    assert live.hub.dropped_total == 1 and len(live.hub) == 0 and handover.owned == 0
    client_end.settimeout(5)
    received = _read_all(client_end)  # closed by the drop, with no farewell
    assert b"retry: " not in received and not received.endswith(b"0\r\n\r\n")
    client_end.close()


def test_past_the_handover_limit_a_stream_stays_queued(live, handover):
    handover.limit = 0
    live.start()
    server_end, client_end = _connection()
    with server_end, client_end:
        gen = _messages(live, 60, server_end)
        next(gen)
        live.hub.publish(b"data: 1\n\n")
        assert next(gen) == b"data: 1\n\n"  # through the WSGI server, as any other server
        assert handover.owned == 0
        gen.close()
        assert len(live.hub) == 0


def test_a_slow_queued_stream_is_shut_down_under_its_blocked_write(live):
    """Off the direct path (TLS, HTTP/1.0) the server writes what the stream yields; a client
    that stops reading leaves that write waiting forever unless the drop shuts the socket."""
    import socket

    import gevent

    live.start()
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        gen = _messages(live, 60, None, None, server_end)
        assert next(gen).startswith(b"id: ")
        stuck = gevent.spawn(next, gen)  # the server, about to write what comes next ...
        gevent.sleep(0)
        for n in range(live.settings.queue_size + 2):  # ... but the client reads nothing
            live.hub.publish(b"data: %d\n\n" % n)
        assert live.hub.dropped_total == 1 and len(live.hub) == 0
        client_end.settimeout(5)
        assert client_end.recv(10) == b""  # shut down: the server's write fails at once
        stuck.kill()


def test_end_sessions_ends_only_the_streams_of_sessions_that_ended():
    hub = Hub(queue_size=4)
    laptop = hub.subscribe(b"s", owner=("ann", "aaaa"))
    phone = hub.subscribe(b"s", owner=("ann", "bbbb"))
    other = hub.subscribe(b"s", owner=("bob", "aaaa"))
    anonymous = hub.subscribe(b"s")
    hub.end_sessions("ann", {"bbbb": 1.0})  # ann signed out on her laptop
    assert laptop.queue.drain() == [b"s", CLOSE]
    for sub in (phone, other, anonymous):
        assert sub.queue.drain() == [b"s"]
    hub.end_sessions("ann", {}, b"signed out")  # disabled: no session is left
    assert phone.queue.drain() == [b"signed out", CLOSE] and len(hub) == 2
