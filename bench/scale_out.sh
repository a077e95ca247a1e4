#!/usr/bin/env bash
# bench/scale_out.sh [events] [root]: one server against three nodes and a
# coordinator.  Loads EVENTS (default 1M) into a stream with one tumbling
# view (1,000 URLs over an hour of event times, in order: 60,000 groups;
# count, sum, avg, max) on one
# server, then the same events split over three nodes (each a third, loaded
# at the same time) with shard views, and a distributed view on a
# coordinator.  Each load is timed from the first insert until the view is
# exact (wait_caught_up on every server that holds events); then a full
# read and a point lookup of the distributed view are timed against the
# same reads of the single server's view (median of 5, each from a new
# connection).  Prints events/s, the ratios three nodes / one server, and
# checks that both views hold the same rows.  All four clusters share this
# machine's cores: on 2 cores the nodes do not add CPU, so the ingest ratio
# measures what sharding costs, not what it would gain on three machines.
# Installs the working tree into a private PostgreSQL under ROOT (default
# /tmp/streamext-bench-scale), never into the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

EVENTS=${1:-1000000}
ROOT=${2:-/tmp/streamext-bench-scale}
BATCH=10000
base=/tmp/streamext-bench-scale-data
port0=${PORT:-59671}
install_private "$ROOT"
conf=("max_wal_size = '8GB'" "checkpoint_timeout = '30min'")
names=(single node1 node2 node3 coord)
for i in 0 1 2 3 4; do
  start_cluster "$base/${names[$i]}" $((port0 + i)) "${conf[@]}"
done
trap 'for n in "${names[@]}"; do stop_cluster "$base/$n"; done' EXIT
ms() { date +%s%3N; }
q() { local i=$1; shift; command psql -X -q -At -v ON_ERROR_STOP=1 -h "$base/${names[$i]}" -p $((port0 + i)) -U postgres -d postgres "$@"; }

QUERY='SELECT url, count(*) AS n, sum(ms) AS total, avg(ms) AS avg_ms, max(ms) AS worst FROM clicks GROUP BY url'
STREAM="CREATE EXTENSION streamext;
CREATE TABLE clicks (url text NOT NULL, ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('clicks', time_column => 'ts');"
q 0 -c "$STREAM" -c "SELECT streamext.create_view('v', \$q\$ $QUERY \$q\$, \"window\" => 'tumbling 1 minute')" >/dev/null
for i in 1 2 3; do
  q $i -c "$STREAM" -c "SELECT streamext.create_shard_view('v', \$q\$ $QUERY \$q\$, \"window\" => 'tumbling 1 minute')" >/dev/null
done
q 4 >/dev/null <<SQL
CREATE EXTENSION streamext; CREATE EXTENSION postgres_fdw;
CREATE TABLE clicks (url text NOT NULL, ms int, ts timestamptz NOT NULL);
$(for i in 1 2 3; do echo "CREATE SERVER n$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/${names[$i]}', port '$((port0 + i))', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER n$i OPTIONS (user 'postgres');"; done)
SELECT streamext.create_distributed_view('v', \$q\$ $QUERY \$q\$, nodes => ARRAY['n1', 'n2', 'n3'],
                                         "window" => 'tumbling 1 minute');
SQL
for i in 0 1 2 3; do q $i -c "SELECT streamext.wait_caught_up('60s')" >/dev/null; done

# load SERVER FIRST STEP: the events FIRST, FIRST + STEP, ... into a server
load() {
  local i=$1 first=$2 step=$3 s
  for ((s = 0; s < EVENTS; s += BATCH)); do
    echo "INSERT INTO clicks SELECT 'u' || (e % 1000), e % 997,
            '2026-01-01 00:00+00'::timestamptz + e * (interval '1 hour' / $EVENTS)
            FROM generate_series($s, $((s + BATCH - 1))) e WHERE e % $step = $first;"
  done | q "$i" >/dev/null
  q "$i" -c "SELECT streamext.wait_caught_up('600s')" >/dev/null
}

t0=$(ms)
load 0 0 1
t1=$(ms)
load 1 0 3 & p1=$!
load 2 1 3 & p2=$!
load 3 2 3 & p3=$!
wait $p1 $p2 $p3
t2=$(ms)
single_ms=$((t1 - t0))
nodes_ms=$((t2 - t1))

# both views hold the same rows
q 4 >/dev/null <<SQL
CREATE SERVER single FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/single', port '$port0', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER single OPTIONS (user 'postgres');
CREATE FOREIGN TABLE v_single (window_start timestamptz, window_end timestamptz, url text,
                               n bigint, total bigint, avg_ms numeric, worst int) SERVER single OPTIONS (table_name 'v');
SQL
diff=$(q 4 -c "SELECT (SELECT count(*) FROM (SELECT * FROM v EXCEPT ALL SELECT * FROM v_single) a)
                    + (SELECT count(*) FROM (SELECT * FROM v_single EXCEPT ALL SELECT * FROM v) b)")
rows=$(q 4 -c "SELECT count(*) FROM v")
[ "$diff" = 0 ] || { echo "the distributed view differs from the single server's in $diff rows" >&2; exit 1; }

# timed reads in one session: the first (the coordinator's connections to
# the nodes are made then), and the median of the 5 after it
read_ms() {
  local i=$1 sql=$2
  local times
  times=$(q "$i" -c '\o /dev/null' -c '\timing on' -c "$sql" -c "$sql" -c "$sql" -c "$sql" \
            -c "$sql" -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  echo "$(echo "$times" | head -1) $(echo "$times" | tail -n +2 | sort -n | sed -n 3p)"
}
read -r full_single_first full_single < <(read_ms 0 "SELECT * FROM v")
read -r full_dist_first full_dist < <(read_ms 4 "SELECT * FROM v")
read -r point_single_first point_single < <(read_ms 0 "SELECT * FROM v WHERE url = 'u42'")
read -r point_dist_first point_dist < <(read_ms 4 "SELECT * FROM v WHERE url = 'u42'")

awk -v n="$EVENTS" -v s="$single_ms" -v d="$nodes_ms" -v rows="$rows" \
    -v fs="$full_single" -v fd="$full_dist" -v ps="$point_single" -v pd="$point_dist" \
    -v fs1="$full_single_first" -v fd1="$full_dist_first" -v ps1="$point_single_first" -v pd1="$point_dist_first" 'BEGIN {
  printf "events: %d, view rows: %d (equal on both)\n", n, rows
  printf "ingest until exact: one server %.0f events/s (%.2f s), three nodes %.0f events/s (%.2f s): ratio %.2f\n",
         n / (s / 1000), s / 1000, n / (d / 1000), d / 1000, s / d
  printf "full read (median of 5): one server %.1f ms, distributed %.1f ms: %.1fx (first read %.1f / %.1f ms)\n", fs, fd, fd / fs, fs1, fd1
  printf "point lookup (median of 5): one server %.1f ms, distributed %.1f ms: %.1fx (first read %.1f / %.1f ms)\n", ps, pd, pd / ps, ps1, pd1
}'
