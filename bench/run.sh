#!/usr/bin/env bash
# Kapstone's performance record: one command, bounded in time, loopback only.
#
#   bash bench/run.sh                        # 100,000 patients, SQLite then PostgreSQL, 10 s per run
#   DB=sqlite bash bench/run.sh              # one database only (or DB=postgres)
#   PATIENTS=2000 DURATION=3 bash bench/run.sh
#
# First the disk's own SQLite commit rate (the yardstick every figure is divided by), then per
# database: a demo clinic seeded, staff pages and audited API reads at 10 and 100 closed-loop
# connections, audited questionnaire submissions at 32 with a count check, one vs two server
# processes (PostgreSQL), `kapstone audit verify`. Ends with a markdown table for bench/README.md,
# also written to $BENCH_OUT. Exits 1 if a check failed.
#
# Overrides: PATIENTS, DURATION (s), DB (sqlite|postgres|both), PORT (and PORT+1), PG_BASE,
# PG_DB (made anew: dropped if it exists), IDS (patients the API runs rotate over), BENCH_OUT.
# Needs: cargo, python3, curl, psql for PostgreSQL; wrk is installed from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${PATIENTS:-100000}"
DURATION="${DURATION:-10}"
DB="${DB:-both}"
PORT="${PORT:-18090}"
PG_BASE="${PG_BASE:-postgres://postgres@127.0.0.1:5432}"
PG_DB="${PG_DB:-kapstone_bench}"
IDS="${IDS:-300}"
BENCH_OUT="${BENCH_OUT:-bench/last-run.md}"
WRITERS=32
case "$DB" in
  both) DBS="sqlite postgres" ;;
  sqlite | postgres) DBS="$DB" ;;
  *) echo "DB must be sqlite, postgres or both"; exit 1 ;;
esac

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [[ " $DBS " == *" postgres "* ]] && ! command -v psql >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client
fi
DIR="$(mktemp -d -t kapstone-bench.XXXXXX)"
PIDS=() # servers started here
WRKS=() # load generators of the current run
cleanup() {
  for p in "${WRKS[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS="$DIR/results.tsv" # db, workload key, connections, figures (see `record`)
NOTES="$DIR/notes.txt"     # lines printed under the table
FAILED=0
: >"$RESULTS"
: >"$NOTES"

# The yardstick: what this disk gives a bare SQLite in Kapstone's own settings (WAL,
# synchronous=FULL), before any server runs. A page view or an API read is one audited commit
# today, so single-row commits/s is the ceiling a one-commit-per-request design can reach;
# 50-row transactions show what grouping commits could reach.
echo "== raw SQLite commits on this disk (WAL, synchronous=FULL, 2 s each)"
read -r COMMITS ROWS < <(python3 - "$DIR" <<'PY'
import os, sqlite3, sys, time
con = sqlite3.connect(os.path.join(sys.argv[1], "probe.db"), isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=FULL")
con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
row = os.urandom(256)  # about an audit row's size
def rate(batch):
    n, start = 0, time.monotonic()
    while time.monotonic() - start < 2:
        con.execute("BEGIN")
        for _ in range(batch):
            con.execute("INSERT INTO t (v) VALUES (?)", (row,))
        con.execute("COMMIT")
        n += batch
    return n / (time.monotonic() - start)
print(round(rate(1)), round(rate(50)))
PY
)
rm -f "$DIR"/probe.db*
printf "single-row transactions: %'d commits/s\n50-row transactions:     %'d rows/s\n" "$COMMITS" "$ROWS"

cargo build --release -p kapstone
BIN=target/release/kapstone

# --- measuring one run ------------------------------------------------------------------------

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# Peak memory per run: the kernel's high-water mark, reset before the run; where the reset is
# refused, VmRSS sampled every 0.1 s instead.
peak_start() {
  local pid=$1
  if echo 5 >"/proc/$pid/clear_refs" 2>/dev/null; then return; fi
  (m=0; while kill -0 "$pid" 2>/dev/null; do
      r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      ((r > m)) && m=$r && echo "$m" >"$DIR/rss.$pid"
      sleep 0.1
    done) &
  SAMPLERS+=($!)
}
peak_kb() {
  if [ -s "$DIR/rss.$1" ]; then cat "$DIR/rss.$1"; rm -f "$DIR/rss.$1"
  else awk '/^VmHWM/ {print $2}' "/proc/$1/status"; fi
}

# load KEY LABEL CONNECTIONS SCRIPT PATH HEADER [IDS_FILE]: a closed-loop wrk run against every
# server in SERVERS ("pid:port" …), the connections split evenly between them (one wrk each, run
# at once). Prints the figures and records them for the table.
load() {
  local key=$1 label=$2 conns=$3 script=$4 path=$5 header=$6 ids=${7:-}
  local n=${#SERVERS[@]} per=$(($3 / ${#SERVERS[@]})) k pid port cpu0=0 cpu1=0 mem=0
  WRKS=()
  SAMPLERS=()
  for s in "${SERVERS[@]}"; do pid=${s%%:*}; peak_start "$pid"; cpu0=$((cpu0 + $(cpu_ticks "$pid"))); done
  for k in $(seq 0 $((n - 1))); do
    port=${SERVERS[$k]##*:}
    wrk -t"$((per < 2 ? per : 2))" -c"$per" -d"${DURATION}s" --timeout 10s -s "$script" -H "$header" \
      "http://127.0.0.1:$port$path" ${ids:+-- "$ids"} >"$DIR/wrk.$k" 2>&1 &
    WRKS+=($!)
  done
  for w in "${WRKS[@]}"; do wait "$w"; done
  WRKS=()
  for s in "${SERVERS[@]}"; do
    pid=${s%%:*}; cpu1=$((cpu1 + $(cpu_ticks "$pid"))); mem=$((mem + $(peak_kb "$pid")))
  done
  for p in "${SAMPLERS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cat "$DIR"/wrk.* | grep -E '^(BENCH|ACKED)' >"$DIR/last" || { cat "$DIR"/wrk.*; echo "wrk failed"; exit 1; }
  rm -f "$DIR"/wrk.*
  python3 - "$DIR/last" "$CUR_DB" "$key" "$label" "$conns" "$n" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" \
    "$mem" "$COMMITS" "$RESULTS" <<'PY'
import sys
last, db, key, label, conns, procs, ticks, hz, mem_kb, commits, results = sys.argv[1:]
runs = [dict(kv.split("=") for kv in l.split()[1:]) for l in open(last) if l.startswith("BENCH")]
req = sum(int(r["requests"]) for r in runs)
dur = max(int(r["duration_us"]) for r in runs) / 1e6
rps = req / dur
p50 = max(int(r["p50_us"]) for r in runs) / 1000  # worst of the processes when there are two
p99 = max(int(r["p99_us"]) for r in runs) / 1000
bad = sum(int(r["status"]) for r in runs)
sock = sum(int(r["socket"]) for r in runs)
cpu_s = int(ticks) / int(hz)
cpu = cpu_s * 1000 / max(req, 1)
cores = cpu_s / dur  # cores the server kept busy: near nproc means CPU-bound, far below means waiting
mem = int(mem_kb) / 1024
ratio = rps / int(commits)
procs_note = f", {procs} processes" if procs != "1" else ""
if req == 0:
    print(f"{label}, {conns} conn.{procs_note}: !! no request completed within the run")
    sock = max(sock, 1)
print(f"{label}, {conns} conn.{procs_note}: {rps:,.0f}/s ({ratio:.2f}× commits) · p50 {p50:.1f} ms · "
      f"p99 {p99:.1f} ms · peak {mem:.0f} MB · CPU {cpu:.2f} ms/req ({cores:.1f} cores busy) · "
      f">=400: {bad} · socket errors: {sock}")
with open(results, "a") as f:
    f.write("\t".join(map(str, [db, key, conns, f"{rps:.0f}", f"{p50:.1f}", f"{p99:.1f}", f"{mem:.0f}",
                                f"{cpu:.2f}", f"{cores:.1f}", f"{ratio:.3f}", bad, sock])) + "\n")
PY
}

wait_up() { # wait_up PID PORT SECONDS LOG: 0 when /healthz answers, 1 if the process ended or time ran out
  for _ in $(seq 1 "$3"); do
    curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || { echo "!! the server exited:"; sed 's/\x1b\[[0-9;]*m//g' "$4" | tail -20; return 1; }
    sleep 1
  done
  echo "!! the server did not answer within $3 s"; return 1
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Rows that prove a submission stored: the response itself and its audit row.
count_stored() {
  local q="SELECT (SELECT COUNT(*) FROM ${SCHEMA}questionnaire_response), (SELECT COUNT(*) FROM ${SCHEMA}audit_event WHERE action = 'response.create')"
  if [ "$CUR_DB" = sqlite ]; then
    python3 -c 'import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())' "$D/kapstone.db" "$q"
  else
    psql -At -F ' ' "$PG_BASE/$PG_DB" -c "$q"
  fi
}

# --- one database -----------------------------------------------------------------------------

bench_db() {
  CUR_DB=$1
  D="$DIR/$CUR_DB"
  mkdir -p "$D"
  if [ "$CUR_DB" = sqlite ]; then
    URL="sqlite://$D/kapstone.db"; SCHEMA=""; NAME=SQLite
  else
    PGOPTIONS='--client-min-messages=warning' psql -q "$PG_BASE/test" -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB"
    URL="$PG_BASE/$PG_DB"; SCHEMA="kapstone_demo."; NAME=PostgreSQL
  fi
  echo
  echo "== $NAME: seeding a demo clinic with $PATIENTS patients"
  local t0=$SECONDS
  "$BIN" --data-dir "$D" --database-url "$URL" demo --patients "$PATIENTS" --listen "127.0.0.1:$PORT" >"$D/demo.log" 2>&1 &
  local server=$!
  PIDS+=("$server")
  wait_up "$server" "$PORT" 3600 "$D/demo.log" || exit 1
  local seeded
  seeded=$(grep -a "demo data created" "$D/demo.log" | sed 's/\x1b\[[0-9;]*m//g; s/.*demo data created //' | head -1)
  echo "$NAME: seeded in $(grep -o 'seconds=[0-9]*\.[0-9]' <<<"$seeded" | cut -d= -f2) s, answering after $((SECONDS - t0)) s ($seeded)" | tee -a "$NOTES"
  # The demo puts PostgreSQL data in a schema of its own; every other command must name it too.
  local cli_url=$URL
  [ "$CUR_DB" = postgres ] && cli_url="$URL?options=-c%20search_path%3Dkapstone_demo"
  local password base="http://127.0.0.1:$PORT"
  password=$(grep -a "password:" "$D/demo.log" | awk '{print $2}')

  # Log in as the prescriber: fetch the login form (pre-session CSRF cookie), post it.
  local jar="$D/cookies" csrf session token
  csrf=$(curl -s -c "$jar" "$base/login" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
  curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "email=prescriber@demo.kapstone.test" --data-urlencode "password=$password" "$base/login"
  session=$(awk '$6 == "kap_session" {print $7}' "$jar")
  [ -n "$session" ] || { echo "login failed"; exit 1; }
  token=$("$BIN" --data-dir "$D" --database-url "$cli_url" token create \
    --email prescriber@demo.kapstone.test --label bench 2>>"$D/cli.log")
  local cookie="Cookie: kap_session=$session" bearer="Authorization: Bearer $token"

  # Patients for the API runs, from the API's own search (keyset pages of 100).
  python3 - "$base" "$token" "$IDS" "$D/ids" <<'PY'
import json, sys, urllib.request
base, token, want, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ids, after = [], None
while len(ids) < want:
    url = f"{base}/api/v1/patients?limit=100" + (f"&after={after}" if after else "")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    page = json.load(urllib.request.urlopen(req))
    ids += [p["id"] for p in page["items"]]
    after = page.get("next_after")
    if not after:
        break
open(out, "w").write("\n".join(ids[:want]) + "\n")
PY
  local chart
  chart=$(curl -s -H "$cookie" "$base/patients?q=rivera" | grep -o '/patients/[0-9a-f-]\{36\}' | head -1)
  # Each target answers 200 before it is loaded: a redirect to the login page would look fast.
  for p in "/" "/patients?q=rivera" "$chart"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "$base$p")" = 200 ] || { echo "GET $p is not 200"; exit 1; }
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$bearer" "$base/api/v1/patients/$(head -1 "$D/ids")")" = 200 ] \
    || { echo "API read is not 200"; exit 1; }

  SERVERS=("$server:$PORT")
  echo "== $NAME: staff pages and audited API reads (closed loop, ${DURATION}s each)"
  for c in 10 100; do
    load home 'GET / (home)' "$c" bench/report.lua / "$cookie"
    load search 'GET /patients?q=rivera (search)' "$c" bench/report.lua "/patients?q=rivera" "$cookie"
    load chart 'GET /patients/{id} (chart)' "$c" bench/report.lua "$chart" "$cookie"
    load api_read 'GET /api/v1/patients/{id}' "$c" bench/api_read.lua /api/v1/patients "$bearer" "$D/ids"
  done

  echo "== $NAME: audited PHQ-9 submissions through the API ($WRITERS connections, ${DURATION}s)"
  local before after
  before=$(count_stored)
  load submit 'POST /api/v1/patients/{id}/responses (PHQ-9)' "$WRITERS" bench/phq9_submit.lua /api/v1/patients "$bearer" "$D/ids"
  sleep 1 # requests still in flight when wrk stopped finish (or not) meanwhile
  after=$(count_stored)
  python3 - "$before" "$after" "$DIR/last" "$WRITERS" "$NAME" "$NOTES" <<'PY' || FAILED=1
import sys
before, after, last, conns, name, notes = sys.argv[1:]
b, a = [int(x) for x in before.split()], [int(x) for x in after.split()]
resp, audit = a[0] - b[0], a[1] - b[1]
f = dict(kv.split("=") for l in open(last) if l.startswith("ACKED") for kv in l.split()[1:])
acked, other = int(f["acked"]), int(f["other"])
ok = other == 0 and all(acked <= n <= acked + int(conns) for n in (resp, audit))
line = (f"{name} count check: {acked} acknowledged (201), {other} other answers; stored "
        f"{resp} responses and {audit} `response.create` audit rows "
        f"(allowed: {acked}–{acked + int(conns)}) — {'PASS' if ok else 'FAIL'}")
print(line)
open(notes, "a").write(line + "\n")
sys.exit(0 if ok else 1)
PY

  if [ "$CUR_DB" = postgres ]; then
    # A second process over the same database and data directory (same audit key), as a clinic
    # network that outgrew one process would run it behind a load balancer.
    local port2=$((PORT + 1)) second
    echo "== $NAME: two server processes (the 100 connections split 50/50)"
    "$BIN" --data-dir "$D" --database-url "$cli_url" serve --listen "127.0.0.1:$port2" >"$D/serve2.log" 2>&1 &
    second=$!
    PIDS+=("$second")
    if wait_up "$second" "$port2" 120 "$D/serve2.log"; then
      SERVERS=("$server:$PORT" "$second:$port2")
      load home_x2 'GET / (home)' 100 bench/report.lua / "$cookie"
      load api_read_x2 'GET /api/v1/patients/{id}' 100 bench/api_read.lua /api/v1/patients "$bearer" "$D/ids"
      SERVERS=("$server:$PORT")
    else
      echo "$NAME: a second \`kapstone serve\` did not start (see the output above)" | tee -a "$NOTES"
      FAILED=1
    fi
    stop "$second"
  fi
  stop "$server"

  local verify rc=0
  verify=$("$BIN" --data-dir "$D" --database-url "$cli_url" audit verify 2>&1) || rc=$?
  verify=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$verify" | grep -v '^\s*$' | tail -1)
  [ $rc = 0 ] || FAILED=1
  echo "$NAME audit verify (exit $rc): $verify" | tee -a "$NOTES"
}

for db in $DBS; do bench_db "$db"; done

# --- the table --------------------------------------------------------------------------------

MACHINE="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
mkdir -p "$(dirname "$BENCH_OUT")"
python3 - "$RESULTS" "$NOTES" "$(date -u +%F)" "$MACHINE" "$COMMITS" "$ROWS" "$PATIENTS" "$DURATION" >"$BENCH_OUT" <<'PY'
import sys
results, notes, date, machine, commits, rows, patients, duration = sys.argv[1:]
runs = {}
for l in open(results):
    db, key, conns, rps, p50, p99, mem, cpu, cores, ratio, bad, sock = l.rstrip("\n").split("\t")
    runs[(db, key, conns)] = (int(rps), p50, p99, mem, cpu, cores, float(ratio), int(bad) + int(sock))
dbs = [d for d in ("sqlite", "postgres") if any(k[0] == d for k in runs)]
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
rows_ = [("home", "10", "`GET /` (home)"), ("search", "10", "`GET /patients?q=rivera` (search)"),
         ("chart", "10", "`GET /patients/{id}` (chart)"), ("api_read", "10", "API read `GET /api/v1/patients/{id}`"),
         ("home", "100", "`GET /` (home)"), ("search", "100", "`GET /patients?q=rivera` (search)"),
         ("chart", "100", "`GET /patients/{id}` (chart)"), ("api_read", "100", "API read `GET /api/v1/patients/{id}`"),
         ("home_x2", "100", "`GET /` (home), **two processes**"),
         ("api_read_x2", "100", "API read, **two processes**"),
         ("submit", "32", "API write: PHQ-9 submission")]
print(f"## {date}, {int(patients):,} patients ({machine}, release build, {duration} s per run)\n")
print(f"Disk's raw SQLite rate (WAL, `synchronous=FULL`): **{int(commits):,} single-row commits/s**, "
      f"{int(rows):,} rows/s in 50-row transactions. Ratio (×) = requests/s ÷ single-row commits/s.\n")
head = "| workload | conn. | " + " | ".join(f"{names[d]} | ×" for d in dbs) + " |"
print(head)
print("|---|---|" + "---|---|" * len(dbs))
for key, conns, label in rows_:
    if not any((d, key, conns) in runs for d in dbs):
        continue
    cells = []
    for d in dbs:
        r = runs.get((d, key, conns))
        if r is None:
            cells += ["—", "—"]
            continue
        rps, p50, p99, mem, cpu, cores, ratio, errors = r
        err = f" · **{errors} errors**" if errors else ""
        cells += [f"{rps:,}/s · p50 {p50} ms · p99 {p99} ms · {mem} MB · {cpu} ms CPU/req ({cores} cores){err}",
                  f"{ratio:.2f}"]
    print(f"| {label} | {conns} | " + " | ".join(cells) + " |")
print("\nMemory: the server's peak resident set during the run (both processes' summed for two). "
      "CPU: the server's user + system time per request, and the cores it kept busy (near the "
      "machine's count: CPU-bound; far below: waiting on a lock or an fsync). Two processes: two wrk "
      "at once, req/s summed, the worse p50/p99 of the two.\n")
for l in open(notes):
    print(f"- {l.rstrip()}")
PY
echo
echo "== table (also in $BENCH_OUT)"
cat "$BENCH_OUT"
exit "$FAILED"
