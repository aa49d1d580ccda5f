"""The Lua scripts of :class:`app.store.redis.RedisStore`: the log's append (with its state
change), its compare-and-set, and the lease. Each runs atomically on the Redis server."""

# Take a free lease or renew our own, atomically; another owner's unexpired lease stays.
LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

#: Checks the types of KEYS[1..3] (log stream, id counter, state hash) before anything is
#: written: Redis does not undo a script's earlier writes when a later command fails, and a
#: shared Redis may hold a foreign value under our names.
_CHECK_TYPES = """
for i, want in ipairs({'stream', 'string', 'hash'}) do
  local found = redis.call('TYPE', KEYS[i]).ok
  if found ~= want and found ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' holds a ' .. found)
  end
end
"""
#: Defines next_id(): the next log id from the counter, repaired first if the stream's last
#: id is at or above it (a counter lost or restored older than the stream).
_NEXT_ID = """
local function next_id()
  local n = redis.call('INCR', KEYS[2])
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if top[1] then
    local last = tonumber(string.match(top[1][1], '^(%d+)'))
    if last >= n then
      n = last + 1
      redis.call('SET', KEYS[2], string.format('%d', n))
    end
  end
  return n
end
"""

#: KEYS: log stream, id counter, state hash. ARGV: maxlen, kind, ts, data[, state key].
#: One script, so the log entry and the state change land together or not at all. After the
#: type checks no command can fail but INCR, the first write (out of memory, a non-number
#: counter).
APPEND = _CHECK_TYPES + _NEXT_ID + """
local n = next_id()
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], string.format('%d-0', n),
           'kind', ARGV[2], 'ts', ARGV[3], 'data', ARGV[4])
if #ARGV >= 5 then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[4])
end
return n
"""

#: :data:`APPEND` of several items at once (a batch of samples, ``app.store.redis_batch``).
#: KEYS: as APPEND's. ARGV: maxlen, ts, then kind, data, state key ('' for none) per item.
#: Returns the items' ids in order; the types are checked and the counter repaired once.
APPEND_MANY = _CHECK_TYPES + _NEXT_ID + """
local ids = {}
local n = 0
for j = 3, #ARGV, 3 do
  if n == 0 then n = next_id() else n = redis.call('INCR', KEYS[2]) end
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], string.format('%d-0', n),
             'kind', ARGV[j], 'ts', ARGV[2], 'data', ARGV[j + 1])
  if ARGV[j + 2] ~= '' then
    redis.call('HSET', KEYS[3], ARGV[j + 2], ARGV[j + 1])
  end
  ids[#ids + 1] = n
end
return ids
"""
#: The compare-and-set: :data:`APPEND` run only if the state under ARGV[5] is a JSON object
#: whose field ARGV[6] is the string ARGV[7]; else it returns nil (None) and writes nothing.
#: (HGET on a foreign value under our hash's name fails before any write, as in APPEND.)
#: Prepended to APPEND rather than written anew, so that ids, the counter's repair and the
#: trimming are exactly those of a plain append. Scripts run atomically: no other client's
#: command runs between the HGET and the writes.
APPEND_IF = """
local current = redis.call('HGET', KEYS[3], ARGV[5])
if not current then
  return false
end
local ok, state = pcall(cjson.decode, current)
if not ok or type(state) ~= 'table' or state[ARGV[6]] ~= ARGV[7] then
  return false
end
""" + APPEND
