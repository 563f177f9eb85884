-- wrk script for the messaging HTTP API (`cruddur serve`), used by bench/messaging/run.sh.
--
--   wrk ... -s api.lua http://127.0.0.1:PORT -- MODE GROUP_UUID TOKEN_ANDREW TOKEN_BAYKO
--       [TOKEN_LONDO TOKEN_ALTBROWN]
--
-- MODE:
--   groups    GET /api/message_groups as andrewbrown
--   messages  GET /api/messages/<group> as andrewbrown
--   post      POST /api/messages {message, message_group_uuid} as andrewbrown: a transaction
--             in the table, then the stream handler moves both participants' group rows
--   mixed     per request, at random: 70% GET /api/message_groups (as any of the four users),
--             20% GET /api/messages/<group> and 10% POST /api/messages (as andrewbrown or
--             bayko, the group's two members)
--
-- As bench/wrk/common.lua: no response callback (it would copy every body into Lua); wrk
-- counts non-2xx/3xx responses itself, and done() prints one RESULT line that run.sh parses.
-- Every POST's text is unique (thread, counter), under the API's 1024-character limit.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local mode
local group
local tokens = {}
local fixed = {}
local counter = 0
local id

local function auth(token)
  return { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
end

local function get_groups(token)
  return wrk.format("GET", "/api/message_groups", auth(token))
end

local function get_messages(token)
  return wrk.format("GET", "/api/messages/" .. group, auth(token))
end

local function post(token)
  counter = counter + 1
  local h = auth(token)
  h["Content-Type"] = "application/json"
  local body = string.format(
      '{"message":"bench message %d-%d: the quick brown fox jumps over the lazy dog",' ..
      '"message_group_uuid":"%s"}', id, counter, group)
  return wrk.format("POST", "/api/messages", h, body)
end

function init(args)
  mode = args[1]
  group = args[2]
  for i = 3, #args do
    table.insert(tokens, args[i])
  end
  id = thread_id or 1
  math.randomseed(os.time() + 7919 * id)
  if mode == "groups" then
    fixed = get_groups(tokens[1])
  elseif mode == "messages" then
    fixed = get_messages(tokens[1])
  elseif mode == "mixed" then
    -- The read requests never change, so build them once per user.
    fixed = { groups = {}, messages = {} }
    for i, t in ipairs(tokens) do
      fixed.groups[i] = get_groups(t)
      if i <= 2 then
        fixed.messages[i] = get_messages(t)
      end
    end
  elseif mode ~= "post" then
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  if mode == "groups" or mode == "messages" then
    return fixed
  elseif mode == "post" then
    return post(tokens[1])
  end
  local r = math.random(100)
  if r <= 70 then
    return fixed.groups[math.random(#fixed.groups)]
  elseif r <= 90 then
    return fixed.messages[math.random(2)]
  end
  return post(tokens[math.random(2)])
end

function done(summary, latency, _)
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d " ..
      "failed_responses=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, seconds, summary.requests / seconds, latency:percentile(50),
      latency:percentile(99), socket_errors + e.status, e.status, e.connect, e.read, e.write,
      e.timeout))
end
