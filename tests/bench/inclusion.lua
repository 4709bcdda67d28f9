-- wrk script: inclusion proofs of random entries against a fixed tree size:
--   wrk -s inclusion.lua URL -- TREE_SIZE
-- GET /api/v1/proof/inclusion?index=<random in [0, TREE_SIZE)>&tree_size=TREE_SIZE
-- (bench_log.sh checks wrk's "Non-2xx" line, so a refused proof fails the run).
local size = 0
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    size = tonumber(args[1] or "") or 0
    if size < 1 then error("usage: wrk -s inclusion.lua URL -- TREE_SIZE") end
    math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
    local i = math.random(0, size - 1)
    return wrk.format("GET", "/api/v1/proof/inclusion?index=" .. i .. "&tree_size=" .. size)
end
