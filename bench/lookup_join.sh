#!/usr/bin/env bash
# bench/lookup_join.sh [events] [root]: the cost of a lookup join.  Loads
# EVENTS (default 1M) clicks in transactions of 10,000 into a stream whose
# view counts them per country of their user, joined from a 100,000-row
# users table that an updater changes 100 times a second throughout; then
# the same load with the same updater into a stream whose view counts per
# a column of the click itself (the same view without the join).  Each run
# is timed from the first insert until the view is exact (wait_caught_up);
# prints both rates and the ratio join / no join (1.0: the join costs
# nothing).  Installs the working tree into a private PostgreSQL under ROOT
# (default /tmp/streamext-bench-join), never into the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

EVENTS=${1:-1000000}
ROOT=${2:-/tmp/streamext-bench-join}
BATCH=10000
dir=/tmp/streamext-bench-join-data
port=${PORT:-59661}
install_private "$ROOT"
start_cluster "$dir" "$port" "max_wal_size = '8GB'" "checkpoint_timeout = '30min'"
trap 'stop_cluster "$dir"' EXIT
ms() { date +%s%3N; }

# run NAME QUERY: seconds from the first insert until the view is exact
run() {
  local name=$1 query=$2 db=join_$1
  local q="command psql -X -q -At -h $dir -p $port -U postgres -d $db"
  command psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
  $q >/dev/null <<SQL
CREATE EXTENSION streamext;
CREATE TABLE users (id int PRIMARY KEY, country text NOT NULL, tier int NOT NULL);
INSERT INTO users SELECT i, 'c' || (i % 50), i % 3 FROM generate_series(1, 100000) i;
CREATE TABLE clicks (user_id int NOT NULL, url text NOT NULL, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('clicks', time_column => 'ts');
SELECT streamext.create_view('v', \$q\$ $query \$q\$, "window" => 'tumbling 1 minute');
SELECT streamext.wait_caught_up('60s');
SQL
  local upd
  upd=$(mktemp)
  echo "UPDATE users SET country = 'c' || (random() * 60)::int WHERE id = 1 + (random() * 99999)::int;" >"$upd"
  chmod a+r "$upd"
  runuser -u postgres -- pgbench -n -c 1 -R 100 -T 3600 -f "$upd" -h "$dir" -p "$port" "$db" >/dev/null 2>&1 &
  local updater=$!
  sleep 1
  local t0 t1 i
  t0=$(ms)
  for ((i = 0; i < EVENTS; i += BATCH)); do
    echo "INSERT INTO clicks (user_id, url) SELECT 1 + (s::bigint * 7919) % 100000, '/p' || (s % 97)
            FROM generate_series($i, $((i + BATCH - 1))) s;"
  done | $q -v ON_ERROR_STOP=1 >/dev/null
  $q -c "SELECT streamext.wait_caught_up('600s')" >/dev/null
  t1=$(ms)
  kill "$updater" 2>/dev/null || true
  wait "$updater" 2>/dev/null || true
  rm -f "$upd"
  local n
  n=$($q -c "SELECT sum(n) FROM v")
  [ "$n" = "$EVENTS" ] || { echo "view $name counted $n events of $EVENTS" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}

plain=$(run nojoin "SELECT url AS country, count(*) AS n FROM clicks GROUP BY url")
joined=$(run join "SELECT u.country, count(*) AS n FROM clicks c JOIN users u ON u.id = c.user_id GROUP BY u.country")
printf 'events %d, users 100000 updated 100/s\n' "$EVENTS"
printf 'without join %6.2f s (%8.0f events/s)\n' "$(echo "$plain / 1000" | bc -l)" "$(echo "$EVENTS * 1000 / $plain" | bc -l)"
printf 'with join    %6.2f s (%8.0f events/s)\n' "$(echo "$joined / 1000" | bc -l)" "$(echo "$EVENTS * 1000 / $joined" | bc -l)"
printf 'ratio join / no join %.2f\n' "$(echo "$plain / $joined" | bc -l)"
