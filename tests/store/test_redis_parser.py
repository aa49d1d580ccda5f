"""The Redis store's replies are parsed by hiredis (``redis[hiredis]``), not by redis-py's
pure-Python parser: the tailer of every worker reads every item of the log, and parsing its
``XREAD`` replies in Python was about a tenth of a fleet's CPU (``bench/RESULTS.md``, "A
fleet")."""

from app.store import open_store


def test_the_tailers_replies_are_parsed_by_hiredis(redis_url):
    store = open_store(redis_url, log_size=100, poll_interval=0.05)
    try:
        store.append("event", {"level": "info", "message": "parsed"})
        assert [item.data["message"] for item in store.wait(0, 1.0)] == ["parsed"]
        connection = store._tail_pool.get_connection()  # the one the wait above used
        try:
            assert type(connection._parser).__name__ == "_HiredisParser"
        finally:
            store._tail_pool.release(connection)
    finally:
        store.close()


def test_a_connection_left_with_an_unread_reply_is_not_handed_out_as_is(redis_url):
    """redis-py's check at checkout, which runs on the system's poll (``_QuickPoll``), still
    finds a reply nobody read, and the pool reconnects rather than hand it to the next call."""
    store = open_store(redis_url, log_size=100, poll_interval=0.05)
    try:
        store.set_state("k", {"v": 1})
        pool = store._pool
        connection = pool.get_connection()
        connection.send_command("GET", "dashboard:never")  # its reply is left unread
        assert connection.can_read(timeout=1.0)  # a timeout: gevent's poll, as before
        pool.release(connection)
        again = pool.get_connection()
        try:
            assert not again.can_read()
        finally:
            pool.release(again)
        assert store.get_state("k") == {"v": 1}
    finally:
        store.close()


def test_only_the_zero_timeout_check_uses_the_systems_poll():
    import select

    import redis._parsers.hiredis
    from gevent import monkey

    from app.store.redis_connect import _QuickPoll

    assert redis._parsers.hiredis.select.poll is _QuickPoll
    assert redis._parsers.hiredis.select.POLLIN == select.POLLIN
    assert _QuickPoll._native is monkey.get_original("select", "poll")
