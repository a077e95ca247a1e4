#!/usr/bin/env bash
# scripts/demo.sh: streamext in a minute, on a fresh Debian bookworm machine,
# as root.  Installs what it needs, builds and installs the extension, starts
# a throwaway cluster, defines a stream and views, produces events and shows
# the views changing, then stops the cluster and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

install_deps
build_install

dir=/tmp/streamext-demo
port=54329
start_cluster "$dir" "$port"
trap 'stop_cluster "$dir"' EXIT
psql() { command psql -X -q -h "$dir" -p "$port" -U postgres "$@"; }

echo "== a stream and two continuous views"
psql -e <<'SQL'
CREATE EXTENSION streamext;
CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts');
SELECT streamext.create_view('clicks_per_10s',
  $$ SELECT url, count(*) AS hits, avg(ms)::numeric(8,1) AS avg_ms, max(ms) AS worst
       FROM clicks WHERE ms >= 0 GROUP BY url $$,
  "window" => 'tumbling 10 seconds');
SELECT streamext.create_view('slowest_pages',
  $$ SELECT url, count(*) AS hits, max(ms) AS worst FROM clicks GROUP BY url HAVING max(ms) > 900 $$);
SQL

psql -c "SELECT streamext.wait_caught_up()" >/dev/null   # the worker is up
echo "== producers insert for 20 seconds; the views follow"
(
  for i in $(seq 1 40); do
    psql -c "INSERT INTO clicks (url, user_id, ms)
             SELECT (ARRAY['/home','/cart','/pay','/search'])[1 + (random()*3)::int],
                    (random()*1000)::int, (random()*1000)::int
               FROM generate_series(1, 500)"
    sleep 0.5
  done
) &
producer=$!
for t in 5 10 15 20; do
  sleep 5
  echo "-- after ${t}s"
  psql -c "SELECT * FROM clicks_per_10s ORDER BY window_start DESC, url LIMIT 8"
done
wait "$producer"
psql -c "SELECT streamext.wait_caught_up()" >/dev/null

echo "== the view equals plain SQL over the stream (no rows = exact)"
psql -c "(SELECT date_bin('10 seconds', ts, '2000-01-01 00:00+00'), url, count(*) FROM clicks WHERE ms >= 0 GROUP BY 1, 2)
         EXCEPT ALL (SELECT window_start, url, hits FROM clicks_per_10s)"
psql -c "SELECT * FROM slowest_pages ORDER BY url"
psql -c "SELECT stream, events, lag_bytes, lag_time FROM streamext.streams"
psql -c "SELECT name, \"window\", events, groups, open_windows, memory_bytes FROM streamext.views"
echo "== done"
