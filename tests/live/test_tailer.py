"""The tailer reads a burst of writes in a few passes, not one per item (app.live.tailer)."""

import gevent


def test_a_burst_of_writes_is_read_in_a_few_passes(client, live):
    client.get("/")  # starts the tailer
    reads = []
    wait = live.store.wait

    def counting(*args, **kwargs):
        items = wait(*args, **kwargs)
        if items:
            reads.append(len(items))
        return items

    live.store.wait = counting
    ids = []

    def burst():  # 100 items over at least 0.2 s, as many agents write them
        for n in range(100):
            ids.append(live.store.append("event", {"level": "info", "message": f"n{n}"}))
            gevent.sleep(0.002)

    gevent.spawn(burst).join(timeout=60)
    with gevent.Timeout(30):
        while live.view.last_id < ids[-1]:
            gevent.sleep(0.02)
    assert sum(reads) == 100
    # Read as they came, that was about one pass per item (100). Three passes at once, then
    # one every _GATHER (0.1 s), make it about 6 over 0.2 s; the bound leaves room for a slow
    # machine.
    assert len(reads) <= 50, reads
