-- wrk script for the lkauth gate benchmarks (gate_*.sh): each request carries the next token
-- of TOKENS_FILE (gate_tokens write: one valid token per line, then lines
-- "revoked|expired|forged <token>") as `Authorization: Bearer`. MIX=valid sends only the valid
-- ones, MIX=bad only the others, MIX=all every line in turn. With ORIGINAL set, each request
-- also names the original request the way nginx's auth_request does (`X-Original-URI:
-- $ORIGINAL`, `X-Original-Method: GET`): for wrk against the gate's own /auth. Counts the
-- answers by status and prints them at the end.
local file = os.getenv("TOKENS_FILE") or "tokens.txt"
local mix = os.getenv("MIX") or "valid"
local original = os.getenv("ORIGINAL")
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

-- Every request is formatted once, at the start, so that wrk spends its CPU sending them.
local requests = {}
function init(args)
  for _, token in ipairs(tokens) do
    local headers = { ["Authorization"] = "Bearer " .. token }
    if original then
      headers["X-Original-URI"] = original
      headers["X-Original-Method"] = "GET"
    end
    table.insert(requests, wrk.format("GET", nil, headers))
  end
end

local i = 0
counts = {}
function request()
  i = i + 1
  return requests[(i % #requests) + 1]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d\n", status, n))
  end
  io.write(string.format("tokens in rotation: %d\n", #tokens))
end
