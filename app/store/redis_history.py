"""History tiers on Redis: one sorted set per host, row group and tier (layout in :mod:`.tiers`).

Keys, under the store's prefix:

- ``hist:<host>:<tier>:<group>``: a sorted set; each member is an 8-byte time (raw: Unix
  milliseconds; buckets: Unix seconds of the start) followed by the row's packed figures, and
  its score is that time. ``<group>`` is empty for a host's plain keys.
- ``histkey`` (hash, key name -> id) and ``histkey:seq`` (its counter): the key dictionary.

A sample is one Lua script per row group (one ``MULTI`` pipeline when a sample has several): it
reads the raw member and the two buckets at their scores, folds the new values in, writes them
back and trims. Scripts run atomically, so two writers never lose each other's fold.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from .tiers import (TIERS, MAX_KEY_ID, STAMP, Point, Reader, Retention, bucket, encode_raw,
                    encode_rolled, group, raw_stamp)

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

#: KEYS: raw, 1m, 1h sorted sets. ARGV: ts (ms), packed raw figures (no stamp), 1m start,
#: 1h start, then the cut-offs: raw points below ARGV[5] (ms) and buckets at or below ARGV[6]
#: (1m) and ARGV[7] (1h) are outside the retention. Returns how many values were new.
#: The codec is app.store.tiers' in Lua (Redis embeds the ``struct`` library).
_RECORD = """
local function decode(s, pos, width)
  local n = struct.unpack('<H', s, pos)
  local ids, out, p = {}, {}, pos + 2
  for i = 1, n do ids[i] = struct.unpack('<H', s, p); p = p + 2 end
  for i = 1, n do
    if width == 1 then
      local v; v, p = struct.unpack('<d', s, p); out[ids[i]] = {v}
    else
      local lo, hi, sum, c; lo, hi, sum, c, p = struct.unpack('<dddI4', s, p)
      out[ids[i]] = {lo, hi, sum, c}
    end
  end
  return out
end
local function encode(stamp, t, width)
  local ids = {}
  for id in pairs(t) do ids[#ids + 1] = id end
  table.sort(ids)
  local parts = {struct.pack('<i8', stamp), struct.pack('<H', #ids)}
  for _, id in ipairs(ids) do parts[#parts + 1] = struct.pack('<H', id) end
  for _, id in ipairs(ids) do
    local a = t[id]
    if width == 1 then parts[#parts + 1] = struct.pack('<d', a[1])
    else parts[#parts + 1] = struct.pack('<dddI4', a[1], a[2], a[3], a[4]) end
  end
  return table.concat(parts)
end
local ts = tonumber(ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
local raw = {}
for _, m in ipairs(old) do
  for id, a in pairs(decode(m, 9, 1)) do raw[id] = a end
end
local fresh, count = {}, 0
for id, a in pairs(decode(ARGV[2], 1, 1)) do
  if raw[id] == nil then fresh[id] = a[1]; raw[id] = a; count = count + 1 end
end
if count == 0 then return 0 end
if ts >= tonumber(ARGV[5]) then
  for _, m in ipairs(old) do redis.call('ZREM', KEYS[1], m) end
  redis.call('ZADD', KEYS[1], ARGV[1], encode(ts, raw, 1))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[5])
for tier = 2, 3 do
  local start, cut = tonumber(ARGV[tier + 1]), ARGV[tier + 4]
  if start > tonumber(cut) then
    local cur = redis.call('ZRANGEBYSCORE', KEYS[tier], ARGV[tier + 1], ARGV[tier + 1])
    local aggs = {}
    if cur[1] then
      aggs = decode(cur[1], 9, 4)
      redis.call('ZREM', KEYS[tier], cur[1])
    end
    for id, v in pairs(fresh) do
      local a = aggs[id]
      if a == nil then aggs[id] = {v, v, v, 1}
      else
        if v < a[1] then a[1] = v end
        if v > a[2] then a[2] = v end
        a[3] = a[3] + v
        a[4] = a[4] + 1
      end
    end
    redis.call('ZADD', KEYS[tier], ARGV[tier + 1], encode(start, aggs, 4))
    if not cur[1] then redis.call('ZREMRANGEBYSCORE', KEYS[tier], '-inf', cut) end
  end
end
return count
"""
GLOB = str.maketrans({c: "\\" + c for c in "*?[]\\"})  # Redis glob metacharacters, escaped
_PAGE = 2000  # members per read or bulk-write round trip


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
        self._record_script = self._bin.register_script(_RECORD)
        self._key_ids_script = self._bin.register_script(_KEY_IDS)
        self._key_ids: dict[str, int] = {}

    def _zset(self, host: str, tier: str, grp: str) -> str:
        return f"{self.prefix}hist:{host}:{tier}:{grp}"

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

    def record_history(self, host: str, ts: float, values: dict[str, float]) -> None:
        ids = self._ids(values, create=True)
        groups: dict[str, dict[int, float]] = {}
        for key, value in values.items():
            if key in ids:
                groups.setdefault(group(key), {})[ids[key]] = float(value)
        now, keep = time.time(), self.history_retention
        args = [raw_stamp(ts), None, bucket(ts, "1m"), bucket(ts, "1h"),
                repr((now - keep.raw) * 1000), repr(now - keep.minute - 60),
                repr(now - keep.hour - 3600)]
        with self._errors():
            pipe = self._bin.pipeline(transaction=True) if len(groups) > 1 else None
            for grp, figures in groups.items():
                args[1] = encode_raw(figures)
                self._record_script(keys=[self._zset(host, tier, grp) for tier in TIERS],
                                    args=args, client=pipe)
            if pipe is not None:
                pipe.execute()

    def history(self, host: str, key: str, tier: str, start: float, end: float) -> list[Point]:
        return self.history_many(host, [key], tier, start, end)[key]

    def history_many(self, host: str, keys: Iterable[str], tier: str, start: float,
                     end: float) -> dict[str, list[Point]]:
        rolled, scale = TIERS[tier] > 0, (1 if TIERS[tier] else 1000)
        found: dict[str, list[Point]] = {key: [] for key in keys}
        ids = self._ids(found, create=False)
        by_group: dict[str, list[tuple[str, int]]] = {}
        for key in found:
            if key in ids:
                by_group.setdefault(group(key), []).append((key, ids[key]))
        for grp, wanted in by_group.items():
            reader = Reader(wanted, rolled, offset=STAMP.size)
            low = repr(start * scale)
            while True:
                with self._errors():
                    page = self._bin.zrangebyscore(self._zset(host, tier, grp), low,
                                                   "(" + repr(end * scale), start=0, num=_PAGE)
                for member in page:
                    stamp = STAMP.unpack_from(member)[0]
                    reader.add(stamp if rolled else stamp / 1000, member)
                if len(page) < _PAGE:
                    break
                low = "(" + str(STAMP.unpack_from(page[-1])[0])
            found.update(reader.found)
        return found

    def write_history(self, host: str, tier: str,
                      rows: Iterable[tuple[float, dict[str, float | tuple]]]) -> None:
        rolled = TIERS[tier] > 0
        pipe, queued = self._bin.pipeline(transaction=False), 0
        for t, figures in rows:
            ids = self._ids(figures, create=True)
            groups: dict[str, dict[int, float | tuple]] = {}
            for key, figure in figures.items():
                if key in ids:
                    groups.setdefault(group(key), {})[ids[key]] = figure
            stamp = int(t) if rolled else round(t * 1000)
            for grp, by_id in groups.items():
                zset = self._zset(host, tier, grp)
                member = STAMP.pack(stamp) + (encode_rolled(by_id) if rolled
                                              else encode_raw(by_id))
                pipe.zremrangebyscore(zset, stamp, stamp)
                pipe.zadd(zset, {member: stamp})
                queued += 1
            if queued >= _PAGE:
                with self._errors():
                    pipe.execute()
                queued = 0
        if queued:
            with self._errors():
                pipe.execute()

    def _history_keys(self, host: str = "*") -> list[bytes]:
        with self._errors():
            return list(self._bin.scan_iter(match=f"{self.prefix}hist:{host}:*", count=1000))

    def trim_history(self) -> None:
        now, keep = time.time(), self.history_retention
        cuts = {tier: (now - keep.of(tier)) * 1000 if tier == "raw"
                else now - keep.of(tier) - TIERS[tier] for tier in TIERS}
        for zset in self._history_keys():
            tier = _tier_of(zset.decode(), self.prefix)
            if tier is None:
                continue
            cut = cuts[tier]
            with self._errors():
                self._bin.zremrangebyscore(zset, "-inf",
                                           f"({cut!r}" if tier == "raw" else repr(cut))

    def forget_history(self, host: str) -> None:
        for zset in self._history_keys(host.translate(GLOB)):
            with self._errors():
                self._bin.delete(zset)


def _tier_of(zset: str, prefix: str) -> str | None:
    """The tier of a history key ``<prefix>hist:<host>:<tier>:<group>`` (the group may hold ':')."""
    parts = zset[len(prefix):].split(":", 3)
    return parts[2] if len(parts) == 4 and parts[2] in TIERS else None
