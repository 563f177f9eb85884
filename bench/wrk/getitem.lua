-- GetItem of items that exist: setup_table.py loads pk "USER#<i>", sk "PROFILE" for
-- i in [0, N); each request reads a random one. Arguments: table, run tag, N (default 1000).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local FORMAT = '{"TableName":"%s","Key":{"pk":{"S":"USER#%d"},"sk":{"S":"PROFILE"}}}'

common.run({
  target = "GetItem",
  body = function(ctx)
    local n = tonumber(ctx.args[3]) or 1000
    return string.format(FORMAT, ctx.table, math.random(0, n - 1))
  end,
})
