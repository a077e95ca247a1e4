#!/usr/bin/env bash
# bench/late_sessions.sh [events] [rounds]: late events of a session view.
# A session view ('session 5 seconds', count per key, 7 keys) gets EVENTS
# events (default 100,000) in one transaction, in 1-second bursts 20 s apart
# (EVENTS / 1,000 bursts), which close as the next bursts come; then the
# same events again in one transaction: every one of them is late and
# joins a closed session.  It times each load from its commit until
# wait_caught_up() returns, prints both, the ratio on-time / late (1.0: a
# late event costs what an event on time costs) and the worker's peak
# memory, and checks that the view counts every event.  Late events used to
# take their sessions out of the closed table one by one (100,000: not
# caught up after 60 s, 1.7 GB); they are merged by spans of the gap now.
# Installs the working tree into a private PostgreSQL under
# /tmp/streamext-bench-late, never into the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

N=${1:-100000}
ROUNDS=${2:-3}
dir=/tmp/streamext-bench-late-data
port=${PORT:-59668}
install_deps bc
install_private /tmp/streamext-bench-late
start_cluster "$dir" "$port" "max_wal_size = '4GB'"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres -d "$DB" "$@"; }
ms() { date +%s%3N; }
INS="INSERT INTO ev SELECT i % 7, '2026-01-01 00:00:00+00'::timestamptz + (i / 1000) * interval '20 seconds'
       + (i % 1000) * interval '1 ms' FROM generate_series(0, $N - 1) i"

ratios=()
for round in $(seq 1 "$ROUNDS"); do
  DB=late_$round
  DB=postgres psql -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
  psql -c "CREATE EXTENSION streamext" -c "CREATE TABLE ev (k int NOT NULL, ts timestamptz NOT NULL)" >/dev/null
  psql -c "SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL)" >/dev/null
  psql -c "SELECT streamext.create_view('sv', \$\$ SELECT k, count(*) AS n FROM ev GROUP BY k \$\$, \"window\" => 'session 5 seconds')" >/dev/null
  psql -c "SELECT streamext.wait_caught_up('60s')" >/dev/null
  t0=$(ms); psql -c "$INS" >/dev/null; t1=$(ms)
  psql -c "SELECT streamext.wait_caught_up('600s')" >/dev/null; t2=$(ms)
  sleep 1.5   # a checkpoint: the sessions the load closed are in the closed table
  t3=$(ms); psql -c "$INS" >/dev/null; t4=$(ms)
  ok=$(psql -c "SELECT streamext.wait_caught_up('600s')"); t5=$(ms)
  [ "$ok" = t ] || { echo "round $round: the late events were not applied within 600 s" >&2; exit 1; }
  wpid=$(psql -c "SELECT pid FROM pg_stat_activity WHERE backend_type LIKE 'streamext worker%' AND datname = '$DB'")
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$wpid/status" 2>/dev/null || echo 0)
  counted=$(psql -c "SELECT sum(n) FROM sv")
  [ "$counted" = $((2 * N)) ] || { echo "round $round: the view counts $counted events, not $((2 * N))" >&2; exit 1; }
  ratio=$(echo "($t2 - $t1) / ($t5 - $t4)" | bc -l)
  ratios+=("$ratio")
  printf 'round %d  events %d  on time: caught up %.2f s after the commit  late: %.2f s  ratio %.2f  worker peak %d MB\n' \
    "$round" "$N" "$(echo "($t2 - $t1) / 1000" | bc -l)" "$(echo "($t5 - $t4) / 1000" | bc -l)" "$ratio" \
    "$((peak / 1024))"
  DB=postgres psql -c "DROP DATABASE $DB" >/dev/null
done
printf 'median of %d rounds: ratio %.2f\n' "$ROUNDS" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
