#!/usr/bin/env bash
# bench/window_memory.sh [keys]: shared memory per group of each window kind,
# on the same events, as bytes per group and as a ratio to the tumbling view;
# and the time to read each view (SELECT count(*), best of 3), per row read
# and as a ratio to the tumbling view's time per row.
# Three loads: sparse (each key one event per minute) and dense (each key one
# event per second), both inside one minute of event time, with a lateness
# that keeps every window open so that all state is in memory; and dense
# again with no lateness, where a sliding view's panes but the last are
# behind the watermark and its reads combine the worker's stacks
# (src/sliding_stacks.c) rather than 60 panes per row.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

KEYS=${1:-2000}
dir=/tmp/streamext-bench-mem
port=54332
install_deps bc
build_install
start_cluster "$dir" "$port"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres "$@"; }

declare -A WINDOWS=(
  [tumbling]="tumbling 1 minute"
  [hopping]="hopping 1 minute every 1 second"
  [cumulate]="cumulate 1 minute every 1 second"
  [sliding]="sliding 1 minute step 1 second"
  [session]="session 30 seconds"
)
KINDS="tumbling hopping cumulate sliding session"

run() {  # run LOAD PER_KEY LATENESS: PER_KEY events per key, spread over one minute
  local load=$1 per_key=$2 lateness=$3
  psql -c "DROP TABLE IF EXISTS ev CASCADE" >/dev/null 2>&1 || true
  psql <<SQL >/dev/null
DROP EXTENSION IF EXISTS streamext CASCADE;
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', 'ts', idle_timeout => NULL);
SQL
  for kind in $KINDS; do
    psql -c "SELECT streamext.create_view('m_$kind',
               \$\$ SELECT k, count(*) AS n, sum(v) AS s, avg(v) AS a FROM ev GROUP BY k \$\$,
               '${WINDOWS[$kind]}', lateness => '$lateness')" >/dev/null
  done
  psql -c "INSERT INTO ev SELECT k, i, '2026-01-01 00:00:00+00'::timestamptz
                                  + (i * 60 / $per_key + k % (60 / $per_key)) * interval '1 second'
             FROM generate_series(1, $KEYS) k, generate_series(0, $per_key - 1) i" >/dev/null
  psql -c "SELECT streamext.wait_caught_up('300s')" >/dev/null
  local tb tread
  tb=$(psql -c "SELECT memory_bytes FROM streamext.views WHERE name = 'm_tumbling'")
  tread=$(read_ms m_tumbling)
  tread=$(echo "$tread / $(psql -c 'SELECT count(*) FROM m_tumbling')" | bc -l)
  for kind in $KINDS; do
    local ms rows
    ms=$(read_ms "m_$kind")
    rows=$(psql -c "SELECT count(*) FROM m_$kind")
    psql -F ' ' -c "SELECT '$load', '$kind', groups, memory_bytes,
                           round(memory_bytes::numeric / greatest(groups, 1)),
                           round(memory_bytes::numeric / $KEYS),
                           round(memory_bytes::numeric / $tb, 2),
                           $rows, $ms, round(1000 * $ms / $rows, 2),
                           round($ms / $rows / $tread, 2)
                      FROM streamext.views WHERE name = 'm_$kind'"
  done
}

read_ms() {  # read_ms VIEW: milliseconds of the fastest of 3 full reads
  for i in 1 2 3; do
    psql -c '\timing on' -c "SELECT count(*) FROM $1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
  done | sort -n | head -1
}

echo "keys=$KEYS; views: count, sum, avg per key; lateness 1 hour (nothing closes), then 0"
fmt='%-7s %-9s %8s %12s %10s %9s %8s %8s %9s %10s %10s\n'
printf "$fmt" load kind groups memory_bytes per_group per_key mem_x rows read_ms us_per_row row_x
{ run sparse 1 '1 hour'; run dense 60 '1 hour'; run dense-l0 60 '0'; } | while read -r l k g m pg pk r n ms upr rx; do
  printf "$fmt" "$l" "$k" "$g" "$m" "$pg" "$pk" "$r" "$n" "$ms" "$upr" "$rx"
done
