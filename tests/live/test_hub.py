"""The Hub: render-once fan-out, bounded queues, slow consumers dropped, clean unsubscribe."""

from app.live.hub import CLOSE, Hub
from app.live.delivery import page_messages as _messages


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


def test_direct_writes_keep_order_when_a_socket_is_full(live):
    import gevent
    from gevent import socket

    live.start()
    # TCP, as in production: a full send buffer takes part of a frame, not all or nothing.
    with socket.socket() as listener:  # gevent's own, like gunicorn's; not create_server
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client_end = socket.socket()
        client_end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client_end.connect(listener.getsockname())
        server_end, _ = listener.accept()
    server_end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    gen = _messages(live, 60, server_end)
    assert next(gen).startswith(b"id: ")  # the snapshot goes through the WSGI server
    rest = gevent.spawn(list, gen)  # from here on the stream writes to its socket itself
    gevent.sleep(0)
    messages = [b"data: %d %s\n\n" % (n, b"x" * 7777) for n in range(100)]
    for message in messages:
        live.hub.publish(message)
    [sub] = live.hub._subscribers
    assert sub.busy  # the socket filled up: the rest waits in the stream's own queue

    received = bytearray()

    def read():
        while chunk := client_end.recv(65536):
            received.extend(chunk)

    reader = gevent.spawn(read)
    gevent.sleep(0.2)
    live.hub.close_all()
    assert rest.get(timeout=5) == []  # nothing went through the WSGI server after the snapshot
    server_end.close()
    reader.join(timeout=5)
    client_end.close()
    chunks = _read_chunks(bytes(received))
    assert chunks[:-1] == messages  # all of them, in order, once
    assert b"retry: " in chunks[-1]  # then the farewell
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
