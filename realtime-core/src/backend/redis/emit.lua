-- The emit of the Redis backend: appends a batch of entries (one emit, or several that
-- were waiting together: group commit), each in one atomic step with its publish, at most
-- once per idempotency key. Each entry succeeds or fails on its own; the reply has one
-- string per entry, in the order sent: `<id>` when stored, `=<id>` when its idempotency
-- key was already used (nothing written, the id is the first emit's), `!<error>` when it
-- failed (nothing written). Nothing here raises (writes that can fail go through pcall),
-- so an entry that fails cannot undo or hide the ones before it.
--
-- The arguments are grouped by stream, so that what a stream's entries share is sent once
-- (Redis turns every argument into a string of its own: on a hot channel that, not the
-- XADD, was most of the cost):
--
-- ARGV[1..6]: the backend's settings (below) and the number of streams. Then per stream:
--   channel name, spec, [the channel's JSON text, when spec has `j`]
--   then <count> entries: data, event, [options, when spec has `o`], [the event's JSON
--   text, when options has `e`]
-- spec: `<count>`, followed by any of `r` (refresh the stream's TTL), `o` (the entries
-- carry options), `j` (JSON must escape the channel's name; its JSON text follows).
-- options: `-` nothing, `e` (JSON must escape the event's name; its JSON text follows),
-- `<ms>` / `e<ms>`: an idempotency key (the next of KEYS after the streams) remembered
-- for <ms>.
-- KEYS: the streams (each also its pub/sub channel), in order; then the idempotency keys
-- of the entries that have one, in order.
local publish = ARGV[1]          -- 'PUBLISH', or 'SPUBLISH' on a cluster (sharded pub/sub)
local max_len = ARGV[2]          -- '0': no MAXLEN
local trim = ARGV[3]             -- '=' or '~'
local expire_secs = ARGV[4]      -- '0': streams never expire
local expires = expire_secs ~= '0'
-- '1': a channel's live messages of this call go out as one message, a JSON array in
-- stream order (one publish per channel, not per entry); '0': one publish per entry, as
-- the reference reads them
local grouped = ARGV[5] == '1'
local streams = tonumber(ARGV[6])

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

local replies = {}
local at = 7                     -- the next argument to read
local remembered_key = streams + 1
for s = 1, streams do
  local stream = KEYS[s]
  local channel = ARGV[at]
  local spec = ARGV[at + 1]
  at = at + 2
  local count = tonumber(spec)
  local refresh = false
  local with_options = false
  local channel_json = channel
  if count == nil then
    local digits, flags = string.match(spec, '^(%d+)(%a+)$')
    count = tonumber(digits) or 0
    flags = flags or ''
    refresh = expires and string.find(flags, 'r', 1, true) ~= nil
    with_options = string.find(flags, 'o', 1, true) ~= nil
    if string.find(flags, 'j', 1, true) then
      channel_json = ARGV[at]
      at = at + 1
    end
  end

  -- This stream's live messages: the first as a string (a batch over many channels
  -- mostly brings one entry per channel); with more, the pieces of a JSON array, joined
  -- once (no string per message).
  local first = nil
  local pieces = nil
  local middle = nil
  local n = 0
  for _ = 1, count do
    local data, event = ARGV[at], ARGV[at + 1]
    at = at + 2
    local event_json = event
    local remembered = nil
    local window_ms = nil
    local reply = nil
    if with_options then
      local options = ARGV[at]
      at = at + 1
      if string.byte(options, 1) == 101 then      -- `e`
        event_json = ARGV[at]
        at = at + 1
        options = string.sub(options, 2)
      end
      if options ~= '-' and options ~= '' then
        window_ms = options
        remembered = KEYS[remembered_key]
        remembered_key = remembered_key + 1
        local seen = redis.pcall('GET', remembered)
        if type(seen) == 'table' then
          reply = '!' .. (seen.err or 'GET failed')
        elseif seen then
          reply = '=' .. seen
        end
      end
    end
    if reply == nil then
      -- The TTL is set when this XADD creates the stream (NOMKSTREAM tells: no extra
      -- command when it exists), and refreshed when the process asks (at most once per
      -- second per channel and process): not an EXPIRE on every emit.
      local id = xadd(stream, expires, data, event, channel)
      if id == false then
        id = xadd(stream, false, data, event, channel)
        refresh = expires
      end
      if type(id) == 'table' then
        reply = '!' .. (id.err or 'XADD failed')   -- e.g. WRONGTYPE: nothing written
      else
        reply = id
        if refresh then
          redis.call('EXPIRE', stream, expire_secs)
          refresh = false
        end
        -- the live message: {"data":<data>,"event":"..","channel":"..","id":"<id>"}
        if not grouped then
          redis.call(publish, stream, '{"data":' .. data .. ',"event":"' .. event_json .. '","channel":"' .. channel_json .. '","id":"' .. id .. '"}')
        elseif first == nil then
          first = '{"data":' .. data .. ',"event":"' .. event_json .. '","channel":"' .. channel_json .. '","id":"' .. id .. '"}'
        else
          if pieces == nil then
            middle = '","channel":"' .. channel_json .. '","id":"'
            pieces = {'[', first}
            n = 2
          end
          pieces[n + 1] = ',{"data":'
          pieces[n + 2] = data
          pieces[n + 3] = ',"event":"'
          pieces[n + 4] = event_json
          pieces[n + 5] = middle
          pieces[n + 6] = id
          pieces[n + 7] = '"}'
          n = n + 7
        end
        if remembered then
          redis.call('SET', remembered, id, 'PX', window_ms)
        end
      end
    end
    replies[#replies + 1] = reply
  end
  if pieces then
    pieces[n + 1] = ']'
    redis.call(publish, stream, table.concat(pieces))
  elseif first then
    redis.call(publish, stream, first)
  end
end
return replies
