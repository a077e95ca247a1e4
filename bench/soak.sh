#!/usr/bin/env bash
# bench/soak.sh [duration] [events/s] [rev]: does a long-running streamext
# database keep its size?  For [duration] (default 10m; seconds, or minutes
# as 10m) pgbench commits a steady [events/s] (default 500, ten events a
# transaction) into a stream partitioned by time with a retention of 2
# minutes, with two tumbling views (10 seconds by 1000 keys, 1 minute by
# 100 keys) that keep their closed windows 1 and 5 minutes, a subscription
# on the stream (one event in ten) and one on a view's closed windows; a
# consumer (pgbench, one client) polls and acknowledges both every 200 ms.
# Every SOAK_SAMPLE (30) seconds it samples, for each of streamext's tables
# and for the stream's partitions together, what pg_stat_all_tables counts
# (rows inserted, updated, deleted, live, dead; autovacuum runs) and
# pg_total_relation_size; at the end it prints where the sizes settle: the
# size at the half, three quarters and end of the run, the largest, and
# end / half.  Autovacuum runs with PostgreSQL's defaults.
#
# [rev] soaks another revision instead of the current tree (one without a
# change, to compare); either is installed into a private copy of
# PostgreSQL beside the cluster.  SOAK_DIR (/tmp/streamext-soak) and
# SOAK_PORT (54341) place the cluster; the samples are also written to
# $SOAK_DIR/samples.csv.  Figures are observations: nothing here asserts a
# time or a size.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

DURATION=${1:-10m}
RATE=${2:-500}
REV=${3:-}
SAMPLE=${SOAK_SAMPLE:-30}
case $DURATION in
  *m) DURATION=$(( ${DURATION%m} * 60 )) ;;
esac
dir=${SOAK_DIR:-/tmp/streamext-soak}
port=${SOAK_PORT:-54341}
install_deps
if [ -n "$REV" ]; then
  here=$(pwd)
  tree=$dir-tree
  git worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"
  git worktree add -q --detach "$tree" "$REV"
  (cd "$tree" && install_private "$dir-pg")
  git -C "$here" worktree remove --force "$tree"
  PGBIN=$dir-pg/usr/lib/postgresql/15/bin
  label=$REV
else
  install_private "$dir-pg"
  label="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src sql || echo +changes)"
fi
start_cluster "$dir" "$port"
bg=()
trap 'for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done; stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"; }

psql >/dev/null <<'SQL'
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT clock_timestamp())
  PARTITION BY RANGE (ts);
SELECT streamext.create_stream('ev', 'ts', retention => '2 minutes');
SELECT streamext.create_view('per_10s', $$ SELECT k, count(*) AS n, sum(v) AS s, max(v) AS m FROM ev GROUP BY k $$,
                             "window" => 'tumbling 10 seconds', retention => '1 minute');
SELECT streamext.create_view('per_minute', $$ SELECT k % 100 AS g, count(*) AS n, avg(v) AS a FROM ev GROUP BY 1 $$,
                             "window" => 'tumbling 1 minute', retention => '5 minutes');
SELECT streamext.create_subscription('big', source => 'ev', filter => 'v >= 900', notify => 'none');
SELECT streamext.create_subscription('minutes', source => 'per_minute', emit => 'final', notify => 'none');
SELECT streamext.wait_caught_up();
SQL

tables="streamext.open_state streamext.view_progress streamext.subscription_queue
        streamext.subscription_progress streamext.subscription_ack streamext.dead_letters"
for v in per_10s per_minute; do
  tables="$tables streamext.closed_$(psql -c "SELECT id FROM streamext.view_def WHERE name = '$v'")"
done
in_list=$(for t in $tables; do printf "'%s'::regclass," "$t"; done)
in_list=${in_list%,}

# sample ELAPSED: one line per table, and the stream's partitions together
sample() {
  psql -F , <<SQL
SELECT $1, relid::regclass::text, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup, n_dead_tup, autovacuum_count,
       pg_total_relation_size(relid)
  FROM pg_stat_all_tables WHERE relid IN ($in_list)
UNION ALL
SELECT $1, 'ev (partitions)', sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_del), sum(n_live_tup), sum(n_dead_tup),
       sum(autovacuum_count), sum(pg_total_relation_size(relid))
  FROM pg_stat_all_tables WHERE relid IN (SELECT relid FROM pg_partition_tree('ev') WHERE isleaf)
ORDER BY 2;
SQL
}

pgfile=$dir/produce.sql
cat >"$pgfile" <<'SQL'
INSERT INTO ev (k, v) SELECT (random() * 999)::int, (random() * 1000)::int FROM generate_series(1, 10);
SQL
"$PGBIN/pgbench" -n -h "$dir" -p "$port" -U postgres -c 2 -j 2 -R $(( RATE / 10 )) -T "$DURATION" \
  -f "$pgfile" postgres >"$dir/pgbench.log" 2>&1 &
bg+=($!)
# the consumer, a client of its own: poll, handle, acknowledge, every 200 ms
cat >"$dir/consume.sql" <<'SQL'
SELECT streamext.ack(s, last) FROM (VALUES ('big'), ('minutes')) v (s),
       LATERAL (SELECT max(position) AS last FROM streamext.poll(s, 10000)) p WHERE last IS NOT NULL;
\sleep 200 ms
SQL
"$PGBIN/pgbench" -n -h "$dir" -p "$port" -U postgres -c 1 -T "$DURATION" \
  -f "$dir/consume.sql" postgres >"$dir/consume.log" 2>&1 &
bg+=($!)

echo "soak of $label: $DURATION s, $RATE events/s, sample every $SAMPLE s, autovacuum defaults"
csv=$dir/samples.csv
echo "elapsed_s,table,n_tup_ins,n_tup_upd,n_tup_del,n_live_tup,n_dead_tup,autovacuum_count,total_bytes" >"$csv"
fmt='%6s %-34s %10s %10s %10s %9s %9s %5s %12s\n'
printf "$fmt" elapsed table ins upd del live dead avac bytes
start=$(date +%s)
while :; do
  now=$(( $(date +%s) - start ))
  sample "$now" | tee -a "$csv" | while IFS=, read -r e t i u d l dd a b; do
    printf "$fmt" "$e" "$t" "$i" "$u" "$d" "$l" "$dd" "$a" "$b"
  done
  [ "$now" -ge "$DURATION" ] && break
  sleep $(( now + SAMPLE > DURATION ? DURATION - now : SAMPLE ))
done
wait "${bg[@]}" || true
bg=()

echo
psql -F ' ' -c "SELECT 'worker restarts', restarts, 'last error', coalesce(last_error, '-') FROM streamext.worker_status()"
psql -F ' ' -c "SELECT 'events decoded', events_decoded FROM streamext.worker_status()"
psql -F ' | ' -c "SELECT 'worker in pg_stat_activity', state, query FROM pg_stat_activity WHERE backend_type = 'streamext worker'"
echo "producer: $(grep -E '^tps' "$dir/pgbench.log" || true)"
echo "consumer: $(grep -E '^number of transactions actually processed' "$dir/consume.log" || true)"

echo
echo "where the sizes settle (bytes; half, 3/4 and end of the run, largest, end / half):"
printf "%-34s %12s %12s %12s %12s %8s\n" table half 3/4 end largest end/half
awk -F , -v d="$DURATION" '
  NR > 1 {
    t = $2; e = $1; b = $9; tabs[t] = 1
    if (e <= d / 2) half[t] = b
    if (e <= d * 3 / 4) q3[t] = b
    last[t] = b
    if (b > mx[t]) mx[t] = b
  }
  END {
    for (t in tabs)
      printf "%-34s %12d %12d %12d %12d %8s\n", t, half[t], q3[t], last[t], mx[t],
             (half[t] > 0 ? sprintf("%.2f", last[t] / half[t]) : "-")
  }' "$csv" | sort
