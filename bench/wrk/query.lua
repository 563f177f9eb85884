-- Query like the seed's list_messages: the newest 20 messages of one 50-item partition
-- (setup_table.py loads pk "MSG#bench-group" with sks starting "2025-"). Arguments: table,
-- run tag.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local FORMAT = '{"TableName":"%s",' ..
    '"KeyConditionExpression":"pk = :pk AND begins_with(sk,:year)",' ..
    '"ScanIndexForward":false,"Limit":20,' ..
    '"ExpressionAttributeValues":{":year":{"S":"2025"},":pk":{"S":"MSG#bench-group"}}}'

common.run({
  target = "Query",
  static = true,
  body = function(ctx)
    return string.format(FORMAT, ctx.table)
  end,
})
