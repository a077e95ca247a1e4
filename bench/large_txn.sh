#!/usr/bin/env bash
# bench/large_txn.sh [rows] [root]: one large transaction, aggregated while
# it is written.  Times one INSERT ... SELECT of ROWS rows (default 1M) into
# a plain table, then the same into a stream with three views until the
# views are exact (wait_caught_up), and prints the ratio plain / views
# (1.0: the views are exact as soon as a plain table would have its rows),
# in ROUNDS rounds (default 3), each in a fresh database, and the medians.
# Two loads: the click stream of the tests (tumbling, running, total) and
# Nexmark bids through q5 (hopping), q7 (tumbling) and q11 (session).
# Installs the working tree into a private PostgreSQL under ROOT (default
# /tmp/streamext-bench-large), never into the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ROWS=${1:-1000000}
ROUNDS=${ROUNDS:-3}
ROOT=${2:-/tmp/streamext-bench-large}
dir=/tmp/streamext-bench-large-data
port=${PORT:-59660}
install_private "$ROOT"
start_cluster "$dir" "$port" "max_wal_size = '8GB'" "checkpoint_timeout = '30min'"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres -d "$DB" "$@"; }
ms() { date +%s%3N; }

CLICKS_DDL="(id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int, ts timestamptz NOT NULL)"
CLICKS_INSERT="(url, user_id, ms, ts) SELECT '/p' || (i % 97), i % 5000, i % 700,
  '2026-01-01 00:00:00+00'::timestamptz + (i % 3600) * interval '1 second' FROM generate_series(1, $ROWS) i"
BIDS_DDL="(auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text NOT NULL,
  url text NOT NULL, date_time timestamptz NOT NULL)"
BIDS_INSERT="SELECT CASE WHEN s % 10 < 8 THEN 1000 + (s * 7) % 100 ELSE 1000 + (s * 7919) % 10000 END,
  CASE WHEN s % 10 < 5 THEN 2000 + (s * 13) % 500 ELSE 2000 + (s * 104729) % 50000 END,
  100 + (s * 31) % 1000000, (ARRAY['Google', 'Facebook', 'Baidu', 'Apple'])[1 + s % 4],
  'https://www.nexmark.com/item.htm?query=1&channel_id=' || (s % 1000),
  '2026-01-01 00:00:00+00'::timestamptz + (s / 1000) * interval '10 milliseconds'
  FROM generate_series(1::bigint, $ROWS) s"

# run_round NAME ROUND DDL INSERT VIEWS...: in a database of its own, the
# plain insert, then the stream's until its views are exact; prints the
# times and leaves "ratio after_commit" in $ROUND_RESULT
run_round() {
  local name=$1 round=$2 ddl=$3 insert=$4
  shift 4
  DB=large_${name}_$round
  command psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
  psql -c "CREATE TABLE plain $ddl" -c "CREATE TABLE s $ddl" -c "CREATE EXTENSION streamext" >/dev/null
  psql -c "SELECT streamext.create_stream('s', time_column => '$TIMECOL')" >/dev/null
  local i=0
  for v in "$@"; do
    psql -c "SELECT streamext.create_view('v$i', \$\$ ${v%%|*} \$\$, \"window\" => ${v#*|})" >/dev/null
    i=$((i + 1))
  done
  psql -c "SELECT streamext.wait_caught_up('60s')" -c "CHECKPOINT" >/dev/null
  local t0 t1 t2 t2c t3
  t0=$(ms); psql -c "INSERT INTO plain $insert" >/dev/null; t1=$(ms)
  psql -c "CHECKPOINT" >/dev/null
  t2=$(ms); psql -c "INSERT INTO s $insert" >/dev/null; t2c=$(ms)
  psql -c "SELECT streamext.wait_caught_up('600s')" >/dev/null; t3=$(ms)
  local streamed
  streamed=$(psql -c "SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots WHERE slot_name LIKE 'streamext_%'")
  printf '%-8s round %d  rows %8d  plain %6.2f s  stream insert %6.2f s  views exact after %6.2f s (%5.2f s after its commit)  ratio %.2f  (streamed transactions: %s)\n' \
    "$name" "$round" "$ROWS" "$(echo "($t1 - $t0) / 1000" | bc -l)" "$(echo "($t2c - $t2) / 1000" | bc -l)" \
    "$(echo "($t3 - $t2) / 1000" | bc -l)" "$(echo "($t3 - $t2c) / 1000" | bc -l)" \
    "$(echo "($t1 - $t0) / ($t3 - $t2)" | bc -l)" "$streamed"
  ROUND_RESULT="$(echo "($t1 - $t0) / ($t3 - $t2)" | bc -l) $(echo "($t3 - $t2c) / 1000" | bc -l)"
  command psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "DROP DATABASE $DB" >/dev/null
}

# run NAME DDL INSERT VIEWS...: ROUNDS rounds (the machine's noise moves a
# single plain insert by a third), then the medians
run() {
  local name=$1 r ratios=() afters=()
  for r in $(seq 1 "$ROUNDS"); do
    run_round "$name" "$r" "${@:2}"
    ratios+=("${ROUND_RESULT% *}")
    afters+=("${ROUND_RESULT#* }")
  done
  printf '%-8s median of %d rounds: ratio %.2f, views exact %.2f s after the commit\n' "$name" "$ROUNDS" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
    "$(printf '%s\n' "${afters[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

TIMECOL=ts run clicks "$CLICKS_DDL" "$CLICKS_INSERT" \
  "SELECT url, count(*) AS hits, sum(ms) AS total, avg(ms) AS avg_ms, max(ms) AS worst FROM s GROUP BY url|'tumbling 1 second'" \
  "SELECT user_id % 50 AS u, count(*) AS n, min(ms) AS best FROM s WHERE ms >= 10 GROUP BY 1|NULL" \
  "SELECT count(*) AS n, sum(ms) AS total FROM s|NULL"
TIMECOL=date_time run nexmark "$BIDS_DDL" "(auction, bidder, price, channel, url, date_time) $BIDS_INSERT" \
  "SELECT auction, count(*) AS bids FROM s GROUP BY auction|'hopping 10 seconds every 2 seconds'" \
  "SELECT max(price) AS max_price, count(*) AS bids FROM s|'tumbling 10 seconds'" \
  "SELECT bidder, count(*) AS bids FROM s GROUP BY bidder|'session 10 seconds'"
