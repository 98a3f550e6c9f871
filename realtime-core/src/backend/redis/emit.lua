-- The emit of the Redis backend: appends a batch of entries (one emit, or several that
-- were waiting together: group commit), each in one atomic step with its publish, at most
-- once per idempotency key. Each entry succeeds or fails on its own; the reply has one
-- string per entry, in order: `<id>` when stored, `=<id>` when its idempotency key was
-- already used (nothing written, the id is the first emit's), `!<error>` when it failed
-- (nothing written). Nothing here raises (writes that can fail go through pcall), so an
-- entry that fails cannot undo or hide the ones before it.
--
-- ARGV[1..5]: the backend's settings, then FIELDS arguments per entry (below).
-- KEYS: per entry its stream (also its pub/sub channel), then its idempotency key if its
-- flags contain `k`.
local publish = ARGV[1]          -- 'PUBLISH', or 'SPUBLISH' on a cluster (sharded pub/sub)
local max_len = ARGV[2]          -- '0': no MAXLEN
local trim = ARGV[3]             -- '=' or '~'
local expire_secs = ARGV[4]      -- '0': streams never expire
-- '1': a channel's live messages of this call go out as one message, a JSON array in
-- stream order (one publish per channel, not per entry); '0': one publish per entry, as
-- the reference reads them
local grouped = ARGV[5] == '1'
local FIELDS = 5
local FIRST = 6                  -- the first entry's first argument

-- Live messages waiting to be published, per pub/sub channel, in stream order, and the
-- channels in the order they first appeared.
local outbox = {}
local channels = {}

-- XADD, or with `only_existing` XADD NOMKSTREAM (false when the stream does not exist).
local function xadd(stream, only_existing, data, event, channel)
  if max_len ~= '0' then
    if only_existing then
      return redis.pcall('XADD', stream, 'NOMKSTREAM', 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
    end
    return redis.pcall('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
  end
  if only_existing then
    return redis.pcall('XADD', stream, 'NOMKSTREAM', '*', 'data', data, 'event', event, 'channel', channel)
  end
  return redis.pcall('XADD', stream, '*', 'data', data, 'event', event, 'channel', channel)
end

-- Appends one entry; returns its reply string.
local function append(stream, remembered, data, event, channel, message_tail, refresh, window_ms)
  if remembered then
    local seen = redis.pcall('GET', remembered)
    if type(seen) == 'table' then
      return '!' .. (seen.err or 'GET failed')
    end
    if seen then
      return '=' .. seen
    end
  end
  -- The TTL is set when this XADD creates the stream (NOMKSTREAM tells: no extra command
  -- when it exists), and refreshed when the process asks (at most once per second per
  -- channel and process): not an EXPIRE on every emit.
  local expires = expire_secs ~= '0'
  local id = xadd(stream, expires, data, event, channel)
  local created = false
  if id == false then
    id = xadd(stream, false, data, event, channel)
    created = true
  end
  if type(id) == 'table' then
    return '!' .. (id.err or 'XADD failed')   -- e.g. WRONGTYPE: nothing written
  end
  if expires and (created or refresh) then
    redis.call('EXPIRE', stream, expire_secs)
  end
  -- the live message: {"data":<data>,"event":"..","channel":"..","id":"<id>"}; names
  -- that JSON must escape come with their message tail written out
  local message
  if message_tail == '' then
    message = '{"data":' .. data .. ',"event":"' .. event .. '","channel":"' .. channel .. '","id":"' .. id .. '"}'
  else
    message = '{"data":' .. data .. message_tail .. id .. '"}'
  end
  if grouped then
    local waiting = outbox[stream]
    if waiting then
      waiting[#waiting + 1] = message
    else
      outbox[stream] = {message}
      channels[#channels + 1] = stream
    end
  else
    redis.call(publish, stream, message)
  end
  if remembered then
    redis.call('SET', remembered, id, 'PX', window_ms)
  end
  return id
end

local replies = {}
local key = 1
local entries = (#ARGV - FIRST + 1) / FIELDS
for entry = 0, entries - 1 do
  local at = FIRST + entry * FIELDS
  -- `-`: nothing; `r`: refresh the TTL; `k<ms>` / `kr<ms>`: an idempotency key (the next
  -- key) remembered for <ms>, with or without a refresh
  local options = ARGV[at + 4]
  local stream = KEYS[key]
  key = key + 1
  local remembered = nil
  local refresh = options == 'r'
  local window_ms = nil
  if options ~= '-' and not refresh then
    remembered = KEYS[key]
    key = key + 1
    refresh = string.byte(options, 2) == 114   -- `r`
    window_ms = string.sub(options, refresh and 3 or 2)
  end
  replies[entry + 1] = append(stream, remembered,
    ARGV[at],                    -- data (JSON text)
    ARGV[at + 1],                -- event name
    ARGV[at + 2],                -- channel name
    ARGV[at + 3],                -- '', or the live message between data and id when a
                                 -- name needs escaping
    refresh, window_ms)
end
for _, stream in ipairs(channels) do
  local waiting = outbox[stream]
  if #waiting == 1 then
    redis.call(publish, stream, waiting[1])
  else
    redis.call(publish, stream, '[' .. table.concat(waiting, ',') .. ']')
  end
end
return replies
