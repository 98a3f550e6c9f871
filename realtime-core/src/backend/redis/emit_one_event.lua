-- The emit of the Redis backend for the batches most emits make: entries of one event
-- that need nothing of emit.lua's general form (no idempotency key, no TTL refresh asked,
-- names JSON writes as they are, and each channel's name is its stream key less the
-- layout's fixed parts), either one entry on each of several streams or all on one
-- stream. What it does with each entry, and its reply, are emit.lua's: one atomic XADD
-- and publish per entry, one line per entry in the order sent (`<id>`, or `!<error>` with
-- nothing written).
--
-- Its arguments are only what no emit can do without (every argument costs Redis about a
-- fifth of an XADD: it parses it, makes it a string, then a Lua string in a table grown
-- one element at a time; scripts/emit-cost):
-- KEYS: the streams (each also its pub/sub channel), each once.
-- ARGV[1]: the event; then one data per entry: with one key, every entry's, in order, on
-- that stream; with more, one per stream, in the order of KEYS.
--
-- The backend writes its settings into the line marked below (as emit.lua's), and where a
-- channel's name lies in its stream key: from `name_from` to `name_to`, as string.sub
-- takes them.
local publish, max_len, trim, expire_secs, grouped, name_from, name_to = 'PUBLISH', '0', '=', '0', '1', 1, -1 -- settings
local expires = expire_secs ~= '0'
grouped = grouped == '1'
local event = ARGV[1]
local streams = #KEYS
local entries = #ARGV - 1
-- A chunk of live messages stays below this many bytes (as in emit.lua).
local CHUNK = 8000

if streams > 1 or entries == 1 then
  -- One entry on each stream.
  -- With more than one: the replies' table sized once, and what live messages share
  -- joined once.
  local replies, middle = nil, nil
  if streams > 1 then
    replies = {unpack(ARGV, 2)}
    middle = grouped and (',"event":"' .. event .. '","id":"')
  end
  for s = 1, streams do
    local stream, data = KEYS[s], ARGV[s + 1]
    local channel = string.sub(stream, name_from, name_to)
    local id
    if expires then              -- (the TTL is set if this XADD creates the stream)
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
      id = '!' .. string.gsub(id.err or 'XADD failed', '\n', ' ')   -- nothing written
    elseif middle then
      redis.call(publish, stream, '{"data":' .. data .. middle .. id .. '"}')
    elseif grouped then
      redis.call(publish, stream, '{"data":' .. data .. ',"event":"' .. event .. '","id":"' .. id .. '"}')
    else
      redis.call(publish, stream, '{"data":' .. data .. ',"event":"' .. event .. '","channel":"' .. channel .. '","id":"' .. id .. '"}')
    end
    if replies == nil then
      return id
    end
    replies[s] = id
  end
  return table.concat(replies, '\n', 1, streams)
end

-- Every entry on one stream: its live messages go out as JSON arrays (see emit.lua).
local stream = KEYS[1]
local channel = string.sub(stream, name_from, name_to)
local replies = {unpack(ARGV, 2)}
local middle = grouped and (',"event":"' .. event .. '","id":"')
  or (',"event":"' .. event .. '","channel":"' .. channel .. '","id":"')
-- Until an XADD of this call has written to the stream, whether it exists is unknown.
local exists = not expires
-- The live messages of the chunk being joined, as pieces of one JSON array:
-- `[{"data":`, data, middle, id, `"},{"data":`, data, middle, id, ... (and `"}]` when
-- it goes out).
local pieces, n, count, bytes = {'[{"data":'}, 1, 0, 0
for i = 1, entries do
  local data = ARGV[i + 1]
  local id
  local created = false
  if not exists then
    if max_len ~= '0' then
      id = redis.pcall('XADD', stream, 'NOMKSTREAM', 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
    else
      id = redis.pcall('XADD', stream, 'NOMKSTREAM', '*', 'data', data, 'event', event, 'channel', channel)
    end
  end
  if exists or id == false then
    created = not exists
    if max_len ~= '0' then
      id = redis.pcall('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
    else
      id = redis.pcall('XADD', stream, '*', 'data', data, 'event', event, 'channel', channel)
    end
  end
  if type(id) == 'table' then
    id = '!' .. string.gsub(id.err or 'XADD failed', '\n', ' ')   -- nothing written
  else
    exists = true
    if created then
      redis.call('EXPIRE', stream, expire_secs)
    end
    if not grouped then
      redis.call(publish, stream, '{"data":' .. data .. middle .. id .. '"}')
    else
      local size = #data + #middle + #id + 16
      if count > 0 and bytes + size > CHUNK then
        if count == 1 then
          pieces[1] = '{"data":'
          pieces[n + 1] = '"}'
        else
          pieces[n + 1] = '"}]'
        end
        redis.call(publish, stream, table.concat(pieces, '', 1, n + 1))
        pieces[1] = '[{"data":'
        n, count, bytes = 1, 0, 0
      end
      if count > 0 then
        n = n + 1
        pieces[n] = '"},{"data":'
      end
      pieces[n + 1] = data
      pieces[n + 2] = middle
      pieces[n + 3] = id
      n = n + 3
      count = count + 1
      bytes = bytes + size
    end
  end
  replies[i] = id
end
if count == 1 then
  pieces[1] = '{"data":'
  redis.call(publish, stream, pieces[1] .. pieces[2] .. pieces[3] .. pieces[4] .. '"}')
elseif count > 1 then
  pieces[n + 1] = '"}]'
  redis.call(publish, stream, table.concat(pieces, '', 1, n + 1))
end
return table.concat(replies, '\n', 1, entries)
