#!/usr/bin/env bash
# Starts a fresh Kapstone server for the Playwright suite (used as webServer).
#   KAPSTONE_BIN       binary to test (default ../target/debug/kapstone, relative to e2e/)
#   KAPSTONE_E2E_DB    sqlite (default) | postgres
#   KAPSTONE_E2E_PORT  port to listen on (default 18080)
set -euo pipefail
cd "$(dirname "$0")"

BIN="${KAPSTONE_BIN:-../target/debug/kapstone}"
DB="${KAPSTONE_E2E_DB:-sqlite}"
PORT="${KAPSTONE_E2E_PORT:-18080}"
PASSWORD='correct horse battery staple'

if [ ! -x "$BIN" ]; then
  echo "start-server.sh: no executable at $BIN (build it with: cargo build -p kapstone)" >&2
  exit 1
fi

DIR="$(mktemp -d -t kapstone-e2e.XXXXXX)"
echo "start-server.sh: data dir $DIR, database $DB, port $PORT" >&2

case "$DB" in
  sqlite)
    URL="sqlite://$DIR/kapstone.db"
    ;;
  postgres)
    psql -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -U postgres -d test \
      -c 'DROP DATABASE IF EXISTS kapstone_e2e WITH (FORCE)' \
      -c 'CREATE DATABASE kapstone_e2e'
    URL="postgres://postgres@127.0.0.1:5432/kapstone_e2e"
    ;;
  *)
    echo "start-server.sh: KAPSTONE_E2E_DB must be sqlite or postgres, not '$DB'" >&2
    exit 1
    ;;
esac

kap() { "$BIN" --data-dir "$DIR" --database-url "$URL" "$@"; }

kap migrate

add_user() { # email role name
  printf '%s' "$PASSWORD" | kap user add --email "$1" --role "$2" --name "$3"
}
add_user admin@e2e.test       admin       'Ada Admin'
add_user coordinator@e2e.test coordinator 'Cora Coordinator'
add_user therapist@e2e.test   therapist   'Theo Therapist'
add_user prescriber@e2e.test  prescriber  'Priya Prescriber'
add_user twofactor@e2e.test   nurse       'Tess Twofactor'
add_user nurse@e2e.test       nurse       'Nina Nurse'

exec "$BIN" --data-dir "$DIR" --database-url "$URL" serve --listen "127.0.0.1:$PORT"
