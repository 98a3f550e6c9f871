-- Presence of one channel: its members' connections with their expiry, and the
-- `presence.joined` / `presence.left` entries appended (and published) when a member's
-- first connection joins and its last one goes. Every call first sweeps expired
-- connections (at most SWEEP_BATCH per call), so a departure is announced exactly once
-- however many processes sweep: the sweep, the bookkeeping and the append are one step.
--
-- The clock is Redis's own (TIME), so the processes' clocks do not matter.
--
-- KEYS (one slot on a cluster):
--   1 the channel's stream (also its pub/sub channel)
--   2 connections: sorted set, `<connection> <member>` -> expiry (ms)
--   3 counts: hash, member -> number of its connections
--   4 records: hash, member -> its record `{"member":..,"info":..}` (the entries' data)
-- ARGV:
--   1 'PUBLISH', or 'SPUBLISH' on a cluster
--   2 MAXLEN of the stream ('0': none)       3 '=' or '~'
--   4 EXPIRE of the stream in s ('0': none)  5 '1': publish a call's messages as one
--                                                JSON array (our servers); '0': one each
--   6 the live message between data and id of `presence.joined`
--   7 the same for `presence.left`
--   8 the channel's name (the entries' `channel` field)
--   9 the operation, then its arguments (from ARGV[10]):
--     join    <connection> <member> <record> <ttl ms>  -> the joined entry's id, or ''
--     leave   <connection> <member>                    -> the left entry's id, or ''
--     refresh (<connection> <member> <ttl ms>)...      -> the connections not present
--     members                                          -> {more expired?, record...}
-- Connection ids contain no space, so `<connection> <member>` splits at its first space.
local stream, connections, counts, records = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local publish, max_len, trim, expire_secs = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local grouped = ARGV[5] == '1'
local joined_tail, left_tail, channel = ARGV[6], ARGV[7], ARGV[8]
local operation = ARGV[9]
local SWEEP_BATCH = 1000
-- presence keys outlive the longest connection by this much, then Redis drops them
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

-- Removes up to SWEEP_BATCH expired connections; whether more may remain.
local function sweep()
  local expired = redis.call('ZRANGEBYSCORE', connections, '-inf', now, 'LIMIT', 0, SWEEP_BATCH)
  for _, entry in ipairs(expired) do
    redis.call('ZREM', connections, entry)
    local space = string.find(entry, ' ', 1, true)
    if space then
      depart(string.sub(entry, space + 1))
    end
  end
  return #expired == SWEEP_BATCH
end

-- Keeps the presence keys at least `ttl_ms` + KEY_MARGIN_MS.
local function keep_keys(ttl_ms)
  local want = ttl_ms + KEY_MARGIN_MS
  for _, key in ipairs({connections, counts, records}) do
    local left = redis.call('PTTL', key)
    if left ~= -2 and left < want then
      redis.call('PEXPIRE', key, want)
    end
  end
end

local more = sweep()
local reply

if operation == 'join' then
  local connection, member, record, ttl_ms = ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13])
  local added = redis.call('ZADD', connections, now + ttl_ms, connection .. ' ' .. member)
  redis.call('HSET', records, member, record)
  reply = ''
  if added == 1 and redis.call('HINCRBY', counts, member, 1) == 1 then
    reply = append('presence.joined', joined_tail, record)
  end
  keep_keys(ttl_ms)
elseif operation == 'leave' then
  reply = ''
  if redis.call('ZREM', connections, ARGV[10] .. ' ' .. ARGV[11]) == 1 then
    reply = depart(ARGV[11])
  end
elseif operation == 'refresh' then
  -- in chunks: ZMSCORE finds the connections that are gone, ZADD XX refreshes the rest
  local missing = {}
  local longest = 0
  local first = 10
  while first <= #ARGV do
    local last = math.min(first + 3 * 500 - 1, #ARGV)
    local entries, scores = {}, {}
    for at = first, last, 3 do
      local ttl_ms = tonumber(ARGV[at + 2])
      if ttl_ms > longest then longest = ttl_ms end
      entries[#entries + 1] = ARGV[at] .. ' ' .. ARGV[at + 1]
      scores[#scores + 1] = now + ttl_ms
    end
    local present = redis.call('ZMSCORE', connections, unpack(entries))
    local update = {}
    for index, entry in ipairs(entries) do
      if present[index] then
        update[#update + 1] = scores[index]
        update[#update + 1] = entry
      else
        missing[#missing + 1] = ARGV[first + (index - 1) * 3]
      end
    end
    if #update > 0 then
      redis.call('ZADD', connections, 'XX', unpack(update))
    end
    first = last + 1
  end
  if longest > 0 then
    keep_keys(longest)
  end
  reply = missing
elseif operation == 'members' then
  reply = redis.call('HVALS', records)
  table.insert(reply, 1, more and '1' or '0')
else
  return redis.error_reply('unknown presence operation ' .. tostring(operation))
end

flush()
return reply
