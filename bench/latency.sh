#!/usr/bin/env bash
# bench/latency.sh [rounds]: freshness, the delay from a producer's commit
# returning to a continuous view showing the event, over [rounds] single-row
# transactions (default 500), next to the commit's own duration in the same
# run as the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ROUNDS=${1:-500}
dir=/tmp/streamext-latency
port=54332
install_deps
build_install
start_cluster "$dir" "$port"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres "$@"; }

psql <<'SQL'
CREATE EXTENSION streamext;
CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts');
SELECT streamext.create_view('per_url', $$ SELECT url, count(*) AS n FROM clicks GROUP BY url $$,
                             'tumbling 1 minute');
SELECT streamext.create_view('total', $$ SELECT count(*) AS n FROM clicks $$);
CREATE TABLE latency (round int, commit_ms float8, visible_ms float8);
-- a procedure commits each event, then polls the view until it shows it
CREATE PROCEDURE measure(rounds int) LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz; t1 timestamptz; t2 timestamptz; seen bigint;
BEGIN
  FOR r IN 1..rounds LOOP
    t0 := clock_timestamp();
    INSERT INTO clicks (url, ms) VALUES ('/p' || (r % 10), r);
    COMMIT;
    t1 := clock_timestamp();
    LOOP
      SELECT n INTO seen FROM total;
      EXIT WHEN seen >= r;
    END LOOP;
    t2 := clock_timestamp();
    INSERT INTO latency VALUES (r, extract(epoch FROM t1 - t0) * 1000, extract(epoch FROM t2 - t1) * 1000);
    COMMIT;
  END LOOP;
END $$;
SQL
psql -c "SELECT streamext.wait_caught_up()" >/dev/null
psql -c "CALL measure($ROUNDS)"

mkdir -p bench/results
psql -c "COPY (SELECT * FROM latency ORDER BY round) TO STDOUT (FORMAT csv, HEADER)" >bench/results/latency.csv
psql -F ' ' <<'SQL'
SELECT 'commit (baseline) ms: median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY commit_ms)::numeric, 2)
       || ', p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY commit_ms)::numeric, 2)
       || ', max ' || round(max(commit_ms)::numeric, 2) FROM latency;
SELECT 'commit-to-view ms:     median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY visible_ms)::numeric, 2)
       || ', p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY visible_ms)::numeric, 2)
       || ', max ' || round(max(visible_ms)::numeric, 2) FROM latency;
SQL
