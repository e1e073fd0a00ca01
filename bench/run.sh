#!/usr/bin/env bash
# Kapstone benchmarks you can run: demo-clinic generation rate, and staff page latency under
# load on loopback (design §10 budgets). Bounded: each load run lasts DURATION seconds.
#
#   bash bench/run.sh                  # 100,000 patients, SQLite, 10 then 100 connections, 10 s per page
#   PATIENTS=10000 DURATION=5 bash bench/run.sh
#   DB=postgres bash bench/run.sh      # the same on PostgreSQL (database kapstone_bench, made anew)
#
# Needs: the release build (made here), wrk (installed from Debian if missing), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${PATIENTS:-100000}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-10 100}"
PORT="${PORT:-18090}"
DB="${DB:-sqlite}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release -p kapstone
BIN=target/release/kapstone
DIR="$(mktemp -d -t kapstone-bench.XXXXXX)"
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT

# The machine's own limit for audited page views: each is a durable commit (an fsync).
echo "== raw durable commits on this disk (write + fsync, 2 s)"
python3 - "$DIR" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync.probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
n, start = 0, time.monotonic()
while time.monotonic() - start < 2:
    os.pwrite(fd, b"x" * 4096, 0)
    os.fsync(fd)
    n += 1
os.close(fd)
os.unlink(path)
print(f"{n / (time.monotonic() - start):,.0f} fsyncs/s")
PY

case "$DB" in
  sqlite) URL="sqlite://$DIR/kapstone.db" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 \
      -c 'DROP DATABASE IF EXISTS kapstone_bench WITH (FORCE)' -c 'CREATE DATABASE kapstone_bench'
    URL="postgres://postgres@127.0.0.1:5432/kapstone_bench" ;;
  *) echo "DB must be sqlite or postgres"; exit 1 ;;
esac

echo "== seeding a demo clinic with $PATIENTS patients ($DB)"
"$BIN" --data-dir "$DIR" --database-url "$URL" demo --patients "$PATIENTS" --listen "127.0.0.1:$PORT" > "$DIR/demo.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 1
done
grep -a "demo data created" "$DIR/demo.log" | sed 's/\x1b\[[0-9;]*m//g'
PASSWORD=$(grep -a "password:" "$DIR/demo.log" | awk '{print $2}')

# Log in as the prescriber: fetch the login form (pre-session CSRF cookie), post it.
JAR="$DIR/cookies"
TOKEN=$(curl -s -c "$JAR" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf_token" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
curl -s -b "$JAR" -c "$JAR" -o /dev/null \
  --data-urlencode "csrf_token=$TOKEN" --data-urlencode "email=prescriber@demo.kapstone.test" \
  --data-urlencode "password=$PASSWORD" "http://127.0.0.1:$PORT/login"
SESSION=$(awk '$6 == "kap_session" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "login failed"; exit 1; }
PATIENT=$(curl -s -b "kap_session=$SESSION" "http://127.0.0.1:$PORT/patients?q=rivera" | grep -o '/patients/[0-9a-f-]\{36\}' | head -1)

# Searches as people type them: a whole name word, an accent left off ("zoe" finds "Zoë"),
# two words in any order, and part of a word.
for c in $CONNECTIONS; do
  for page in "/" "/patients?q=rivera" "/patients?q=zoe" "/patients?q=chen+aisha" "/patients?q=ivera" "$PATIENT"; do
    echo "== GET $page — $c connections, ${DURATION}s"
    wrk -t2 -c"$c" -d"${DURATION}s" --latency -H "Cookie: kap_session=$SESSION" \
      "http://127.0.0.1:$PORT$page" | grep -E "50%|99%|Requests/sec|Non-2xx"
  done
done
