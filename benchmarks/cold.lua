-- wrk script: GET /cold with the fixture's distinct tokens in turn, each
-- thread starting at its own offset.
--   wrk -s cold.lua URL/cold -- testdata/tokens.txt
local tokens = {}
local i = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  i = (offset or 0) * 997 % #tokens
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[i] })
end
