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
