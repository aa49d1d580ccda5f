"""The Redis backend: one Redis shared by every worker on every host (DESIGN.md, "The data flow").

Keys, all under ``prefix`` (``dashboard:`` by default) so that a shared Redis can hold other data:

- ``<prefix>log``: a Stream, the log. Each entry has the fields ``kind``, ``ts`` (Unix seconds as
  text) and ``data`` (compact JSON). ``XADD ... MAXLEN ~ log_size`` trims it; approximate trimming
  drops whole internal nodes only, so it keeps at least ``log_size`` entries (and at most about
  100 more).
- ``<prefix>seq``: the counter that numbers the log.
- ``<prefix>state``: a Hash, state key -> compact JSON.
- ``<prefix>hist2:...`` (``<prefix>hist:...`` in the first format) and ``<prefix>histkey``:
  the history tiers (see :mod:`.redis_history`).

Ids: the log entry of :class:`Item` id ``n`` has the stream id ``"<n>-0"``, and ``n`` comes from
``INCR <prefix>seq`` inside the same Lua script as the ``XADD``. Why not ``XADD *`` and a mapping
such as ``ms << 20 | seq``: those ids exceed 2**53, which JavaScript clients of the JSON API and
streams (``{"id": N}``, ``id:``) cannot hold exactly, and the sequence part has no hard bound
after a clock step back. Counter ids are small, gap-free and ordered exactly as the stream is, the
same as the SQLite backend's. The script also moves the counter past the stream's newest entry,
so a counter lost on its own (evicted, deleted) cannot make ``XADD`` fail for ever.

Waiting: :meth:`RedisStore.wait` issues one ``XREAD BLOCK`` on a connection of its own, whose
socket timeout is longer than any block it asks for (FACTS.md: it would raise after that much
idle time); every other call goes through a small blocking pool. redis-py cooperates with
gevent once sockets are patched.

Redis Sentinel (``redis+sentinel://``, :mod:`.redis_connect`): every client follows the primary
the sentinels name. A write made with ``replicated=True`` (and every audit entry) is followed on
its connection by ``WAIT 1``: acknowledged only once a replica has it, so that a failover cannot
undo it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from . import Item, Store, StoreUnavailable, codec
from .redis_audit import RedisAudit
from .redis_batch import RedisBatch
from .redis_connect import RedisTarget
from .redis_history import GLOB as _GLOB, RedisHistory
from .redis_scripts import APPEND, APPEND_IF, LEASE
from .tiers import Retention

T = TypeVar("T")

_PAGE = 500  # entries per XREVRANGE while scanning backwards: one short call each
#: Longest XREAD BLOCK, in seconds; the tail connection's socket timeout is above it.
_MAX_BLOCK = 10.0
#: Seconds a write that must survive a failover waits for a replica's confirmation.
REPLICA_WAIT = 2.0


def _stream_id(item_id: int) -> str:
    """The stream id of :class:`Item` id ``item_id`` (see the module docstring)."""
    return f"{max(item_id, 0)}-0"


def _item_id(stream_id: str) -> int:
    """The :class:`Item` id of stream id ``stream_id`` (the inverse of :func:`_stream_id`)."""
    return int(stream_id.partition("-")[0])


def _item(entry: tuple[str, dict[str, str]]) -> Item:
    stream_id, fields = entry
    return Item(_item_id(stream_id), fields["kind"], float(fields["ts"]),
                codec.loads(fields["data"]))


class RedisStore(RedisBatch, RedisHistory, RedisAudit, Store):
    """:class:`Store` on the Redis at ``url`` (``redis://host:port/db``), keys under ``prefix``.

    Connects lazily: a Redis that is down makes each call raise :class:`StoreUnavailable`, not
    the constructor, so the app starts and ``/readyz`` says what is wrong.

    :param log_size: log entries kept at least; trimming is approximate above it.
    :param pool_size: connections shared by the short calls; a greenlet that finds them all
        busy waits up to ``timeout`` seconds for one.
    :param timeout: seconds to connect, and for each short call's reply.
    :raise ValueError: for a URL redis-py cannot parse.
    """

    def __init__(self, url: str, *, log_size: int, prefix: str = "dashboard:",
                 pool_size: int = 16, timeout: float = 5.0,
                 history_retention: Retention = Retention()) -> None:
        self.log_size = log_size
        self.history_retention = history_retention
        self.prefix = prefix
        self._log, self._seq, self._state = f"{prefix}log", f"{prefix}seq", f"{prefix}state"
        self.target = RedisTarget(url, timeout)
        self._wait_ms = int(REPLICA_WAIT * 1000)
        # Two quick retries ride over a connection that went stale (a Redis restart, a
        # failover) without making a request wait the default ~5 s of backoff when Redis is
        # really gone.
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2)
        # RESP2 pinned: the reply shapes parsed below (XREAD's in particular) are RESP2's.
        common = dict(decode_responses=True, socket_connect_timeout=timeout, retry=retry,
                      socket_keepalive=True, protocol=2)
        self._redis = self.target.client(max_connections=pool_size, timeout=timeout,
                                         socket_timeout=timeout, **common)
        self._pool = self._redis.connection_pool
        # The tailer's own connection: XREAD BLOCK holds it for the whole wait. Its socket
        # timeout is longer than any block (wait caps it at _MAX_BLOCK), so that a primary that
        # vanished without closing the connection (a host that died) is noticed, not waited on
        # for ever. One per store (that is, per worker process), never per client; a pool of
        # one rather than single_connection_client, which connects in its constructor.
        self._tail = self.target.client(max_connections=1, timeout=None,
                                        socket_timeout=_MAX_BLOCK + timeout, **common)
        self._tail_pool = self._tail.connection_pool
        self._append = self._redis.register_script(APPEND)
        self._append_if = self._redis.register_script(APPEND_IF)
        self._lease = self._redis.register_script(LEASE)
        self._history_init(common, timeout)
        self._closed = False

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run one redis-py call; every Redis error becomes :class:`StoreUnavailable`."""
        with self._errors():
            return fn(*args, **kwargs)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        if self._closed:
            raise StoreUnavailable("the Redis store is closed")
        try:
            yield
        except redis.RedisError as exc:
            raise StoreUnavailable(f"Redis: {exc}") from exc

    def _write(self, write: Callable[[redis.Redis], T], replicated: bool) -> T:
        """``write(client)``; with ``replicated`` (and replicas to wait for), followed on the
        same connection by ``WAIT``, which returns once a replica has every write made so far.

        :raise StoreUnavailable: Redis failed, or no replica confirmed within REPLICA_WAIT
            seconds (the write may stay on the primary, but is not acknowledged).
        """
        if not (replicated and self.target.replicas):
            return self._call(write, self._redis)
        with self._errors():
            pipe = self._redis.pipeline(transaction=False)
            write(pipe)
            pipe.execute_command("WAIT", self.target.replicas, self._wait_ms)
            result, acked = pipe.execute()
        if acked < self.target.replicas:
            raise StoreUnavailable(f"Redis: no replica confirmed the write within "
                                   f"{REPLICA_WAIT} s")
        return result

    def append(self, kind: str, data: dict, state_key: str | None = None, *,
               replicated: bool = False) -> int:
        # redis-py retries a call whose connection failed. Should a reply be lost after Redis
        # ran the script, the retry logs the item a second time: at least once, never lost.
        args = [self.log_size, kind, repr(time.time()), codec.dumps(data)]
        if state_key is not None:
            args.append(state_key)
        return int(self._write(lambda client: self._append(
            keys=[self._log, self._seq, self._state], args=args, client=client), replicated))

    def append_if(self, kind: str, data: dict, state_key: str, field: str,
                  expected: str, *, replicated: bool = False) -> int | None:
        # A lost reply retried by redis-py finds the state changed (by the first run) and
        # returns None: the caller then reads the state and sees its own write as the winner.
        args = [self.log_size, kind, repr(time.time()), codec.dumps(data), state_key, field,
                expected]
        new_id = self._write(lambda client: self._append_if(
            keys=[self._log, self._seq, self._state], args=args, client=client), replicated)
        return None if new_id is None else int(new_id)

    def since(self, after_id: int, limit: int = 1000) -> list[Item]:
        entries = self._call(self._redis.xrange, self._log, _stream_id(after_id + 1), "+",
                             count=limit)
        return [_item(entry) for entry in entries]

    def _backwards(self, after_id: int = 0, kinds: Collection[str] | None = None,
                   ) -> Iterator[Item]:
        """Yield the items above ``after_id``, newest first, one short XREVRANGE per page;
        with ``kinds``, only the items of those kinds: the others are not decoded (a fleet's
        log is mostly samples: decoding each cost a page's load 0.45 s of CPU on a log of
        10,000, ``bench.pageload``)."""
        high, low = "+", _stream_id(after_id + 1)
        while True:
            page = self._call(self._redis.xrevrange, self._log, high, low, count=_PAGE)
            yield from (_item(entry) for entry in page
                        if kinds is None or entry[1]["kind"] in kinds)
            oldest = _item_id(page[-1][0]) if page else 0
            if len(page) < _PAGE or oldest - 1 <= after_id:
                return
            high = _stream_id(oldest - 1)

    def recent(self, kind: str, count: int) -> list[Item]:
        return self.recent_many({kind: count})[kind]

    def recent_many(self, counts: dict[str, int]) -> dict[str, list[Item]]:
        # Filters while scanning back; the log is bounded (log_size), so the scan is too. Rare
        # kinds cost a scan of the whole log (one for all of them): callers use this when a
        # page is made, not per request.
        found: dict[str, list[Item]] = {kind: [] for kind in counts}
        wanted = {kind for kind, count in counts.items() if count > 0}
        if wanted:
            # The scan reads the set as it goes: a kind that has its count is skipped after.
            for item in self._backwards(kinds=wanted):
                if item.kind not in wanted:
                    continue
                found[item.kind].append(item)
                if len(found[item.kind]) == counts[item.kind]:
                    wanted.discard(item.kind)
                    if not wanted:
                        break
        return found

    def find(self, kind: str, *, after_id: int = 0, limit: int = 100,
             where: dict[str, str] | None = None) -> list[Item]:
        # Newest first, so it stops after ``limit`` matches (the base class reads everything).
        conditions = list((where or {}).items())
        for key, _ in conditions:
            if not key.isidentifier():  # the same contract as the SQLite backend
                raise ValueError(f"not a field name: {key!r}")
        found: list[Item] = []
        if limit <= 0:
            return found
        for item in self._backwards(after_id, kinds=(kind,)):
            if all(item.data.get(k) == v for k, v in conditions):
                found.append(item)
                if len(found) == limit:
                    break
        return found

    def latest_id(self) -> int:
        newest = self._call(self._redis.xrevrange, self._log, "+", "-", count=1)
        return _item(newest[0]).id if newest else 0

    def first_id(self) -> int:
        oldest = self._call(self._redis.xrange, self._log, "-", "+", count=1)
        return _item(oldest[0]).id if oldest else 0

    def wait(self, after_id: int, timeout: float, poll: float | None = None) -> list[Item]:
        """Block up to ``timeout`` seconds (at most ``_MAX_BLOCK``) in one ``XREAD BLOCK``;
        ``poll`` is ignored.

        Redis wakes the reader on any client's ``XADD``, so there is nothing to poll. Without
        gevent's monkey patching this blocks the calling thread (at most ``timeout``).
        """
        block = int(min(timeout, _MAX_BLOCK) * 1000)
        # BLOCK 0 would mean "for ever": a timeout under 1 ms is a plain look instead.
        with self._errors():
            reply = self._tail.xread({self._log: _stream_id(after_id)}, count=1000,
                                     block=block if block > 0 else None)
        # RESP2: [[stream, [(stream id, fields), ...]]], or an empty reply after the timeout.
        return [_item(entry) for entry in reply[0][1]] if reply else []

    def get_state(self, key: str) -> dict | None:
        value = self._call(self._redis.hget, self._state, key)
        return codec.loads(value) if value is not None else None

    def set_state(self, key: str, value: dict | None, *, replicated: bool = False) -> None:
        if value is None:
            self._write(lambda client: client.hdel(self._state, key), replicated)
        else:
            self._write(lambda client: client.hset(self._state, key, codec.dumps(value)),
                        replicated)

    def states(self, prefix: str) -> dict[str, dict]:
        # HSCAN walks the whole hash (MATCH filters on the server); fine for the small families
        # of keys this serves. The prefix is escaped so that * ? [ ] \ in it match literally.
        with self._errors():
            pairs = dict(self._redis.hscan_iter(self._state, match=prefix.translate(_GLOB) + "*",
                                                count=1000))
        return {key: codec.loads(value) for key, value in sorted(pairs.items())
                if key.startswith(prefix)}

    def lease(self, name: str, owner: str, ttl: float) -> bool:
        # Redis expires the key itself (PX), on its own clock: hosts' clocks need not agree.
        return bool(self._call(self._lease, keys=[f"{self.prefix}lease:{name}"],
                               args=[owner, max(int(ttl * 1000), 1)]))

    def holder(self, name: str) -> str | None:
        return self._call(self._redis.get, f"{self.prefix}lease:{name}")  # gone once expired

    def ping(self) -> None:
        self._call(self._redis.ping)

    def describe(self) -> dict:
        return {"backend": "redis", **self.target.describe()}

    def close(self) -> None:
        self._closed = True
        self._bin.connection_pool.disconnect()
        self._tail_pool.disconnect()
        self._pool.disconnect()
        self.target.close()
