-- PutItem of a new message item per request, shaped like the seed's create_message rows
-- (pk "MSG#<group>", sk a timestamp, message/user attributes). Keys are unique per run tag,
-- thread and request, so no request overwrites another's item. Arguments: table, run tag.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local FORMAT = '{"TableName":"%s","Item":{' ..
    '"pk":{"S":"MSG#put-%s-%d-%d"},' ..
    '"sk":{"S":"2025-01-01T00:00:00.%012d+00:00"},' ..
    '"message_uuid":{"S":"%08x-0000-4000-8000-%012x"},' ..
    '"user_uuid":{"S":"5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"},' ..
    '"user_display_name":{"S":"Andrew Brown"},' ..
    '"user_handle":{"S":"andrewbrown"},' ..
    '"message":{"S":"Bench message %d: the quick brown fox jumps over the lazy dog, ' ..
    'twice over."}}}'

common.run({
  target = "PutItem",
  body = function(ctx)
    local c = ctx.counter
    ctx.counter = c + 1
    return string.format(FORMAT, ctx.table, ctx.tag, ctx.id, c % 64, c, ctx.id, c, c)
  end,
})
