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

#: KEYS: log stream, id counter, state hash. ARGV: maxlen, kind, ts, data[, state key].
#: One script, so the log entry and the state change land together or not at all. Redis does not
#: undo a script's earlier writes when a later command fails, so the key types are checked
#: before anything is written (a shared Redis may hold a foreign value under our names); after
#: that no command can fail but INCR, the first write (out of memory, a non-number counter).
APPEND = """
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
