"""The Lua scripts that write the Redis history's chunks (layout in :mod:`.redis_chunks`).

Each runs atomically in Redis, so two writers never lose each other's fold. Redis embeds the
``struct`` library, which packs and unpacks the same formats as Python's.
"""

from .redis_chunks import CHUNK

#: Helpers shared by the scripts. kind 1: raw fields, 2: minute buckets, 3: hour buckets. A
#: chunk opened whole (the rare paths: a key joins, a bulk write, a trim) is a table: ids
#: (ascending), pos (id -> index), offs (ascending offsets), ents (offset -> entry bytes).
_LUA_CHUNK = """
local FMT = {'<f', '<fffB', '<fffH'}
local FW = {4, 13, 14}
local MOST = {1, 255, 65535}
local ABSENT = {struct.pack('<f', 0/0), struct.pack('<fffB', 0, 0, 0, 0),
                struct.pack('<fffH', 0, 0, 0, 0)}
local function head(m)
  local n, ids, pos = struct.unpack('<H', m, 9), {}, {}
  for i = 1, n do
    local id = struct.unpack('<H', m, 9 + 2 * i)
    ids[i] = id; pos[id] = i
  end
  return n, ids, pos, 11 + 2 * n
end
local function seek(m, first, w, off)
  local p = #m + 1 - w
  while p >= first do
    local o = struct.unpack('<H', m, p)
    if o == off then return p, true end
    if o < off then return p + w, false end
    p = p - w
  end
  return first, false
end
local function current(m, off, kind)
  local out = {}
  if not m then return out end
  local n, ids, pos, first = head(m)
  local fw = FW[kind]
  local p, there = seek(m, first, 2 + n * fw, off)
  if not there then return out end
  for i, id in ipairs(ids) do
    local at = p + 2 + (i - 1) * fw
    if kind == 1 then
      local v = struct.unpack('<f', m, at)
      if v == v then out[id] = {v} end
    else
      local lo, hi, avg, c = struct.unpack(FMT[kind], m, at)
      if c > 0 then out[id] = {lo, hi, avg, c} end
    end
  end
  return out
end
local function open(m, kind)
  local c = {ids = {}, pos = {}, offs = {}, ents = {}}
  if not m then return c end
  local n, ids, pos, first = head(m)
  c.ids, c.pos = ids, pos
  local w = 2 + n * FW[kind]
  for p = first, #m - w + 1, w do
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
local function place(c, off)
  if c.ents[off] then return end
  local offs, j = c.offs, #c.offs
  while j > 0 and offs[j] > off do offs[j + 1] = offs[j]; j = j - 1 end
  offs[j + 1] = off
end
local function pack(start, c)
  local parts = {struct.pack('<i8', start), struct.pack('<H', #c.ids)}
  for _, id in ipairs(c.ids) do parts[#parts + 1] = struct.pack('<H', id) end
  for _, off in ipairs(c.offs) do parts[#parts + 1] = c.ents[off] end
  return table.concat(parts)
end
local function save(key, old, start, c)
  if old then redis.call('ZREM', key, old) end
  redis.call('ZADD', key, start, pack(start, c))
end
local function entry(ids, off, fields, kind, m, p)
  local fw, parts = FW[kind], {struct.pack('<H', off)}
  for i, id in ipairs(ids) do
    local f = fields[id]
    if f == nil then
      f = m and string.sub(m, p + 2 + (i - 1) * fw, p + 1 + i * fw) or ABSENT[kind]
    end
    parts[#parts + 1] = f
  end
  return table.concat(parts)
end
-- Chunk m (nil: none yet) with fields (id -> packed field) written into its entry off, the
-- entry's other fields kept: one splice when its keys are all in the chunk, else rebuilt.
local function spliced(m, start, off, kind, fields)
  if m then
    local n, ids, pos, first = head(m)
    local fits = true
    for id in pairs(fields) do if not pos[id] then fits = false end end
    if fits then
      local w = 2 + n * FW[kind]
      local p, there = seek(m, first, w, off)
      local e = entry(ids, off, fields, kind, there and m, p)
      return string.sub(m, 1, p - 1) .. e .. string.sub(m, there and p + w or p)
    end
  end
  local c = open(m, kind)
  widen(c, fields, kind)
  local p = c.ents[off]
  place(c, off)
  c.ents[off] = entry(c.ids, off, fields, kind, p, 1)
  return pack(start, c)
end
"""

#: KEYS: raw, 1m, 1h sorted sets (one row group of one host). ARGV: the cut-offs, raw points
#: below ARGV[1] (ms) and buckets at or below ARGV[2] (1m) and ARGV[3] (1h) being outside the
#: retention, then for each sample in turn its ts (whole second, ms) and its figures packed as
#: :func:`app.store.tiers.encode_raw` (doubles). Each chunk the samples touch is read once and
#: written once: a batch's samples of one host mostly share their chunks (a raw chunk holds a
#: minute), where a call per sample rewrote each chunk per sample. Returns how many values
#: were new.
RECORD = _LUA_CHUNK + """
local RAW, STEP, CH = @raw@, {0, 60, 3600}, {0, @1m@, @1h@}
local cut = {tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])}
-- tier -> start -> {old = the stored member or false, m = the chunk as it is now or nil}
local chunks = {{}, {}, {}}
local function chunk(tier, start)
  local c = chunks[tier][start]
  if not c then
    local old = redis.call('ZRANGEBYSCORE', KEYS[tier], start, start)[1]
    c = {old = old or false, m = old}
    chunks[tier][start] = c
  end
  return c
end
local total = 0
for a = 4, #ARGV, 2 do
  local ts, fig = tonumber(ARGV[a]), ARGV[a + 1]
  local n, vals = struct.unpack('<H', fig, 1), {}
  for i = 1, n do
    vals[struct.unpack('<H', fig, 1 + 2 * i)] = struct.unpack('<d', fig, 3 + 2 * n + 8 * (i - 1))
  end
  local rstart = ts - ts % RAW
  local off = ts - rstart
  local raw = chunk(1, rstart)
  local have = current(raw.m, off, 1)
  local fresh, fields, count = {}, {}, 0
  for id, v in pairs(vals) do
    if not have[id] then fresh[id] = v; fields[id] = struct.pack('<f', v); count = count + 1 end
  end
  if count > 0 then
    total = total + count
    if ts >= cut[1] then raw.m = spliced(raw.m, rstart, off, 1, fields) end
    local s = ts / 1000
    for tier = 2, 3 do
      local b = s - s % STEP[tier]
      if b > cut[tier] then
        local start = b - b % CH[tier]
        local at = (b - start) / STEP[tier]
        local c = chunk(tier, start)
        local aggs = current(c.m, at, tier)
        fields = {}
        for id, v in pairs(fresh) do
          local g = aggs[id]
          if g == nil then fields[id] = struct.pack(FMT[tier], v, v, v, 1)
          else
            local lo, hi, avg, k = g[1], g[2], g[3], g[4]
            if v < lo then lo = v end
            if v > hi then hi = v end
            if k < MOST[tier] then avg = (avg * k + v) / (k + 1); k = k + 1 end
            fields[id] = struct.pack(FMT[tier], lo, hi, avg, k)
          end
        end
        c.m = spliced(c.m, start, at, tier, fields)
      end
    end
  end
end
if total == 0 then return 0 end
for tier = 1, 3 do
  for start, c in pairs(chunks[tier]) do
    if c.m and c.m ~= c.old then
      if c.old then redis.call('ZREM', KEYS[tier], c.old)
      elseif tier > 1 then  -- a new bucket chunk: the chunks past the retention go
        redis.call('ZREMRANGEBYSCORE', KEYS[tier], '-inf', cut[tier] - CH[tier] + STEP[tier])
      end
      redis.call('ZADD', KEYS[tier], start, c.m)
    end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut[1] - RAW)
return total
"""

RECORD = (RECORD.replace("@raw@", str(CHUNK["raw"] * 1000)).replace("@1m@", str(CHUNK["1m"]))
          .replace("@1h@", str(CHUNK["1h"])))

#: KEYS: one sorted set. ARGV: a chunk (:func:`encode_chunk`), its kind. Its entries replace
#: the stored chunk's entries at the same offsets, whole.
PUT = _LUA_CHUNK + """
local new, kind = ARGV[1], tonumber(ARGV[2])
local start = struct.unpack('<i8', new, 1)
local old = redis.call('ZRANGEBYSCORE', KEYS[1], start, start)[1]
if not old then redis.call('ZADD', KEYS[1], start, new); return 0 end
local c, w = open(old, kind), open(new, kind)
widen(c, w.pos, kind)
widen(w, c.pos, kind)
for _, off in ipairs(w.offs) do
  place(c, off)
  c.ents[off] = w.ents[off]
end
save(KEYS[1], old, start, c)
return 1
"""

#: KEYS: one sorted set. ARGV: the cut-off (score units), the kind (:data:`KIND`), the
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
