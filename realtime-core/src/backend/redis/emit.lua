-- The emit of the Redis backend: appends a batch of entries (one emit, or several that
-- were waiting together: group commit), each in one atomic step with its publish, at most
-- once per idempotency key. Each entry succeeds or fails on its own; the reply is one
-- string, a line per entry, in the order sent: `<id>` when stored, `=<id>` when its
-- idempotency key was already used for the same event and data (nothing written, the id is
-- the first emit's), `#<id>` when it was used for another event or data (nothing written,
-- refused), `!<error>` when it failed (nothing written). A key's value is `<id> <digest>`,
-- the digest the SHA-1 of `<event> <data>` (a bare `<id>`, written before digests were
-- kept, is taken as the same). (Redis converts a table reply element by element, checking
-- each for error and status fields: per call and per entry that cost more than joining the
-- lines here.) Nothing here raises (writes that can fail go through pcall), so an entry
-- that fails cannot undo or hide the ones before it.
--
-- The arguments are grouped by stream, so that what a stream's entries share is sent once
-- (Redis turns every argument into a string of its own: on a hot channel that, not the
-- XADD, was most of the cost):
--
-- The backend's settings are not arguments: it writes them into the line marked below
-- when it connects (one script per configuration; five arguments fewer for Redis to
-- convert on every call).
-- ARGV[1..2]: the number of streams, and how many of them come first as lone streams:
-- one entry, nothing to escape, no idempotency key, no TTL refresh asked (a batch over
-- many channels is mostly these). Per lone stream:
--   channel name, data, event
-- Then per other stream:
--   channel name, spec, [the channel's JSON text, when spec has `j`]
--   then <count> entries: data, event, [options, when spec has `o`], [the event's JSON
--   text, when options has `e`]
-- or, when its entries all carry one event and need nothing else:
--   channel name, -<count>, event, then <count> entries: data
-- spec: `<count>`, followed by any of `r` (refresh the stream's TTL), `o` (the entries
-- carry options), `j` (JSON must escape the channel's name; its JSON text follows).
-- options: `-` nothing, `e` (JSON must escape the event's name; its JSON text follows),
-- `<ms>` / `e<ms>`: an idempotency key (the next of KEYS after the streams) remembered
-- for <ms>.
-- KEYS: the streams (each also its pub/sub channel), in order; then the idempotency keys
-- of the entries that have one, in order.
--
-- What costs Redis here (instruction counts: scripts/emit-cost): every string Lua makes
-- is hashed byte by byte, so a live message is built as one string, never through
-- intermediate ones (a hot channel's messages go out in chunks below Lua's 8 KiB
-- concatenation buffer); and every redis.call converts each argument, so each XADD
-- passes only what it needs.
-- publish: 'PUBLISH', or 'SPUBLISH' on a cluster (sharded pub/sub); max_len: '0' for no
-- MAXLEN; trim: '=' or '~'; expire_secs: '0' when streams never expire; grouped: '1' (our
-- servers): a channel's live messages of this call go out as JSON arrays in stream order
-- (one publish per channel and chunk, not per entry), each message
-- `{"data":..,"event":"..","id":".."}` (the subscriber knows the channel it heard); '0':
-- one publish per entry, `{"data":..,"event":"..","channel":"..","id":".."}`, as the
-- reference reads them.
local publish, max_len, trim, expire_secs, grouped = 'PUBLISH', '0', '=', '0', '1' -- settings
local expires = expire_secs ~= '0'
grouped = grouped == '1'
-- (`+ 0`, not tonumber: one conversion, not two)
local streams = ARGV[1] + 0
-- A chunk of live messages stays below this many bytes: table.concat then makes one
-- string (past Lua's 8 KiB buffer it makes, and hashes, intermediate ones).
local CHUNK = 8000

local replies = {}
-- A failed write's line (never more than one line).
local function failure(err, what)
  return '!' .. (string.gsub(err or what, '\n', ' '))
end
local replied = 0
local lone = ARGV[2] + 0
local at = 3                     -- the next argument to read
local remembered_key = streams + 1

-- The lone streams: the general loop below, without what they do not need (its per
-- stream and per entry bookkeeping cost Redis more than the XADD's arguments).
local lone_middle = grouped and '","id":"' or nil
for s = 1, lone do
  local stream, channel, data, event = KEYS[s], ARGV[at], ARGV[at + 1], ARGV[at + 2]
  at = at + 3
  local id
  if expires then                -- (the TTL is set if this XADD creates the stream)
    if max_len ~= '0' then
      id = redis.pcall('XADD', stream, 'NOMKSTREAM', 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
    else
      id = redis.pcall('XADD', stream, 'NOMKSTREAM', '*', 'data', data, 'event', event, 'channel', channel)
    end
  end
  if id == nil or id == false then
    if max_len ~= '0' then
      id = redis.pcall('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
    else
      id = redis.pcall('XADD', stream, '*', 'data', data, 'event', event, 'channel', channel)
    end
    if expires and type(id) ~= 'table' then
      redis.call('EXPIRE', stream, expire_secs)
    end
  end
  if type(id) == 'table' then
    id = failure(id.err, 'XADD failed')
  else
    redis.call(publish, stream, '{"data":' .. data .. ',"event":"' .. event .. (lone_middle or ('","channel":"' .. channel .. '","id":"')) .. id .. '"}')
  end
  replied = replied + 1
  replies[replied] = id
end
-- The other streams.
for s = lone + 1, streams do
  local stream = KEYS[s]
  local channel = ARGV[at]
  local spec = ARGV[at + 1]
  at = at + 2
  local count = tonumber(spec)
  local refresh = false
  local with_options = false
  local channel_json = channel
  local one_event = nil          -- the event of every entry, sent once
  if count and count < 0 then
    count = -count
    one_event = ARGV[at]
    at = at + 1
  elseif count == nil then
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
  -- Until an XADD of this call has written to the stream, whether it exists is unknown:
  -- the TTL is set when an XADD creates the stream (NOMKSTREAM tells, no extra command
  -- when it exists), not by an EXPIRE on every emit.
  local exists = not expires
  -- The part of a live message between the event and the id.
  local middle = grouped and '","id":"' or ('","channel":"' .. channel_json .. '","id":"')
  -- This stream's live messages: the first of a chunk as a string (a batch over many
  -- channels mostly brings one entry per channel); with more, the pieces of a JSON array,
  -- joined once per chunk.
  local first, pieces, n, bytes = nil, nil, 0, 0
  for _ = 1, count do
    local data, event = ARGV[at], one_event
    if event then
      at = at + 1
    else
      event = ARGV[at + 1]
      at = at + 2
    end
    local event_json = event
    local remembered, window_ms, digest, reply = nil, nil, nil, nil
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
        digest = redis.sha1hex(event .. ' ' .. data)
        local seen = redis.pcall('GET', remembered)
        if type(seen) == 'table' then
          reply = failure(seen.err, 'GET failed')
        elseif seen then
          local seen_id, seen_digest = string.match(seen, '^(%S+) (%x+)$')
          if seen_digest == nil then
            reply = '=' .. seen
          elseif seen_digest == digest then
            reply = '=' .. seen_id
          else
            reply = '#' .. seen_id
          end
        end
      end
    end
    if reply == nil then
      -- (the four forms of XADD written out: a Lua function call per entry costs more
      -- than the lines it saves)
      local id
      if not exists then
        if max_len ~= '0' then
          id = redis.pcall('XADD', stream, 'NOMKSTREAM', 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
        else
          id = redis.pcall('XADD', stream, 'NOMKSTREAM', '*', 'data', data, 'event', event, 'channel', channel)
        end
      end
      if exists or id == false then
        refresh = refresh or not exists
        if max_len ~= '0' then
          id = redis.pcall('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
        else
          id = redis.pcall('XADD', stream, '*', 'data', data, 'event', event, 'channel', channel)
        end
      end
      if type(id) == 'table' then
        reply = failure(id.err, 'XADD failed')   -- e.g. WRONGTYPE: nothing written
      else
        exists = true
        reply = id
        if refresh then
          redis.call('EXPIRE', stream, expire_secs)
          refresh = false
        end
        if not grouped then
          redis.call(publish, stream, '{"data":' .. data .. ',"event":"' .. event_json .. middle .. id .. '"}')
        elseif first == nil then
          first = '{"data":' .. data .. ',"event":"' .. event_json .. middle .. id .. '"}'
          bytes = #first
        else
          local size = #data + #event_json + #id + 32
          if bytes + size > CHUNK then
            if pieces then
              pieces[n + 1] = ']'
              redis.call(publish, stream, table.concat(pieces, '', 1, n + 1))
              pieces = nil
            else
              redis.call(publish, stream, first)
            end
            first = '{"data":' .. data .. ',"event":"' .. event_json .. middle .. id .. '"}'
            bytes = #first
          else
            if pieces == nil then
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
            bytes = bytes + size
          end
        end
        if remembered then
          redis.call('SET', remembered, id .. ' ' .. digest, 'PX', window_ms)
        end
      end
    end
    replied = replied + 1
    replies[replied] = reply
  end
  if pieces then
    pieces[n + 1] = ']'
    redis.call(publish, stream, table.concat(pieces, '', 1, n + 1))
  elseif first then
    redis.call(publish, stream, first)
  end
end
if replied == 1 then
  return replies[1]
end
return table.concat(replies, '\n', 1, replied)
