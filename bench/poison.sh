#!/usr/bin/env bash
# bench/poison.sh [seconds]: a view's freshness while another stream carries
# poison events.  A producer commits ~200 events/s, one event a commit, into
# stream `bad`, whose view divides by x; meanwhile single-event commits into
# stream `good` (100 a second) are timed from the commit returning to the
# view showing them, as bench/latency.sh does.  [seconds] (default 60) with
# one poison event (x = 0) a second, and [seconds] of the same load without
# poison as the baseline, in interleaved blocks of about 10 s (baseline,
# poisoned, poisoned, baseline, ...) so that the machine's drift hits both.
# Then it checks that every poison event is one dead letter, that the worker
# never restarted, and that the views equal plain SQL; exits non-zero if one
# of these checks fails or a commit never showed in the view.  The target
# (commit-to-view p99 under 50 ms with poison) is reported, not enforced.
#
# The view is polled without pause for 5 ms after each commit, then every
# millisecond, up to 10 s (a timeout is a failed check).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

SECONDS_EACH=${1:-60}
BLOCK=${POISON_BLOCK:-10}
RATE=200
dir=/tmp/streamext-poison
port=54338
install_deps
install_private /tmp/streamext-poison-pg
start_cluster "$dir" "$port"
prod=
trap '[ -n "$prod" ] && kill "$prod" 2>/dev/null; stop_cluster "$dir"' EXIT
psql() { command psql -X -q -At -h "$dir" -p "$port" -U postgres "$@"; }

# blocks per phase and their length: SECONDS_EACH cut into blocks of ~BLOCK s
nblocks=$(( (SECONDS_EACH + BLOCK / 2) / BLOCK ))
[ "$nblocks" -ge 1 ] || nblocks=1
blk_secs=$(awk -v s="$SECONDS_EACH" -v n="$nblocks" 'BEGIN { printf "%.3f", s / n }')

psql >/dev/null <<'SQL'
CREATE EXTENSION streamext;
CREATE TABLE bad (id bigserial PRIMARY KEY, x int NOT NULL, blk int NOT NULL,
                  ts timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE good (id bigserial PRIMARY KEY, k int NOT NULL,
                   ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('bad');
SELECT streamext.create_stream('good', time_column => 'ts');
SELECT streamext.create_view('bad_total', $$ SELECT count(*) AS n, sum(1000 / x) AS s FROM bad $$);
SELECT streamext.create_view('good_total', $$ SELECT count(*) AS n FROM good $$);
SELECT streamext.create_view('good_per_10s', $$ SELECT k, count(*) AS n FROM good GROUP BY k $$,
                             'tumbling 10 seconds');
CREATE TABLE latency (blk int, poisoned bool, round int, commit_ms float8, visible_ms float8);

-- produce commits rate events a second into bad, one a transaction, for
-- secs seconds; with poison, the first event of every second has x = 0
CREATE PROCEDURE produce(secs float8, rate int, poison bool, blk int) LANGUAGE plpgsql AS $$
DECLARE
  t_start timestamptz := clock_timestamp();
  t_end timestamptz := t_start + make_interval(secs => secs);
  due timestamptz;
  i bigint := 0;
BEGIN
  LOOP
    due := t_start + make_interval(secs => i::float8 / rate);
    EXIT WHEN due >= t_end;
    IF clock_timestamp() < due THEN
      PERFORM pg_sleep(extract(epoch FROM due - clock_timestamp()));
    END IF;
    INSERT INTO bad (x, blk)
      VALUES (CASE WHEN poison AND i % rate = 0 THEN 0 ELSE 1 + (i % 7)::int END, blk);
    COMMIT;
    i := i + 1;
  END LOOP;
END $$;

-- measure commits one event into good every 10 ms for secs seconds and
-- polls good_total until it shows it; the figures are written at the end,
-- so that the measurement itself adds no writes between rounds
CREATE PROCEDURE measure(secs float8, blk int, poisoned bool) LANGUAGE plpgsql AS $$
DECLARE
  t_start timestamptz := clock_timestamp();
  t_end timestamptz := t_start + make_interval(secs => secs);
  due timestamptz;
  slot bigint := 0;
  expected bigint;
  seen bigint;
  t0 timestamptz; t1 timestamptz; t2 timestamptz;
  c float8[] := '{}';
  v float8[] := '{}';
BEGIN
  SELECT count(*) INTO expected FROM good;
  LOOP
    due := t_start + make_interval(secs => slot * 0.01);
    IF due < clock_timestamp() THEN     -- late: the next free slot, no burst
      slot := ceil(extract(epoch FROM clock_timestamp() - t_start) / 0.01);
      due := t_start + make_interval(secs => slot * 0.01);
    END IF;
    EXIT WHEN due >= t_end;
    PERFORM pg_sleep(greatest(extract(epoch FROM due - clock_timestamp()), 0));
    slot := slot + 1;
    t0 := clock_timestamp();
    INSERT INTO good (k) VALUES (slot % 10);
    COMMIT;
    t1 := clock_timestamp();
    expected := expected + 1;
    LOOP
      SELECT n INTO seen FROM good_total;
      t2 := clock_timestamp();
      EXIT WHEN seen >= expected OR t2 - t1 > interval '10 s';
      IF t2 - t1 > interval '5 ms' THEN
        PERFORM pg_sleep(0.001);
      END IF;
    END LOOP;
    c := c || extract(epoch FROM t1 - t0)::float8 * 1000;
    v := v || CASE WHEN seen >= expected THEN extract(epoch FROM t2 - t1)::float8 * 1000 END;
  END LOOP;
  INSERT INTO latency
    SELECT blk, poisoned, r, c[r], v[r] FROM generate_subscripts(c, 1) r;
END $$;
SQL
psql -c "SELECT streamext.wait_caught_up()" >/dev/null
pid0=$(psql -c "SELECT worker_pid FROM streamext.worker_status()")

echo "== $SECONDS_EACH s baseline + $SECONDS_EACH s poisoned, $((2 * nblocks)) blocks of $blk_secs s, bad at $RATE events/s"
t_begin=$(date +%s)
for ((b = 0; b < 2 * nblocks; b++)); do
  # baseline, poisoned, poisoned, baseline, ...: drift falls on both alike
  case $((b % 4)) in 1 | 2) poison=true ;; *) poison=false ;; esac
  psql -c "CALL produce($blk_secs, $RATE, $poison, $b)" &
  prod=$!
  psql -c "CALL measure($blk_secs, $b, $poison)"
  if ! wait "$prod"; then
    prod=
    echo "the producer of block $b failed" >&2
    exit 1
  fi
  prod=
done
t_run=$(( $(date +%s) - t_begin ))
psql -c "SELECT streamext.wait_caught_up()" >/dev/null
rewinds=$(grep -c 'sets aside event' "$dir/server.log" || true)

mkdir -p bench/results
psql -c "COPY (SELECT * FROM latency ORDER BY blk, round) TO STDOUT (FORMAT csv, HEADER)" \
  >bench/results/poison.csv

psql -v pid0="$pid0" -v rewinds="$rewinds" -v secs="$SECONDS_EACH" -v nblocks="$nblocks" \
  -v blk_secs="$blk_secs" -v t_run="$t_run" -v rate="$RATE" \
  -v sha="$(git rev-parse --short HEAD)" -v cores="$(nproc)" \
  >bench/results/poison.md <<'SQL'
CREATE TEMP TABLE phase AS
SELECT poisoned,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY visible_ms) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY visible_ms) AS p99,
       max(visible_ms) AS mx,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY commit_ms) AS c50,
       count(*) AS rounds, count(*) - count(visible_ms) AS timeouts
  FROM latency GROUP BY poisoned;
CREATE TEMP TABLE load AS
SELECT blk % 4 IN (1, 2) AS poisoned, sum(n) AS events, sum(poison) AS poison, sum(n) / sum(span) AS rate
  FROM (SELECT blk, count(*) AS n, count(*) FILTER (WHERE x = 0) AS poison,
               extract(epoch FROM max(ts) - min(ts)) AS span
          FROM bad GROUP BY blk) b
 GROUP BY 1;
-- the checks: each is a boolean and the figures behind it
CREATE TEMP TABLE checks AS
SELECT (SELECT count(*) FROM streamext.dead_letters) AS letters,
       (SELECT count(*) FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
         WHERE v.name = 'bad_total' AND d.sqlstate = '22012' AND (d.event->>'x')::int = 0) AS letters_ok,
       (SELECT count(*) FROM bad WHERE x = 0) AS poison,
       w.restarts, w.worker_pid, w.last_error,
       (SELECT row(n, s) FROM bad_total) IS NOT DISTINCT FROM
         (SELECT row(count(*), sum(1000 / x)) FROM bad WHERE x <> 0) AS bad_exact,
       (SELECT n FROM bad_total) AS bad_n, (SELECT s FROM bad_total) AS bad_s,
       (SELECT n FROM good_total) IS NOT DISTINCT FROM (SELECT count(*) FROM good) AS good_exact,
       (SELECT count(*) FROM good) AS good_n,
       NOT EXISTS (SELECT window_start, k, n FROM good_per_10s
                   EXCEPT ALL
                   SELECT date_bin('10 seconds', ts, '2000-01-01 00:00+00'), k, count(*) FROM good GROUP BY 1, 2)
       AND NOT EXISTS (SELECT date_bin('10 seconds', ts, '2000-01-01 00:00+00'), k, count(*) FROM good GROUP BY 1, 2
                       EXCEPT ALL
                       SELECT window_start, k, n FROM good_per_10s) AS tumbling_exact,
       (SELECT count(*) FROM good_per_10s) AS tumbling_rows
  FROM streamext.worker_status() w;
\pset footer off
SELECT format('streamext poison benchmark: %s s baseline + %s s poisoned in %s interleaved blocks of %s s (wall %s s), '
              'bad at %s events/s, %s cores, PostgreSQL %s, streamext at %s, %s (cluster with fsync = off)',
              :'secs', :'secs', 2 * :nblocks, :'blk_secs', :'t_run', :'rate', :'cores',
              current_setting('server_version'), :'sha', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'));
SELECT '';
SELECT '| figure | baseline | poisoned | poisoned / baseline |';
SELECT '| --- | --- | --- | --- |';
SELECT format('| good: %s, ms | %s | %s | %s |', f,
              round(b::numeric, 2), round(p::numeric, 2), round((p / nullif(b, 0))::numeric, 2))
  FROM (SELECT 'commit to view, p50' AS f, 1 AS o, b.p50 AS b, p.p50 AS p FROM phase b, phase p WHERE NOT b.poisoned AND p.poisoned
        UNION ALL SELECT 'commit to view, p99', 2, b.p99, p.p99 FROM phase b, phase p WHERE NOT b.poisoned AND p.poisoned
        UNION ALL SELECT 'commit to view, max', 3, b.mx, p.mx FROM phase b, phase p WHERE NOT b.poisoned AND p.poisoned
        UNION ALL SELECT 'the commit itself, p50', 4, b.c50, p.c50 FROM phase b, phase p WHERE NOT b.poisoned AND p.poisoned) t
 ORDER BY o;
SELECT format('| good: commits measured (never shown within 10 s) | %s (%s) | %s (%s) | |',
              b.rounds, b.timeouts, p.rounds, p.timeouts)
  FROM phase b, phase p WHERE NOT b.poisoned AND p.poisoned;
SELECT format('| bad: events committed (events/s) | %s (%s) | %s (%s) | |',
              b.events, round(b.rate, 1), p.events, round(p.rate, 1))
  FROM load b, load p WHERE NOT b.poisoned AND p.poisoned;
SELECT format('| bad: poison events (x = 0) | %s | %s | |', b.poison, p.poison)
  FROM load b, load p WHERE NOT b.poisoned AND p.poisoned;
SELECT '';
SELECT '| check | result | verdict |';
SELECT '| --- | --- | --- |';
SELECT format('| dead letters = poison events committed | %s dead letters (%s of bad_total, 22012, x = 0), %s poison events | %s |',
              letters, letters_ok, poison, CASE WHEN letters = poison AND letters_ok = poison THEN 'ok' ELSE 'FAILED' END)
  FROM checks;
SELECT format('| worker restarts (worker_status) | %s (pid %s, at start %s; last_error %s) | %s |',
              restarts, worker_pid, :'pid0', coalesce(last_error, 'none'),
              CASE WHEN restarts = 0 THEN 'ok' ELSE 'FAILED' END)
  FROM checks;
SELECT format('| in-process rewinds to the checkpoint (log: "sets aside event") | %s | |', :'rewinds');
SELECT format('| bad_total = SELECT count(*), sum(1000 / x) FROM bad WHERE x <> 0 | %s (n %s, s %s) | %s |',
              CASE WHEN bad_exact THEN 'yes' ELSE 'no' END, bad_n, bad_s,
              CASE WHEN bad_exact THEN 'ok' ELSE 'FAILED' END)
  FROM checks;
SELECT format('| good_total = SELECT count(*) FROM good | %s (%s) | %s |',
              CASE WHEN good_exact THEN 'yes' ELSE 'no' END, good_n,
              CASE WHEN good_exact THEN 'ok' ELSE 'FAILED' END)
  FROM checks;
SELECT format('| good_per_10s (tumbling) = plain SQL, EXCEPT ALL both ways | %s (%s rows) | %s |',
              CASE WHEN tumbling_exact THEN 'yes' ELSE 'no' END, tumbling_rows,
              CASE WHEN tumbling_exact THEN 'ok' ELSE 'FAILED' END)
  FROM checks;
SELECT format('| commits never shown in good_total within 10 s | %s | %s |', t, CASE WHEN t = 0 THEN 'ok' ELSE 'FAILED' END)
  FROM (SELECT sum(timeouts) AS t FROM phase) x;
SELECT format('| target: poisoned p99 < 50 ms and no restart | p99 %s ms, %s restarts | %s |',
              round(p.p99::numeric, 2), c.restarts,
              CASE WHEN p.p99 < 50 AND c.restarts = 0 THEN 'met' ELSE 'NOT met' END)
  FROM phase p, checks c WHERE p.poisoned;
SELECT '';
SELECT '- p99 commit to view per block, ms (B baseline, P poisoned): '
       || string_agg(CASE WHEN poisoned THEN 'P ' ELSE 'B ' END || round(p99::numeric, 2), ', ' ORDER BY blk)
  FROM (SELECT blk, poisoned, percentile_cont(0.99) WITHIN GROUP (ORDER BY visible_ms) AS p99
          FROM latency GROUP BY blk, poisoned) t;
SELECT '- max commit to view per block, ms: '
       || string_agg(CASE WHEN poisoned THEN 'P ' ELSE 'B ' END || round(mx::numeric, 2), ', ' ORDER BY blk)
  FROM (SELECT blk, poisoned, max(visible_ms) AS mx FROM latency GROUP BY blk, poisoned) t;
SQL
cat bench/results/poison.md
if grep -q 'FAILED' bench/results/poison.md; then
  exit 1
fi
