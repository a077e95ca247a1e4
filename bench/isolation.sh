#!/usr/bin/env bash
# bench/isolation.sh [base-rev] [events] [rounds]: what applying every event
# in a subtransaction of its own costs the worker.  The current tree and
# base-rev (default e991ebc, the last commit that applied events without
# one) are each installed into a private copy of PostgreSQL; in interleaved
# rounds each loads [events] events (default 300000) into a stream with
# three views and one subscription in one INSERT, and the time from the
# INSERT's commit until wait_caught_up() returns is the worker's.  Prints
# the medians and their ratio (current / base).  As root, like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

BASE=${1:-e991ebc}
EVENTS=${2:-300000}
ROUNDS=${3:-3}
install_deps
here=$(pwd)
base_tree=/tmp/streamext-isolation-base
rm -rf "$base_tree"
git worktree add -q --detach "$base_tree" "$BASE"
trap 'git -C "$here" worktree remove --force "$base_tree" 2>/dev/null || true' EXIT
(cd "$base_tree" && install_private /tmp/streamext-isolation-base-pg)
install_private /tmp/streamext-isolation-current-pg

# run_round BIN: seconds from the load's commit to the views having it
run_round() {
  PGBIN=$1
  local dir=/tmp/streamext-isolation-cluster port=54339
  start_cluster "$dir" "$port" "streamext.checkpoint_interval = '1s'" >/dev/null
  local q="psql -X -q -At -h $dir -p $port -U postgres"
  $q <<'SQL' >/dev/null
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', 'ts');
SELECT streamext.create_view('by_k', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$);
SELECT streamext.create_view('per_min', $$ SELECT k, count(*) AS n, avg(v) AS a FROM ev GROUP BY k $$, 'tumbling 1 minute');
SELECT streamext.create_view('total', $$ SELECT count(*) AS n, max(v) AS m FROM ev $$);
SELECT streamext.create_subscription('big', 'ev', filter => 'v > 990', notify => 'none');
SELECT streamext.wait_caught_up();
SQL
  local t
  t=$($q <<SQL
INSERT INTO ev SELECT i % 1000, i % 1000, '2026-01-01'::timestamptz + i * interval '1 ms' FROM generate_series(1, $EVENTS) i;
SELECT extract(epoch FROM clock_timestamp()) \gset
SELECT streamext.wait_caught_up('600s') \gset
SELECT round((extract(epoch FROM clock_timestamp()) - :extract)::numeric, 3);
SQL
)
  local check
  check=$($q -c "SELECT (SELECT sum(n) FROM by_k) = $EVENTS AND (SELECT n FROM total) = $EVENTS")
  stop_cluster "$dir"
  [ "$check" = t ] || { echo "views inexact after the load" >&2; exit 1; }
  echo "$t"
}

base=(); cur=()
for r in $(seq 1 "$ROUNDS"); do
  base+=("$(run_round /tmp/streamext-isolation-base-pg/usr/lib/postgresql/15/bin)")
  cur+=("$(run_round /tmp/streamext-isolation-current-pg/usr/lib/postgresql/15/bin)")
  echo "round $r: base ${base[-1]} s, current ${cur[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb=$(median "${base[@]}"); mc=$(median "${cur[@]}")
echo "| $EVENTS events, 3 views + 1 subscription | base $BASE | current $(git rev-parse --short HEAD) | current / base |"
echo "| --- | --- | --- | --- |"
echo "| worker catch-up after the load's commit, median of $ROUNDS, s | $mb | $mc | $(awk -v c="$mc" -v b="$mb" 'BEGIN { printf "%.2f", c / b }') |"
