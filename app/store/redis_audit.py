"""The audit log on Redis (``Store.audit_*``): a sorted set of JSON entries scored by id (an
``INCR`` counter), so that a page is one ``ZREVRANGEBYSCORE``; filters are applied while paging
back. A mixin of :class:`app.store.redis.RedisStore`, whose ``_redis``, ``prefix``, ``_call``,
``_write`` and ``_errors`` it uses."""

from __future__ import annotations

from . import codec


class RedisAudit:
    """``audit_append``, ``audit_query`` and ``audit_trim`` of :class:`app.store.Store`."""

    def audit_append(self, entry: dict) -> int:
        # Acknowledged once a replica has it (Sentinel): a failover cannot undo what the log
        # says someone did. WAIT after the ZADD covers the INCR before it too.
        entry_id = self._call(self._redis.incr, f"{self.prefix}audit:seq")
        text = codec.dumps({**entry, "id": entry_id})
        self._write(lambda client: client.zadd(f"{self.prefix}audit", {text: entry_id}),
                    replicated=True)
        return entry_id

    def audit_query(self, *, who: str | None = None, action: str | None = None,
                    since: float | None = None, until: float | None = None,
                    before: int | None = None, limit: int = 50) -> list[dict]:
        found: list[dict] = []
        top = f"({before}" if before is not None else "+inf"
        with self._errors():
            while len(found) < limit:
                batch = self._redis.zrevrangebyscore(f"{self.prefix}audit", top, "-inf",
                                                     start=0, num=500)
                if not batch:
                    break
                for text in batch:
                    entry = codec.loads(text)
                    if since is not None and entry["ts"] < since:
                        return found  # ids grow with time: nothing older can match
                    if ((who is None or entry["who"] == who)
                            and (action is None or entry["action"] == action)
                            and (until is None or entry["ts"] < until)):
                        found.append(entry)
                        if len(found) == limit:
                            break
                top = f"({codec.loads(batch[-1])['id']}"
        return found

    def audit_trim(self, older_than: float, keep: int) -> int:
        key = f"{self.prefix}audit"
        with self._errors():
            gone = self._redis.zremrangebyrank(key, 0, -keep - 1)
            while oldest := self._redis.zrange(key, 0, 499):
                old = [text for text in oldest if codec.loads(text)["ts"] < older_than]
                if old:
                    gone += self._redis.zrem(key, *old)
                if len(old) < len(oldest):
                    break
        return gone
