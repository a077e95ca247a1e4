#!/usr/bin/env bash
# bench/ingest.sh [events] [chunk]: ingest headroom of a stream with three
# continuous views against a plain table, measured in the same run on the same
# cluster, as the ratio of the times until the data is queryable and exact.
# Producers COPY in transactions of [chunk] events (default 10000), one after
# another; a second figure puts all events in a single transaction.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

N=${1:-1000000}
CHUNK=${2:-10000}
dir=/tmp/streamext-bench
port=54331
install_deps bc bsdextrautils
build_install
start_cluster "$dir" "$port" "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" ${BENCH_CONF:-}
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres "$@"; }
now() { date +%s.%N; }

psql <<'SQL'
CREATE EXTENSION streamext;
CREATE TABLE plain_events (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int, ts timestamptz NOT NULL);
CREATE TABLE events (LIKE plain_events INCLUDING ALL);
SELECT streamext.create_stream('events', time_column => 'ts');
SELECT streamext.create_view('per_minute',
  $$ SELECT url, count(*) AS hits, avg(ms) AS avg_ms, max(ms) AS worst FROM events GROUP BY url $$,
  'tumbling 1 minute');
SELECT streamext.create_view('per_user', $$ SELECT user_id, count(*) AS n, sum(ms) AS total FROM events GROUP BY user_id $$);
SELECT streamext.create_view('total', $$ SELECT count(*) AS n, sum(ms) AS s, max(ts) AS last FROM events $$);
SQL

# the events, generated once, cut into chunks of CHUNK lines
data=$dir/data
mkdir -p "$data"
chown postgres "$data"
psql -c "COPY (SELECT '/page/' || (i % 200), i % 1000, i % 997,
                      '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 millisecond'
                 FROM generate_series(1, $N) i) TO '$data/all.csv' (FORMAT csv)"
(cd "$data" && split -l "$CHUNK" -d -a 5 all.csv chunk.)

load() {  # load TABLE: every chunk in its own transaction
  for f in "$data"/chunk.*; do
    psql -c "\\copy $1 (url, user_id, ms, ts) FROM '$f' (FORMAT csv)"
  done
}

t0=$(now); load plain_events; t1=$(now)
plain=$(echo "$t1 - $t0" | bc -l)

psql -c "SELECT streamext.wait_caught_up()" >/dev/null
wpid=$(psql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'streamext worker'")
ticks() { awk '{print $14 + $15}' "/proc/$wpid/stat"; }
w0=$(ticks)
t0=$(now); load events; t1=$(now)
[ "$(psql -c "SELECT streamext.wait_caught_up('600s')")" = t ] || { echo "worker did not catch up"; exit 1; }
t2=$(now)
worker_cpu=$(echo "($(ticks) - $w0) / $(getconf CLK_TCK)" | bc -l)
stream_copy=$(echo "$t1 - $t0" | bc -l)
stream_total=$(echo "$t2 - $t0" | bc -l)

# one transaction of all events: decoding starts at its commit
psql -c "TRUNCATE plain_events"
t0=$(now); psql -c "\\copy plain_events (url, user_id, ms, ts) FROM '$data/all.csv' (FORMAT csv)"; t1=$(now)
plain_one=$(echo "$t1 - $t0" | bc -l)
t0=$(now); psql -c "\\copy events (url, user_id, ms, ts) FROM '$data/all.csv' (FORMAT csv)"; t1=$(now)
psql -c "SELECT streamext.wait_caught_up('600s')" >/dev/null
t2=$(now)
one_copy=$(echo "$t1 - $t0" | bc -l)
one_decode=$(echo "$t2 - $t1" | bc -l)

# exactness after both loads
diff=$(psql -c "SELECT (SELECT count(*) FROM ((SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00'), url, count(*), avg(ms), max(ms) FROM events GROUP BY 1, 2)
                        EXCEPT ALL (SELECT window_start, url, hits, avg_ms, worst FROM per_minute)) d)
                     + (SELECT count(*) FROM ((SELECT user_id, count(*), sum(ms) FROM events GROUP BY 1) EXCEPT ALL (SELECT * FROM per_user)) d)
                     + (SELECT count(*) FROM ((SELECT count(*), sum(ms), max(ts) FROM events) EXCEPT ALL (SELECT * FROM total)) d)")

# backfill: a new view over every event so far; producers wait this long
t0=$(now)
psql -c "SELECT streamext.create_view('backfilled', \$\$ SELECT url, count(*) AS n, avg(ms) AS a FROM events GROUP BY url \$\$)" >/dev/null
t1=$(now)
backfill=$(echo "$t1 - $t0" | bc -l)
backfill_events=$(psql -c "SELECT count(*) FROM events")

mkdir -p bench/results
out=bench/results/ingest.csv
{
  echo "events,chunk,plain_s,stream_copy_s,stream_until_views_s,ratio_plain_over_stream,worker_cpu_s,one_txn_plain_s,one_txn_copy_s,one_txn_decode_s,decode_events_per_s,mismatched_rows"
  printf "%d,%d,%.3f,%.3f,%.3f,%.3f,%.2f,%.3f,%.3f,%.3f,%.0f,%d\n" "$N" "$CHUNK" "$plain" "$stream_copy" "$stream_total" \
    "$(echo "$plain / $stream_total" | bc -l)" "$worker_cpu" "$plain_one" "$one_copy" "$one_decode" \
    "$(echo "$N / $one_decode" | bc -l)" "$diff"
} >"$out"
column -s, -t "$out"
echo
printf "ingest ratio (plain table / stream with 3 views, until queryable): %.2f\n" "$(echo "$plain / $stream_total" | bc -l)"
printf "worker CPU for the chunked load: %.2f s (%.0f events per CPU second)\n" "$worker_cpu" "$(echo "$N / $worker_cpu" | bc -l)"
printf "decoding + aggregation, one core, one %d-event transaction: %.0f events/s\n" "$N" "$(echo "$N / $one_decode" | bc -l)"
printf "create_view backfill over %d events: %.2f s (producers wait this long)\n" "$backfill_events" "$backfill"
printf "views equal plain SQL: %s\n" "$([ "$diff" = 0 ] && echo yes || echo "NO ($diff rows differ)")"
