-- The emit of the Redis backend: append, expire and publish in one atomic step, at most
-- once per idempotency key.
--
-- KEYS[1]  the channel's stream
-- KEYS[2]  (optional) the key remembering an idempotency key: holds the id it stored
-- ARGV     data, event, channel, pub/sub channel, the live message up to its id,
--          MAXLEN (0: none), trim operator (= or ~), EXPIRE seconds (0: none),
--          idempotency window in ms (with KEYS[2])
-- Returns  {id, 1} when the idempotency key was already used (nothing written),
--          {id, 0} otherwise.
if KEYS[2] then
  local seen = redis.call('GET', KEYS[2])
  if seen then
    return {seen, 1}
  end
end
local id
if ARGV[6] ~= '0' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[7], ARGV[6], '*', 'data', ARGV[1], 'event', ARGV[2], 'channel', ARGV[3])
else
  id = redis.call('XADD', KEYS[1], '*', 'data', ARGV[1], 'event', ARGV[2], 'channel', ARGV[3])
end
if ARGV[8] ~= '0' then
  redis.call('EXPIRE', KEYS[1], ARGV[8])
end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. id .. '"}')
if KEYS[2] then
  redis.call('SET', KEYS[2], id, 'PX', ARGV[9])
end
return {id, 0}
