"""The Redis backend: one Redis shared by every worker on every host (DESIGN.md, "The data flow").

Keys, all under ``prefix`` (``dashboard:`` by default) so that a shared Redis can hold other data:

- ``<prefix>log``: a Stream, the log. Each entry has the fields ``kind``, ``ts`` (Unix seconds as
  text) and ``data`` (compact JSON). ``XADD ... MAXLEN ~ log_size`` trims it; approximate trimming
  drops whole internal nodes only, so it keeps at least ``log_size`` entries (and at most about
  100 more).
- ``<prefix>seq``: the counter that numbers the log.
- ``<prefix>state``: a Hash, state key -> compact JSON.
- ``<prefix>hist:...`` and ``<prefix>histkey``: the history tiers (see :mod:`.redis_history`).

Ids: the log entry of :class:`Item` id ``n`` has the stream id ``"<n>-0"``, and ``n`` comes from
``INCR <prefix>seq`` inside the same Lua script as the ``XADD``. Why not ``XADD *`` and a mapping
such as ``ms << 20 | seq``: those ids exceed 2**53, which JavaScript clients of the JSON API and
streams (``{"id": N}``, ``id:``) cannot hold exactly, and the sequence part has no hard bound
after a clock step back. Counter ids are small, gap-free and ordered exactly as the stream is, the
same as the SQLite backend's. The script also moves the counter past the stream's newest entry,
so a counter lost on its own (evicted, deleted) cannot make ``XADD`` fail for ever.

Waiting: :meth:`RedisStore.wait` issues one ``XREAD BLOCK`` on a connection of its own, without
a socket timeout (FACTS.md: it would raise after that much idle time); every other call goes
through a small blocking pool. redis-py cooperates with gevent once sockets are patched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from . import Item, Store, StoreUnavailable
from .redis_audit import RedisAudit
from .redis_history import GLOB as _GLOB, RedisHistory
from .tiers import Retention

T = TypeVar("T")

# Take a free lease or renew our own, atomically; another owner's unexpired lease stays.
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

#: KEYS: log stream, id counter, state hash. ARGV: maxlen, kind, ts, data[, state key].
#: One script, so the log entry and the state change land together or not at all. Redis does not
#: undo a script's earlier writes when a later command fails, so the key types are checked
#: before anything is written (a shared Redis may hold a foreign value under our names); after
#: that no command can fail but INCR, the first write (out of memory, a non-number counter).
_APPEND = """
for i, want in ipairs({'stream', 'string', 'hash'}) do
  local found = redis.call('TYPE', KEYS[i]).ok
  if found ~= want and found ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' holds a ' .. found)
  end
end
local n = redis.call('INCR', KEYS[2])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if top[1] then
  local last = tonumber(string.match(top[1][1], '^(%d+)'))
  if last >= n then
    n = last + 1
    redis.call('SET', KEYS[2], string.format('%d', n))
  end
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], string.format('%d-0', n),
           'kind', ARGV[2], 'ts', ARGV[3], 'data', ARGV[4])
if #ARGV >= 5 then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[4])
end
return n
"""
#: The compare-and-set: :data:`_APPEND` run only if the state under ARGV[5] is a JSON object
#: whose field ARGV[6] is the string ARGV[7]; else it returns nil (None) and writes nothing.
#: (HGET on a foreign value under our hash's name fails before any write, as in _APPEND.)
#: Prepended to _APPEND rather than written anew, so that ids, the counter's repair and the
#: trimming are exactly those of a plain append. Scripts run atomically: no other client's
#: command runs between the HGET and the writes.
_APPEND_IF = """
local current = redis.call('HGET', KEYS[3], ARGV[5])
if not current then
  return false
end
local ok, state = pcall(cjson.decode, current)
if not ok or type(state) ~= 'table' or state[ARGV[6]] ~= ARGV[7] then
  return false
end
""" + _APPEND
_PAGE = 500  # entries per XREVRANGE while scanning backwards: one short call each


def _json(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


def _stream_id(item_id: int) -> str:
    """The stream id of :class:`Item` id ``item_id`` (see the module docstring)."""
    return f"{max(item_id, 0)}-0"


def _item(entry: tuple[str, dict[str, str]]) -> Item:
    stream_id, fields = entry
    return Item(int(stream_id.partition("-")[0]), fields["kind"], float(fields["ts"]),
                json.loads(fields["data"]))


class RedisStore(RedisHistory, RedisAudit, Store):
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
        # Two quick retries ride over a connection that went stale (a Redis restart) without
        # making a request wait the default ~5 s of backoff when Redis is really gone.
        retry = Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2)
        # RESP2 pinned: the reply shapes parsed below (XREAD's in particular) are RESP2's.
        common = dict(decode_responses=True, socket_connect_timeout=timeout, retry=retry,
                      socket_keepalive=True, protocol=2)
        self._pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=timeout, socket_timeout=timeout, **common)
        self._redis = redis.Redis(connection_pool=self._pool)
        # The tailer's own connection: XREAD BLOCK holds it for the whole wait, and must not
        # have a socket timeout. One per store (that is, per worker process), never per client.
        # A pool of one rather than single_connection_client, which connects in its constructor.
        self._tail_pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=1, timeout=None, socket_timeout=None, **common)
        self._tail = redis.Redis(connection_pool=self._tail_pool)
        self._append = self._redis.register_script(_APPEND)
        self._append_if = self._redis.register_script(_APPEND_IF)
        self._lease = self._redis.register_script(_LEASE)
        self._history_init(url, common, timeout)
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

    def append(self, kind: str, data: dict, state_key: str | None = None) -> int:
        # redis-py retries a call whose connection failed. Should a reply be lost after Redis
        # ran the script, the retry logs the item a second time: at least once, never lost.
        args = [self.log_size, kind, repr(time.time()), _json(data)]
        if state_key is not None:
            args.append(state_key)
        return int(self._call(self._append, keys=[self._log, self._seq, self._state], args=args))

    def append_if(self, kind: str, data: dict, state_key: str, field: str,
                  expected: str) -> int | None:
        # A lost reply retried by redis-py finds the state changed (by the first run) and
        # returns None: the caller then reads the state and sees its own write as the winner.
        args = [self.log_size, kind, repr(time.time()), _json(data), state_key, field, expected]
        new_id = self._call(self._append_if, keys=[self._log, self._seq, self._state], args=args)
        return None if new_id is None else int(new_id)

    def since(self, after_id: int, limit: int = 1000) -> list[Item]:
        entries = self._call(self._redis.xrange, self._log, _stream_id(after_id + 1), "+",
                             count=limit)
        return [_item(entry) for entry in entries]

    def _backwards(self, after_id: int = 0) -> Iterator[Item]:
        """Yield the items above ``after_id``, newest first, one short XREVRANGE per page."""
        high, low = "+", _stream_id(after_id + 1)
        while True:
            page = self._call(self._redis.xrevrange, self._log, high, low, count=_PAGE)
            items = [_item(entry) for entry in page]
            yield from items
            if len(items) < _PAGE or items[-1].id - 1 <= after_id:
                return
            high = _stream_id(items[-1].id - 1)

    def recent(self, kind: str, count: int) -> list[Item]:
        # Filters while scanning back; the log is bounded (log_size), so the scan is too. Rare
        # kinds cost a scan of the whole log: callers use this at start-up, not per request.
        found: list[Item] = []
        if count <= 0:
            return found
        for item in self._backwards():
            if item.kind == kind:
                found.append(item)
                if len(found) == count:
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
        for item in self._backwards(after_id):
            if item.kind == kind and all(item.data.get(k) == v for k, v in conditions):
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
        """Block up to ``timeout`` seconds in one ``XREAD BLOCK``; ``poll`` is ignored.

        Redis wakes the reader on any client's ``XADD``, so there is nothing to poll. Without
        gevent's monkey patching this blocks the calling thread (at most ``timeout``).
        """
        block = int(timeout * 1000)
        # BLOCK 0 would mean "for ever": a timeout under 1 ms is a plain look instead.
        with self._errors():
            reply = self._tail.xread({self._log: _stream_id(after_id)}, count=1000,
                                     block=block if block > 0 else None)
        # RESP2: [[stream, [(stream id, fields), ...]]], or an empty reply after the timeout.
        return [_item(entry) for entry in reply[0][1]] if reply else []

    def get_state(self, key: str) -> dict | None:
        value = self._call(self._redis.hget, self._state, key)
        return json.loads(value) if value is not None else None

    def set_state(self, key: str, value: dict | None) -> None:
        if value is None:
            self._call(self._redis.hdel, self._state, key)
        else:
            self._call(self._redis.hset, self._state, key, _json(value))

    def states(self, prefix: str) -> dict[str, dict]:
        # HSCAN walks the whole hash (MATCH filters on the server); fine for the small families
        # of keys this serves. The prefix is escaped so that * ? [ ] \ in it match literally.
        with self._errors():
            pairs = dict(self._redis.hscan_iter(self._state, match=prefix.translate(_GLOB) + "*",
                                                count=1000))
        return {key: json.loads(value) for key, value in sorted(pairs.items())
                if key.startswith(prefix)}

    def lease(self, name: str, owner: str, ttl: float) -> bool:
        # Redis expires the key itself (PX), on its own clock: hosts' clocks need not agree.
        return bool(self._call(self._lease, keys=[f"{self.prefix}lease:{name}"],
                               args=[owner, max(int(ttl * 1000), 1)]))

    def holder(self, name: str) -> str | None:
        return self._call(self._redis.get, f"{self.prefix}lease:{name}")  # gone once expired

    def ping(self) -> None:
        self._call(self._redis.ping)

    def close(self) -> None:
        self._closed = True
        self._bin.connection_pool.disconnect()
        self._tail_pool.disconnect()
        self._pool.disconnect()
