-- wrk script: each request carries the next token of TOKENS_FILE (one per line; lines
-- "expired <t>" and "forged <t>" are bad tokens). MIX=valid sends only valid tokens, MIX=bad
-- only the bad ones, MIX=all every line in turn. Counts responses by status and prints them at the end.
local file = os.getenv("TOKENS_FILE") or "tokens.txt"
local mix = os.getenv("MIX") or "valid"
local tokens = {}
for line in io.lines(file) do
  local kind, token = line:match("^(%a+) (.+)$")
  if kind == nil then
    if mix ~= "bad" then table.insert(tokens, line) end
  elseif mix ~= "valid" then
    table.insert(tokens, token)
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local i = 0
counts = {}
function request()
  i = i + 1
  local token = tokens[(i % #tokens) + 1]
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d\n", status, n))
  end
  io.write(string.format("tokens in rotation: %d\n", #tokens))
end
