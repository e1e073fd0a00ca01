-- Audited API writes: POST /api/v1/patients/{id}/responses, a complete PHQ-9 for a patient taken
-- round-robin from a file of ids (first argument after `--`). Answers vary from request to
-- request (totals from minimal to severe) but item 9 is always 0, so no safety alert is raised:
-- this measures the response and its audit row, not the alert path.
-- Every 201 is counted as an acknowledged submission; run.sh compares that count with the rows
-- the database holds afterwards.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local report = done

-- Answers to items 1-8 (0-3 each) and the unscored difficulty item; item 9 = 0.
local answer_sets = {
  { 0, 0, 1, 0, 0, 0, 0, 0, 0 },
  { 1, 1, 1, 1, 0, 1, 0, 0, 1 },
  { 2, 1, 2, 1, 1, 1, 1, 0, 1 },
  { 2, 2, 2, 2, 1, 2, 1, 1, 2 },
  { 3, 3, 3, 2, 2, 2, 2, 1, 3 },
}

local function body(a)
  return string.format(
    '{"instrument":"phq9","context":"between_sessions","answers":{"1":%d,"2":%d,"3":%d,"4":%d,'
      .. '"5":%d,"6":%d,"7":%d,"8":%d,"9":0,"difficulty":%d}}',
    a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])
end

local threads, counter = {}, 0
function setup(thread)
  thread:set("start", counter * 97)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs, i = {}, 0
acked, other = 0, 0
function init(args)
  wrk.headers["Content-Type"] = "application/json"
  local n = 0
  for id in io.lines(args[1]) do
    n = n + 1
    reqs[n] = wrk.format("POST", "/api/v1/patients/" .. id .. "/responses", nil,
      body(answer_sets[n % #answer_sets + 1]))
  end
  i = start or 0
end

function request()
  i = i + 1
  return reqs[i % #reqs + 1]
end

function response(status)
  if status == 201 then acked = acked + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  report(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    o = o + t:get("other")
  end
  io.write(string.format("ACKED acked=%d other=%d\n", a, o))
end
