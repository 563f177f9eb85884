-- Shared plumbing for the DynamoDB load scripts (loaded by getitem.lua, putitem.lua,
-- query.lua and batchwrite.lua through require).
--
-- Every request is a DynamoDB JSON 1.0 POST with X-Amz-Target, the x-amz-json-1.0 content
-- type, X-Amz-Date and a well-formed but static SigV4 Authorization header. DynamoDB Local
-- and dynalite check the header's form and credential scope, not the signature, so a
-- static signature keeps the load generator's CPU cost out of the measurement. The access
-- key id has no underscore because DynamoDB Local rejects those.
--
-- No `response` callback: with one, wrk hands every response body to Lua, and that client
-- cost (on the same 2 cores as the server) capped the fastest target's numbers. wrk itself
-- counts responses whose status is not 2xx/3xx; done() adds them to the socket errors and
-- prints one machine-readable RESULT line that bench/run.sh parses. The content of each
-- operation's answer is checked once per target by setup_table.py.

local M = {}

local ACCESS_KEY_ID = "AKIDEXAMPLE"
local SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

-- Thread handles, kept in the main Lua state so done() can read each thread's counters.
local threads = {}

local function headers(target)
  local amz_date = os.date("!%Y%m%dT%H%M%SZ")
  local scope = amz_date:sub(1, 8) .. "/us-east-1/dynamodb/aws4_request"
  return {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "DynamoDB_20120810." .. target,
    ["X-Amz-Date"] = amz_date,
    ["Authorization"] = "AWS4-HMAC-SHA256 Credential=" .. ACCESS_KEY_ID .. "/" .. scope ..
        ", SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" .. SIGNATURE,
  }
end

-- Installs wrk's callbacks for one operation.
--   spec.target     DynamoDB operation name, e.g. "GetItem".
--   spec.body(ctx)  returns the JSON body of the next request; ctx has id (thread number,
--                   1-based), tag (run tag from the script arguments), table, args and a
--                   counter the function may advance to make keys unique.
--   spec.static     if true, body() is called once per thread and the request reused.
-- Script arguments (after "--" on the wrk command line): table name, run tag, then
-- operation-specific values available as ctx.args[3...].
function M.run(spec)
  function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_id", #threads)
  end

  local ctx
  local hdrs
  local fixed

  function init(args)
    ctx = {
      id = thread_id or 1,
      table = args[1] or "bench",
      tag = args[2] or "run",
      args = args,
      counter = 0,
    }
    math.randomseed(os.time() + 7919 * ctx.id)
    hdrs = headers(spec.target)
    if spec.static then
      fixed = wrk.format("POST", "/", hdrs, spec.body(ctx))
    end
  end

  function request()
    if fixed then
      return fixed
    end
    return wrk.format("POST", "/", hdrs, spec.body(ctx))
  end

  function done(summary, latency, _)
    local e = summary.errors
    local failed = e.status
    local socket_errors = e.connect + e.read + e.write + e.timeout
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d errors=%d " ..
        "failed_responses=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, seconds, summary.requests / seconds, latency:percentile(50),
        latency:percentile(99), socket_errors + failed, failed, e.connect, e.read, e.write,
        e.timeout))
  end
end

return M
