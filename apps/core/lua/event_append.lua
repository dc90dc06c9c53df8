-- The event history, shared by every script that makes an event: a script includes this
-- file with a line `--!include core/lua/event_append.lua` and calls event_append once per
-- event, in the same script (so the same round trip) as the change the event reports.
--
-- event_append(feed_key, client_prefix, feed_length, client_length, kind, data_json, clients)
--   feed_key       the operators' feed (every event), trimmed to about feed_length
--   client_prefix  event_history: (a client's own stream is client_prefix .. client_id),
--                  trimmed to about client_length
--   kind           the event type, such as 'registration.opened'
--   data_json      the event's fields, a JSON object
--   clients        a Lua list of the client ids the event belongs to (may be empty)
--
-- Every stream makes its own entry id ('*'): an id given by hand that was not above the
-- stream's last would fail the script halfway, and Redis does not roll a script back.
-- Trimming is approximate ('~'): Redis drops whole blocks of entries, which is cheap.
local function event_append(feed_key, client_prefix, feed_length, client_length, kind, data_json, clients)
  local known = {}
  for _, client_id in ipairs(clients) do
    if client_id ~= '' then table.insert(known, client_id) end
  end
  redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
    't', kind, 'c', table.concat(known, ','), 'd', data_json)
  for _, client_id in ipairs(known) do
    redis.call('XADD', client_prefix .. client_id, 'MAXLEN', '~', client_length, '*',
      't', kind, 'd', data_json)
  end
end
