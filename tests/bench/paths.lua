-- wrk script: GET a random path from a list, one path a line, e.g.
--   wrk -s paths.lua URL -- PATHS_FILE
-- Used by bench_log.sh for the tile figures, with the same list of full
-- C2SP tile paths against glasslogd and against nginx. No response()
-- hook: it would make wrk parse every body; bench_log.sh checks wrk's
-- "Non-2xx" and "Socket errors" lines instead.
local paths = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    local file = args[1] or error("usage: wrk -s paths.lua URL -- PATHS_FILE")
    for line in io.lines(file) do
        if line ~= "" then paths[#paths + 1] = line end
    end
    if #paths == 0 then error(file .. " lists no paths") end
    math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
    return wrk.format("GET", paths[math.random(#paths)])
end
