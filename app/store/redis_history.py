"""History tiers on Redis: sorted sets of chunks (layout in :mod:`.redis_chunks`).

Keys, under the store's prefix:

- ``hist2:<host>:<tier>:<group>``: a sorted set of chunks, scored by their start (raw: Unix
  milliseconds; buckets: Unix seconds); a chunk holds a minute of raw samples, 20 minutes
  of minute buckets or a day of hour buckets of one row group (:func:`.redis_chunks.row_group`:
  empty for a host's plain keys, ``containers`` for all its containers' series, the key itself
  for a custom series).
- ``hist:<host>:<tier>:<group>``: the first format, one point per member in doubles (about
  50 MB per host-year; :mod:`.redis_history_v1`), each container series a group of its own.
  Never written any more; read beside the new keys, trimmed and forgotten like them, so it
  ages out by itself (raw after a day, minutes after 30 days, hours after a year at the
  default retention).
- ``histkey`` (hash, key name -> id) and ``histkey:seq`` (its counter): the key dictionary.

Samples are one Lua script per host and row group (one ``MULTI`` pipeline when there are
several): it reads the raw chunk and the two bucket chunks each sample falls in, folds the new
values in, writes each chunk back once and drops the chunks that left the retention. Scripts
run atomically, so two writers never lose each other's fold. The janitor's
:meth:`RedisHistory.trim_history` trims to the point, inside the oldest chunk too.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from . import redis_history_v1 as v1
from .redis_chunks import (CHUNK, KIND, ChunkReader, chunk_start, clamp, encode_chunk,
                           row_group)
from .redis_history_lua import PUT, RECORD, TRIM
from .tiers import TIERS, MAX_KEY_ID, Point, Retention, bucket, encode_raw, raw_stamp

#: KEYS: histkey hash, its counter. ARGV: key names. Returns their ids, creating missing ones.
_KEY_IDS = """
local out = {}
for i, name in ipairs(ARGV) do
  local id = redis.call('HGET', KEYS[1], name)
  if not id then
    id = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], name, id)
  end
  out[i] = tonumber(id)
end
return out
"""
GLOB = str.maketrans({c: "\\" + c for c in "*?[]\\"})  # Redis glob metacharacters, escaped
_PAGE = 100  # chunks per read round trip (a host's chunks are 3 to 5 kB)
_BATCH = 200  # chunks per bulk-write round trip


class RedisHistory:
    """The history half of :class:`app.store.redis.RedisStore` (a mixin).

    Members are bytes, so it talks through a client of its own with ``decode_responses`` off
    (a small pool, connected on first use).
    """

    prefix: str
    history_retention: Retention
    target: "RedisTarget"  # noqa: F821 - the store's (app.store.redis_connect)

    def _history_init(self, common: dict, timeout: float) -> None:
        self._bin = self.target.client(max_connections=4, timeout=timeout,
                                       socket_timeout=timeout,
                                       **{**common, "decode_responses": False})
        self._record_script = self._bin.register_script(RECORD)
        self._put_script = self._bin.register_script(PUT)
        self._trim_script = self._bin.register_script(TRIM)
        self._key_ids_script = self._bin.register_script(_KEY_IDS)
        self._key_ids: dict[str, int] = {}

    def _zset(self, host: str, tier: str, grp: str) -> str:
        return f"{self.prefix}hist2:{host}:{tier}:{grp}"

    def _ids(self, names: Iterable[str], create: bool) -> dict[str, int]:
        """Key ids of ``names`` (missing ones created if ``create``, else left out)."""
        names = list(names)
        unknown = [n for n in names if n not in self._key_ids]
        if unknown:
            keys = [f"{self.prefix}histkey", f"{self.prefix}histkey:seq"]
            with self._errors():
                if create:
                    got = self._key_ids_script(keys=keys, args=unknown)
                else:
                    got = self._bin.hmget(keys[0], unknown)
            self._key_ids.update((n, int(i)) for n, i in zip(unknown, got) if i is not None)
        return {n: self._key_ids[n] for n in names
                if n in self._key_ids and self._key_ids[n] <= MAX_KEY_ID}

    def _record_calls(self, rows: Iterable[tuple[str, float, dict[str, float]]],
                      ) -> list[tuple[list[str], list]]:
        """The ``(KEYS, ARGV)`` of each :data:`RECORD` call that keeps ``rows`` ((host, Unix
        seconds, {key: value}), in order): one per host and row group, its samples in their
        order. May create key ids (a round trip, the first time a key is seen)."""
        rows = list(rows)
        ids = self._ids({key for _, _, values in rows for key in values}, create=True)
        calls: dict[tuple[str, str], list] = {}
        for host, ts, values in rows:
            groups: dict[str, dict[int, float]] = {}
            for key, value in values.items():
                if key in ids:
                    groups.setdefault(row_group(key), {})[ids[key]] = clamp(float(value))
            for grp, figures in groups.items():
                calls.setdefault((host, grp), []).extend((raw_stamp(ts), encode_raw(figures)))
        now, keep = time.time(), self.history_retention
        cuts = [repr((now - keep.raw) * 1000), repr(now - keep.minute - 60),
                repr(now - keep.hour - 3600)]
        return [([self._zset(host, tier, grp) for tier in TIERS], [*cuts, *samples])
                for (host, grp), samples in calls.items()]

    def record_history(self, host: str, ts: float, values: dict[str, float]) -> None:
        calls = self._record_calls([(host, ts, values)])
        with self._errors():
            pipe = self._bin.pipeline(transaction=True) if len(calls) > 1 else None
            for keys, args in calls:
                self._record_script(keys=keys, args=args, client=pipe)
            if pipe is not None:
                pipe.execute()

    def history(self, host: str, key: str, tier: str, start: float, end: float) -> list[Point]:
        return self.history_many(host, [key], tier, start, end)[key]

    def history_many(self, host: str, keys: Iterable[str], tier: str, start: float,
                     end: float) -> dict[str, list[Point]]:
        scale = 1000 if tier == "raw" else 1
        if tier not in TIERS:
            raise KeyError(tier)  # as the contract says, also when no key is known
        found: dict[str, list[Point]] = {key: [] for key in keys}
        ids = self._ids(found, create=False)
        by_group: dict[str, list[tuple[str, int]]] = {}
        for key in found:
            if key in ids:
                by_group.setdefault(row_group(key), []).append((key, ids[key]))
        for grp, wanted in by_group.items():
            reader = ChunkReader(wanted, tier, start, end)
            low, high = chunk_start(start, tier), "(" + repr(end * scale)
            while True:
                with self._errors():
                    page = self._bin.zrangebyscore(self._zset(host, tier, grp), low, high,
                                                   start=0, num=_PAGE, withscores=True)
                for member, _ in page:
                    reader.add(member)
                if len(page) < _PAGE:
                    break
                low = "(" + repr(page[-1][1])
            found.update(reader.found)
        with self._errors():
            old = v1.read(self._bin, f"{self.prefix}hist:{host}:{tier}:",
                          [(key, ids[key]) for key in found if key in ids], tier, start, end)
        for key, points in old.items():
            if points:
                found[key] = v1.merge(found[key], points, tier == "raw")
        return found

    def write_history(self, host: str, tier: str,
                      rows: Iterable[tuple[float, dict[str, float | tuple]]]) -> None:
        rolled, kind = TIERS[tier] > 0, KIND[tier]
        # (group, chunk start) -> {offset: {key id: figure}}; a chunk is written whole once
        # its rows are all in (rows come oldest first), so a year costs a few thousand calls.
        chunks: dict[tuple[str, int], dict[int, dict]] = defaultdict(dict)
        pipe, queued = self._bin.pipeline(transaction=False), 0

        def flush(done: list[tuple[str, int]]) -> None:
            nonlocal queued
            for grp, start in done:
                member = encode_chunk(start, tier, chunks.pop((grp, start)))
                self._put_script(keys=[self._zset(host, tier, grp)], args=[member, kind],
                                 client=pipe)
                queued += 1
            if queued >= _BATCH or (not chunks and queued):
                with self._errors():
                    pipe.execute()
                queued = 0

        for t, figures in rows:
            ids = self._ids(figures, create=True)
            if rolled:
                start = chunk_start(t, tier)
                off = (bucket(t, tier) - start) // TIERS[tier]
            else:  # the chunk of the millisecond kept, which rounding may carry over
                ms = round(t * 1000)
                start = ms - ms % (CHUNK["raw"] * 1000)
                off = ms - start
            for key, figure in figures.items():
                if key in ids:
                    chunks[(row_group(key), start)].setdefault(off, {})[ids[key]] = figure
            if len(chunks) > 2 * _BATCH:
                flush([c for c in list(chunks) if c[1] != start])
        flush(list(chunks))

    def _history_keys(self, host: str = "*") -> list[bytes]:
        """Every history sorted set of ``host`` (a glob), both formats."""
        with self._errors():
            return [key for pattern in ("hist2", "hist")
                    for key in self._bin.scan_iter(match=f"{self.prefix}{pattern}:{host}:*",
                                                   count=1000)]

    def trim_history(self) -> None:
        now, keep = time.time(), self.history_retention
        cuts = {tier: (now - keep.of(tier)) * 1000 if tier == "raw"
                else now - keep.of(tier) - TIERS[tier] for tier in TIERS}
        for zset in self._history_keys():
            name = zset.decode()
            version, tier = _tier_of(name, self.prefix)
            if tier is None:
                continue
            cut = cuts[tier]
            with self._errors():
                if version == "hist":
                    v1.trim(self._bin, zset, tier, cut)
                else:  # raw: milliseconds, an offset each; buckets: seconds, a step each
                    raw = tier == "raw"
                    self._trim_script(keys=[zset], args=[
                        repr(cut), KIND[tier], CHUNK[tier] * (1000 if raw else 1),
                        1 if raw else TIERS[tier]])

    def forget_history(self, host: str) -> None:
        for zset in self._history_keys(host.translate(GLOB)):
            with self._errors():
                self._bin.delete(zset)


def _tier_of(zset: str, prefix: str) -> tuple[str, str | None]:
    """The format (``hist2`` or ``hist``) and tier of a history key
    ``<prefix><format>:<host>:<tier>:<group>`` (the group may hold ':'); tier None: not one."""
    parts = zset[len(prefix):].split(":", 3)
    return parts[0], (parts[2] if len(parts) == 4 and parts[2] in TIERS else None)
