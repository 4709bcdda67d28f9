-- witness_bench.lua: wrk script for glasslog-witness add-checkpoint.
-- args[1]: a file listing request-body files, one path a line. Each body
-- re-submits an origin's current checkpoint ("old N", no proof, the same
-- signed size-N note): always valid, so every request takes the full path
-- (signature check, decision, cosignature, durable write with fsync).
-- Non-200 answers are counted and reported.
local bodies = {}
local i = 0
errors = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1]))
  for path in f:lines() do
    local h = assert(io.open(path, "rb"))
    bodies[#bodies + 1] = h:read("*a")
    h:close()
  end
  f:close()
  math.randomseed(os.time() + #threads)
  i = math.random(#bodies)
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/add-checkpoint", nil, bodies[i])
end

function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format("non-200 answers: %d\n", e))
end
