-- Presence of one channel: the leases of the processes holding connections in it (each
-- with an expiry that the process's heartbeat pushes back, one call whatever the number
-- of its connections), the connections under each lease, and the `presence.joined` /
-- `presence.left` entries appended (and published) when a member's first connection joins
-- and its last one goes. Every call first sweeps: leases past their expiry are retired and
-- their connections dropped (at most SWEEP_BATCH connections per call), so a departure is
-- announced exactly once however many processes sweep: the sweep, the bookkeeping and the
-- append are one step. A retired lease never comes back: joins and heartbeats under it
-- answer that it is gone, and the process joins again under a new one.
--
-- The clock is Redis's own (TIME), so the processes' clocks do not matter.
--
-- KEYS (one slot on a cluster):
--   1 the channel's stream (also its pub/sub channel)
--   2 leases: sorted set, lease -> expiry (ms)
--   3 dying: set of retired leases whose connections are not all dropped yet
--   4 retired: sorted set, lease -> when it was retired (kept an hour, so it is not reused)
--   5 counts: hash, member -> number of its connections
--   6 records: hash, member -> its record `{"member":..,"info":..}` (the entries' data)
--   7 (join, leave, refresh) the lease's connections: set of `<connection> <member>`
-- ARGV:
--   1 'PUBLISH', or 'SPUBLISH' on a cluster
--   2 MAXLEN of the stream ('0': none)       3 '=' or '~'
--   4 EXPIRE of the stream in s ('0': none)  5 '1': publish a call's messages as one
--                                                JSON array (our servers); '0': one each
--   6 the live message between data and id of `presence.joined`
--   7 the same for `presence.left`
--   8 the channel's name (the entries' `channel` field)
--   9 the prefix of a lease's connections key (the key is the prefix and the lease)
--  10 the operation, then its arguments (from ARGV[11]):
--     join    <lease> <connection> <member> <record> <ttl ms>
--                                   -> the joined entry's id, '' (not the first), or '!gone'
--     leave   <lease> <connection> <member>  -> the left entry's id, '' (the member has
--                                               other connections), or '?' (the
--                                               connection is not under the lease)
--     refresh <lease> <ttl ms>               -> 1, or 0 when the lease is gone
--     sweep                                  -> 1 when more is left to sweep, else 0
--                                               (the caller reads the records with HVALS)
-- Connection ids contain no space, so `<connection> <member>` splits at its first space.
local stream, leases, dying, retired, counts, records =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local publish, max_len, trim, expire_secs = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local grouped = ARGV[5] == '1'
local joined_tail, left_tail, channel, lease_prefix = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local operation = ARGV[10]
local SWEEP_BATCH = 1000
local RETIRED_FOR_MS = 3600000
-- presence keys outlive the longest lease by this much, then Redis drops them
local KEY_MARGIN_MS = 60000

local kind = redis.call('TYPE', stream)['ok']
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the channel key holds a ' .. kind .. ', not an event stream')
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local outbox = {}
local appended = 0

local function append(event, tail, record)
  local id
  if max_len ~= '0' then
    id = redis.call('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', record, 'event', event, 'channel', channel)
  else
    id = redis.call('XADD', stream, '*', 'data', record, 'event', event, 'channel', channel)
  end
  appended = appended + 1
  local message = '{"data":' .. record .. tail .. id .. '"}'
  if grouped then
    outbox[#outbox + 1] = message
  else
    redis.call(publish, stream, message)
  end
  return id
end

local function flush()
  if expire_secs ~= '0' and appended > 0 then
    redis.call('EXPIRE', stream, expire_secs)
  end
  if #outbox == 1 then
    redis.call(publish, stream, outbox[1])
  elseif #outbox > 1 then
    redis.call(publish, stream, '[' .. table.concat(outbox, ',') .. ']')
  end
end

-- One connection of `member` is gone: announce the member's departure if it was its last.
local function depart(member)
  local remaining = redis.call('HINCRBY', counts, member, -1)
  if remaining > 0 then
    return ''
  end
  redis.call('HDEL', counts, member)
  local record = redis.call('HGET', records, member)
  redis.call('HDEL', records, member)
  if record then
    return append('presence.left', left_tail, record)
  end
  return ''
end

local function member_of(entry)
  local space = string.find(entry, ' ', 1, true)
  if space then
    return string.sub(entry, space + 1)
  end
  return nil
end

-- Retires expired leases and drops up to SWEEP_BATCH of the retired leases' connections;
-- whether more may remain.
local function sweep()
  local more = false
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)
  for _, lease in ipairs(expired) do
    redis.call('ZREM', leases, lease)
    redis.call('ZADD', retired, now, lease)
    redis.call('SADD', dying, lease)
  end
  if #expired == 100 then
    more = true
  end
  redis.call('ZREMRANGEBYSCORE', retired, '-inf', now - RETIRED_FOR_MS)
  local budget = SWEEP_BATCH
  for _, lease in ipairs(redis.call('SRANDMEMBER', dying, 100)) do
    if budget <= 0 then
      return true
    end
    local key = lease_prefix .. lease
    local entries = redis.call('SPOP', key, budget)
    budget = budget - #entries
    for _, entry in ipairs(entries) do
      local member = member_of(entry)
      if member then
        depart(member)
      end
    end
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', dying, lease)
    else
      more = true
    end
  end
  return more
end

-- Keeps the presence keys (and the lease's, when given) at least `ttl_ms` + KEY_MARGIN_MS.
local function keep_keys(ttl_ms, lease_key)
  local want = ttl_ms + KEY_MARGIN_MS
  for _, key in ipairs({leases, dying, retired, counts, records, lease_key}) do
    local left = redis.call('PTTL', key)
    if left ~= -2 and left < want then
      redis.call('PEXPIRE', key, want)
    end
  end
end

local more = sweep()
local reply

if operation == 'join' then
  local lease, connection, member, record = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
  local ttl_ms = tonumber(ARGV[15])
  if redis.call('ZSCORE', retired, lease) then
    reply = '!gone'
  else
    redis.call('ZADD', leases, 'GT', now + ttl_ms, lease)
    local added = redis.call('SADD', KEYS[7], connection .. ' ' .. member)
    redis.call('HSET', records, member, record)
    reply = ''
    if added == 1 and redis.call('HINCRBY', counts, member, 1) == 1 then
      reply = append('presence.joined', joined_tail, record)
    end
    keep_keys(ttl_ms, KEYS[7])
  end
elseif operation == 'leave' then
  local lease, connection, member = ARGV[11], ARGV[12], ARGV[13]
  reply = '?'
  if redis.call('SREM', KEYS[7], connection .. ' ' .. member) == 1 then
    reply = depart(member)
    if redis.call('EXISTS', KEYS[7]) == 0 then
      redis.call('ZREM', leases, lease)
    end
  end
elseif operation == 'refresh' then
  local lease, ttl_ms = ARGV[11], tonumber(ARGV[12])
  if redis.call('ZSCORE', leases, lease) then
    redis.call('ZADD', leases, 'XX', now + ttl_ms, lease)
    keep_keys(ttl_ms, KEYS[7])
    reply = 1
  else
    reply = 0
  end
elseif operation == 'sweep' then
  reply = more and 1 or 0
else
  return redis.error_reply('unknown presence operation ' .. tostring(operation))
end

flush()
return reply
