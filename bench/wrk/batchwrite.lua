-- BatchWriteItem of 25 new message items per request (the API's maximum), keys unique per
-- run tag, thread and item. A 200 whose UnprocessedItems is not empty counts as failed.
-- Arguments: table, run tag.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local ITEM = '{"PutRequest":{"Item":{' ..
    '"pk":{"S":"MSG#batch-%s-%d-%d"},' ..
    '"sk":{"S":"2025-01-01T00:00:00.%012d+00:00"},' ..
    '"message_uuid":{"S":"%08x-0000-4000-8000-%012x"},' ..
    '"user_uuid":{"S":"5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"},' ..
    '"user_display_name":{"S":"Andrew Brown"},' ..
    '"user_handle":{"S":"andrewbrown"},' ..
    '"message":{"S":"Bench message %d: the quick brown fox jumps over the lazy dog, ' ..
    'twice over."}}}}'

local BATCH = 25

common.run({
  target = "BatchWriteItem",
  body = function(ctx)
    local items = {}
    for i = 1, BATCH do
      local c = ctx.counter
      ctx.counter = c + 1
      items[i] = string.format(ITEM, ctx.tag, ctx.id, c % 64, c, ctx.id, c, c)
    end
    return '{"RequestItems":{"' .. ctx.table .. '":[' .. table.concat(items, ",") .. ']}}'
  end,
})
