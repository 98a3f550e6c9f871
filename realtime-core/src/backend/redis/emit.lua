-- The emit of the Redis backend: append, expire and publish in one atomic step, at most
-- once per idempotency key. Returns {id, 1} when the idempotency key was already used
-- (nothing written), {id, 0} otherwise.
local stream = KEYS[1]
-- (optional) remembers an idempotency key: holds the id it stored
local remembered = KEYS[2]

local data = ARGV[1]
local event = ARGV[2]
local channel = ARGV[3]
local pubsub_channel = ARGV[4]
-- the live message up to its id: `{"data":..,"event":..,"channel":..,"id":"`
local message_head = ARGV[5]
local max_len = ARGV[6]          -- '0': no MAXLEN
local trim = ARGV[7]             -- '=' or '~'
local expire_secs = ARGV[8]      -- '0': no EXPIRE
local window_ms = ARGV[9]        -- how long `remembered` lives
local publish = ARGV[10]         -- 'PUBLISH', or 'SPUBLISH' on a cluster (sharded pub/sub)

if remembered then
  local seen = redis.call('GET', remembered)
  if seen then
    return {seen, 1}
  end
end
local id
if max_len ~= '0' then
  id = redis.call('XADD', stream, 'MAXLEN', trim, max_len, '*', 'data', data, 'event', event, 'channel', channel)
else
  id = redis.call('XADD', stream, '*', 'data', data, 'event', event, 'channel', channel)
end
if expire_secs ~= '0' then
  redis.call('EXPIRE', stream, expire_secs)
end
redis.call(publish, pubsub_channel, message_head .. id .. '"}')
if remembered then
  redis.call('SET', remembered, id, 'PX', window_ms)
end
return {id, 0}
