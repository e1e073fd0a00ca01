-- Audited API reads: GET /api/v1/patients/{id}, the id taken round-robin from a file of patient
-- ids (one per line, the first argument after `--`), so reads spread over many patients rather
-- than one hot row. The bearer token comes from wrk's -H.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

local counter = 0
function setup(thread)
  -- Each thread starts at its own place in the list.
  thread:set("start", counter * 97)
  counter = counter + 1
end

local reqs, i = {}, 0
function init(args)
  for id in io.lines(args[1]) do
    reqs[#reqs + 1] = wrk.format("GET", "/api/v1/patients/" .. id)
  end
  i = start or 0
end

function request()
  i = i + 1
  return reqs[i % #reqs + 1]
end
