"""The Redis history's chunk format (version 2): many points of one series per sorted-set member.

A Redis sorted-set member costs about 60 bytes of bookkeeping besides its bytes, and the first
format held one point per member in doubles: 50 MB per host-year. Here a member is a *chunk*:
the points of one row group (:func:`app.store.tiers.group`) over a fixed stretch of time,

- ``raw``: a minute of samples; ``1m``: an hour of minute buckets; ``1h``: a day of hour buckets
  (:data:`CHUNK`, seconds), each chunk's score its start (raw: Unix milliseconds, buckets: Unix
  seconds), so reads and trims stay ``ZRANGEBYSCORE`` / ``ZREMRANGEBYSCORE``;
- bytes: ``<q start>``, ``<H n>``, ``n`` key ids ``<H>`` (ascending), then the entries, oldest
  first, each ``<H offset>`` and one field per key id: raw ``<f value>`` (NaN: no value for that
  key), buckets ``<fffH min max avg count>`` (count 0: none). The offset is milliseconds from
  the start (raw) or the bucket's index in the chunk.

Figures are 32-bit floats: about 7 significant digits (relative error at most 6e-8 per value),
magnitudes up to 3.4e38 (larger ones are kept as ±3.4e38, smaller than 1.2e-38 as 0). A bucket
keeps its running average rather than its sum: each fold rounds it to 32 bits again, so after an
hour of folds it is within 1e-5 relative of the exact average in practice (2e-4 at worst). A
bucket counts at most 65,535 values (an hour at one a second is 3,600).

The Lua scripts below are the only writers, so two writers never lose each other's fold.
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from .tiers import TIERS, Point

#: Tier -> seconds one chunk covers (a multiple of the tier's bucket).
CHUNK: dict[str, int] = {"raw": 60, "1m": 3600, "1h": 86400}
#: Largest magnitude a 32-bit float holds; figures beyond it are clamped to it.
F32_MAX = 3.4028234663852886e38
_HEAD = struct.Struct("<qH")

#: Helpers shared by both scripts. A chunk in Lua: ids (ascending), pos (id -> index), offs
#: (ascending offsets), ents (offset -> entry bytes). kind 1: raw fields, 2: bucket fields.
_LUA_CHUNK = """
local FW = {4, 14}
local ABSENT = {struct.pack('<f', 0/0), struct.pack('<fffH', 0, 0, 0, 0)}
local function open(m, kind)
  local c = {ids = {}, pos = {}, offs = {}, ents = {}}
  if not m then return c end
  local n = struct.unpack('<H', m, 9)
  for i = 1, n do
    local id = struct.unpack('<H', m, 9 + 2 * i)
    c.ids[i] = id; c.pos[id] = i
  end
  local w = 2 + n * FW[kind]
  for p = 11 + 2 * n, #m - w + 1, w do
    local off = struct.unpack('<H', m, p)
    c.offs[#c.offs + 1] = off
    c.ents[off] = string.sub(m, p, p + w - 1)
  end
  return c
end
local function widen(c, want, kind)
  local ids = {}
  for _, id in ipairs(c.ids) do ids[#ids + 1] = id end
  for id in pairs(want) do if not c.pos[id] then ids[#ids + 1] = id end end
  if #ids == #c.ids then return end
  table.sort(ids)
  local fw, old = FW[kind], c.pos
  for off, e in pairs(c.ents) do
    local parts = {string.sub(e, 1, 2)}
    for _, id in ipairs(ids) do
      local i = old[id]
      parts[#parts + 1] = i and string.sub(e, 3 + (i - 1) * fw, 2 + i * fw) or ABSENT[kind]
    end
    c.ents[off] = table.concat(parts)
  end
  c.ids, c.pos = ids, {}
  for i, id in ipairs(ids) do c.pos[id] = i end
end
local function get(c, off, id, kind)
  local e, i = c.ents[off], c.pos[id]
  if not e or not i then return nil end
  if kind == 1 then
    local v = struct.unpack('<f', e, 3 + (i - 1) * 4)
    if v ~= v then return nil end
    return {v}
  end
  local lo, hi, avg, n = struct.unpack('<fffH', e, 3 + (i - 1) * 14)
  if n == 0 then return nil end
  return {lo, hi, avg, n}
end
local function put(c, off, fields, kind, replace)
  local e, fw = c.ents[off], FW[kind]
  if replace then e = nil end
  local parts = {struct.pack('<H', off)}
  for i, id in ipairs(c.ids) do
    local f = fields[id]
    if f == nil then
      f = e and string.sub(e, 3 + (i - 1) * fw, 2 + i * fw) or ABSENT[kind]
    end
    parts[#parts + 1] = f
  end
  if not c.ents[off] then
    local offs, j = c.offs, #c.offs
    while j > 0 and offs[j] > off do offs[j + 1] = offs[j]; j = j - 1 end
    offs[j + 1] = off
  end
  c.ents[off] = table.concat(parts)
end
local function save(key, old, start, c)
  if old then redis.call('ZREM', key, old) end
  local parts = {struct.pack('<i8', start), struct.pack('<H', #c.ids)}
  for _, id in ipairs(c.ids) do parts[#parts + 1] = struct.pack('<H', id) end
  for _, off in ipairs(c.offs) do parts[#parts + 1] = c.ents[off] end
  redis.call('ZADD', key, start, table.concat(parts))
end
"""

#: KEYS: raw, 1m, 1h sorted sets. ARGV: ts (whole second, ms), figures packed as
#: :func:`app.store.tiers.encode_raw` (doubles), 1m bucket start, 1h bucket start, then the
#: cut-offs: raw points below ARGV[5] (ms) and buckets at or below ARGV[6] (1m) and ARGV[7]
#: (1h) are outside the retention. Returns how many values were new.
RECORD = _LUA_CHUNK + """
local ts, fig = tonumber(ARGV[1]), ARGV[2]
local n, vals = struct.unpack('<H', fig, 1), {}
for i = 1, n do
  vals[struct.unpack('<H', fig, 1 + 2 * i)] = struct.unpack('<d', fig, 3 + 2 * n + 8 * (i - 1))
end
local rstart = ts - ts % 60000
local off = ts - rstart
local old = redis.call('ZRANGEBYSCORE', KEYS[1], rstart, rstart)[1]
local c = open(old, 1)
local fresh, count = {}, 0
for id, v in pairs(vals) do
  if not get(c, off, id, 1) then fresh[id] = v; count = count + 1 end
end
if count == 0 then return 0 end
if ts >= tonumber(ARGV[5]) then
  widen(c, fresh, 1)
  local fields = {}
  for id, v in pairs(fresh) do fields[id] = struct.pack('<f', v) end
  put(c, off, fields, 1, false)
  save(KEYS[1], old, rstart, c)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[5]) - 60000)
local STEP, CH = {0, 60, 3600}, {0, 3600, 86400}
for tier = 2, 3 do
  local b, cut = tonumber(ARGV[tier + 1]), tonumber(ARGV[tier + 4])
  if b > cut then
    local start = b - b % CH[tier]
    local at = (b - start) / STEP[tier]
    local m = redis.call('ZRANGEBYSCORE', KEYS[tier], start, start)[1]
    local k = open(m, 2)
    widen(k, fresh, 2)
    local fields = {}
    for id, v in pairs(fresh) do
      local a = get(k, at, id, 2)
      if a == nil then fields[id] = struct.pack('<fffH', v, v, v, 1)
      else
        local lo, hi, avg, cnt = a[1], a[2], a[3], a[4]
        if v < lo then lo = v end
        if v > hi then hi = v end
        if cnt < 65535 then avg = (avg * cnt + v) / (cnt + 1); cnt = cnt + 1 end
        fields[id] = struct.pack('<fffH', lo, hi, avg, cnt)
      end
    end
    put(k, at, fields, 2, false)
    save(KEYS[tier], m, start, k)
    if not m then
      redis.call('ZREMRANGEBYSCORE', KEYS[tier], '-inf', cut - CH[tier] + STEP[tier])
    end
  end
end
return count
"""

#: KEYS: one sorted set. ARGV: a chunk (:func:`encode_chunk`), its kind (1 raw, 2 buckets).
#: Its entries replace the stored chunk's entries at the same offsets, whole.
PUT = _LUA_CHUNK + """
local new, kind = ARGV[1], tonumber(ARGV[2])
local start = struct.unpack('<i8', new, 1)
local old = redis.call('ZRANGEBYSCORE', KEYS[1], start, start)[1]
local c, w = open(old, kind), open(new, kind)
widen(c, w.pos, kind)
local fw = FW[kind]
for _, off in ipairs(w.offs) do
  local e, fields = w.ents[off], {}
  for i, id in ipairs(w.ids) do fields[id] = string.sub(e, 3 + (i - 1) * fw, 2 + i * fw) end
  put(c, off, fields, kind, true)
end
save(KEYS[1], old, start, c)
return #w.offs
"""


def clamp(value: float) -> float:
    """``value`` within ±:data:`F32_MAX`, so that packing it as a 32-bit float stays finite."""
    return F32_MAX if value > F32_MAX else -F32_MAX if value < -F32_MAX else value


def chunk_start(t: float, tier: str) -> int:
    """The score of the ``tier`` chunk holding time ``t`` (Unix seconds): its start in
    milliseconds (raw) or seconds (buckets)."""
    length = CHUNK[tier]
    start = math.floor(t / length) * length
    return start * 1000 if tier == "raw" else start


def encode_chunk(start: int, tier: str, entries: dict[int, dict[int, float | tuple]]) -> bytes:
    """Pack a chunk starting at score ``start`` with ``{offset: {key id: figure}}``: raw
    figures are values, bucket figures ``(min, max, sum, count)``. Offsets as in the module
    docstring; a key an entry lacks gets the "none" field."""
    ids = sorted({kid for figures in entries.values() for kid in figures})
    rolled = TIERS[tier] > 0
    fmt = struct.Struct("<H" + ("fffH" if rolled else "f") * len(ids))
    none = (0.0, 0.0, 0.0, 0) if rolled else (math.nan,)
    parts = [_HEAD.pack(start, len(ids)), struct.pack(f"<{len(ids)}H", *ids)]
    for off in sorted(entries):
        figures, flat = entries[off], [off]
        for kid in ids:
            f = figures.get(kid)
            if f is None:
                flat.extend(none)
            elif rolled:
                low, high, total, count = f
                count = min(int(count), 65535)
                flat.extend((clamp(low), clamp(high), clamp(total / count), count))
            else:
                flat.append(clamp(f))
        parts.append(fmt.pack(*flat))
    return b"".join(parts)


@lru_cache(maxsize=256)
def _layout(n: int, rolled: bool) -> struct.Struct:
    return struct.Struct("<H" + ("fffH" if rolled else "f") * n)


class ChunkReader:
    """Turns chunk members into :data:`Point` lists of some keys.

    :param wanted: ``[(key name, key id), ...]``.
    :param tier: the chunks' tier; points outside ``[start, end)`` are left out.
    """

    def __init__(self, wanted: list[tuple[str, int]], tier: str, start: float,
                 end: float) -> None:
        self.wanted, self.start, self.end = wanted, start, end
        self.rolled, self.step = TIERS[tier] > 0, TIERS[tier]
        self.found: dict[str, list[Point]] = {key: [] for key, _ in wanted}
        self._plans: dict[bytes, list[tuple[list, int]]] = {}

    def add(self, member: bytes) -> None:
        """Take one member: its points in range go to :attr:`found`, oldest first (members
        must come oldest first)."""
        stamp, n = _HEAD.unpack_from(member)
        header = member[10:10 + 2 * n]
        plan = self._plans.get(header)
        if plan is None:
            ids = struct.unpack(f"<{n}H", header)
            plan = self._plans[header] = [(self.found[key], ids.index(kid))
                                          for key, kid in self.wanted if kid in ids]
        if not plan:
            return
        layout, low, high = _layout(n, self.rolled), self.start, self.end
        rows = layout.iter_unpack(memoryview(member)[10 + 2 * n:])
        if self.rolled:
            for row in rows:
                t = stamp + row[0] * self.step
                if low <= t < high:
                    for points, i in plan:
                        count = row[4 + 4 * i]
                        if count:
                            points.append((t, row[1 + 4 * i], row[3 + 4 * i], row[2 + 4 * i],
                                           count))
        else:
            for row in rows:
                t = (stamp + row[0]) / 1000
                if low <= t < high:
                    for points, i in plan:
                        v = row[1 + i]
                        if v == v:  # NaN: no value of this key here
                            points.append((t, v, v, v, 1))

#: KEYS: one sorted set. ARGV: the cut-off (score units), the kind (1 raw, 2 buckets), the
#: chunk length and one offset's length (score units). Drops the points before the cut-off (raw)
#: or at or before it (buckets): whole chunks, then the entries of the chunk that straddles it.
TRIM = _LUA_CHUNK + """
local cut, kind = tonumber(ARGV[1]), tonumber(ARGV[2])
local ch, step = tonumber(ARGV[3]), tonumber(ARGV[4])
local function out(t) if kind == 1 then return t < cut end return t <= cut end
local whole = cut - ch + step
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', kind == 1 and '(' .. whole or whole)
local m = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cut, 'LIMIT', 0, 1)[1]
if not m then return 0 end
local c = open(m, kind)
local start, kept = struct.unpack('<i8', m, 1), {}
for _, off in ipairs(c.offs) do
  if out(start + off * step) then c.ents[off] = nil else kept[#kept + 1] = off end
end
if #kept == #c.offs then return 0 end
c.offs = kept
if #kept == 0 then redis.call('ZREM', KEYS[1], m) else save(KEYS[1], m, start, c) end
return 1
"""
