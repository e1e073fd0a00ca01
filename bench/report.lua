-- One machine-readable line per wrk run, so run.sh need not parse wrk's human summary.
-- Used directly for the staff pages (-s bench/report.lua) and loaded by the other scripts.
-- Latencies are in microseconds; "status" counts responses of 400 and above, "socket" counts
-- connect/read/write errors and timeouts (a timed-out request has no latency sample).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d socket=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
