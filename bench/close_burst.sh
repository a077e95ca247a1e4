#!/usr/bin/env bash
# bench/close_burst.sh [sessions] [rounds]: the cost of closing a burst of
# windows, against what PostgreSQL needs to write the same rows.  A session
# view (Nexmark q11's: count per bidder, 'session 10 seconds') with an
# emit => 'final' subscription holds SESSIONS one-event sessions (default
# 50,000); one later event makes them all due at once, and the time from its
# commit until every session is in the subscription's queue is measured.
# The baseline, in the same round, is one plain transaction writing the same
# rows: the closed rows into a copy of the view's closed table (its indexes
# too) and one queue entry each, built with row_to_json, into a copy of
# streamext.subscription_queue.  It prints both and the ratio baseline /
# closing per round (1.0: closing costs what writing its rows costs), then
# the median, in ROUNDS rounds (default 3) of fresh databases.  This is the
# q11 tail burst of bench/run.sh (20,000 sessions ending at once) alone.
# Installs the working tree into a private PostgreSQL under
# /tmp/streamext-bench-burst, never into the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

N=${1:-50000}
ROUNDS=${2:-3}
dir=/tmp/streamext-bench-burst-data
port=${PORT:-59664}
install_deps bc
install_private /tmp/streamext-bench-burst
start_cluster "$dir" "$port" "max_wal_size = '4GB'" "checkpoint_timeout = '30min'"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres -d "$DB" "$@"; }
ms() { date +%s%3N; }

ratios=()
for round in $(seq 1 "$ROUNDS"); do
  DB=burst_$round
  DB=postgres psql -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
  psql -c "CREATE TABLE b (bidder bigint NOT NULL, ts timestamptz NOT NULL)" \
       -c "CREATE EXTENSION streamext" >/dev/null
  psql -c "SELECT streamext.create_stream('b', time_column => 'ts', idle_timeout => NULL)" >/dev/null
  psql -c "SELECT streamext.create_view('q11', \$\$ SELECT bidder, count(*) AS bids FROM b GROUP BY bidder \$\$, \"window\" => 'session 10 seconds')" >/dev/null
  psql -c "SELECT streamext.create_subscription('fin', 'q11', emit => 'final', notify => 'batch')" >/dev/null
  psql -c "INSERT INTO b SELECT i, '2026-01-01 00:00:00+00'::timestamptz + (i % 1000) * interval '1 ms'
           FROM generate_series(1, $N) i" >/dev/null
  psql -c "SELECT streamext.wait_caught_up('120s')" >/dev/null
  sleep 1.5   # the periodic checkpoint after the load, not during the burst

  # the baseline: the same rows written by SQL, in one transaction
  closed=$(psql -c "SELECT closed_relid::regclass FROM streamext.view_def WHERE name = 'q11'")
  psql -c "CREATE TABLE closed_copy (LIKE $closed INCLUDING ALL)" \
       -c "CREATE TABLE queue_copy (LIKE streamext.subscription_queue INCLUDING ALL)" >/dev/null
  t0=$(ms)
  psql <<SQL >/dev/null
BEGIN;
INSERT INTO closed_copy
SELECT ts, ts + interval '10 seconds', bidder, 1, int8send(bidder), int8send(1), true FROM b;
INSERT INTO queue_copy
SELECT 1, row_number() OVER (), 'window',
       row_to_json(r)::jsonb, now()
  FROM (SELECT ts AS window_start, ts + interval '10 seconds' AS window_end, bidder, 1 AS bids FROM b) r;
COMMIT;
SQL
  t1=$(ms)

  # the burst: one event a minute later makes every session due
  t2=$(ms)
  psql -c "INSERT INTO b VALUES (0, '2026-01-01 00:01:00+00')" >/dev/null
  deadline=$(( $(date +%s) + 300 ))
  until [ "$(psql -c "SELECT newest_position FROM streamext.subscriptions WHERE name = 'fin'")" -ge "$N" ]; do
    sleep 0.01
    [ "$(date +%s)" -lt "$deadline" ] || { echo "round $round: the sessions did not close within 300 s" >&2; exit 1; }
  done
  t3=$(ms)
  queued=$(psql -c "SELECT count(*) FROM streamext.subscription_queue")
  [ "$queued" -eq "$N" ] || { echo "round $round: $queued entries queued, $N expected" >&2; exit 1; }
  ratio=$(echo "($t1 - $t0) / ($t3 - $t2)" | bc -l)
  ratios+=("$ratio")
  printf 'round %d  sessions %d  plain writes %6.2f s  closing %6.2f s  ratio %.2f\n' "$round" "$N" \
    "$(echo "($t1 - $t0) / 1000" | bc -l)" "$(echo "($t3 - $t2) / 1000" | bc -l)" "$ratio"
  DB=postgres psql -c "DROP DATABASE $DB" >/dev/null
done
printf 'median of %d rounds: ratio %.2f\n' "$ROUNDS" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
