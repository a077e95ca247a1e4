-- continuous views: running and tumbling, every combinable aggregate,
-- HAVING, expressions, backfill, and the plain-SQL oracle
SET timezone = 'UTC';

-- backfill: clicks already holds three events (streams.sql)
SELECT streamext.create_view('clicks_per_minute',
  $$ SELECT url, count(*) AS hits, avg(ms) AS avg_ms, max(ms) AS worst FROM clicks WHERE ms >= 0 GROUP BY url $$,
  'tumbling 1 minute');
SELECT * FROM clicks_per_minute ORDER BY window_start, url;

INSERT INTO clicks (url, ms, ts) VALUES
  ('/home', 20, '2026-01-01 10:00:59.999999+00'),   -- last instant of the first window
  ('/home', 30, '2026-01-01 10:01:00+00'),          -- exactly on the edge: second window
  ('/cart', -1, '2026-01-01 10:01:30+00'),          -- filtered out by WHERE
  ('/cart', NULL, '2026-01-01 10:01:31+00'),        -- NULL ms: WHERE is not true
  ('/pay', 100, '2026-01-01 10:02:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM clicks_per_minute ORDER BY window_start, url;

-- a late event for the first window (the watermark passed it) corrects it
INSERT INTO clicks (url, ms, ts) VALUES ('/home', 1, '2026-01-01 10:00:00+00');
SELECT streamext.wait_caught_up();   -- corrections are written before it returns
SELECT * FROM clicks_per_minute ORDER BY window_start, url;

-- without GROUP BY and window, a view has its row before any event, as plain SQL does
CREATE TABLE quiet (v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('quiet', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('quiet_total', $$ SELECT count(*) AS n, sum(v) AS s, count(*) > 0 AS any FROM quiet $$);
SELECT * FROM quiet_total;
SELECT count(*), sum(v), count(*) > 0 FROM quiet;
SELECT streamext.create_view('quiet_having', $$ SELECT count(*) AS n FROM quiet HAVING count(*) > 0 $$);
SELECT * FROM quiet_having;
SELECT streamext.drop_view('quiet_total');
SELECT streamext.drop_view('quiet_having');
SELECT streamext.drop_stream('quiet');
CREATE TABLE quiet2 (v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('quiet2', 'ts', idle_timeout => NULL);

-- a view created in the transaction that inserts: each event counts once
BEGIN;
INSERT INTO quiet2 SELECT i, '2026-01-01 00:00+00' FROM generate_series(1, 10) i;
SELECT streamext.create_view('quiet2_total', $$ SELECT count(*) AS n, sum(v) AS s FROM quiet2 $$);
INSERT INTO quiet2 SELECT i, '2026-01-01 00:00+00' FROM generate_series(11, 15) i;
COMMIT;
SELECT streamext.wait_caught_up();
SELECT * FROM quiet2_total;
SELECT streamext.drop_view('quiet2_total');
SELECT streamext.drop_stream('quiet2');

-- large values stored out of line (TOAST) as group keys and arguments,
-- also in the transaction that creates the view
CREATE TABLE docs (body text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('docs', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('docs_by_body', $$ SELECT md5(body) AS h, length(body) AS len, count(*) AS n, max(body) = min(body) AS same FROM docs GROUP BY body $$);
INSERT INTO docs SELECT (SELECT string_agg(md5(i::text || j::text), '') FROM generate_series(1, 400) j), now()
  FROM generate_series(1, 3) i, generate_series(1, 2);
BEGIN;
INSERT INTO docs SELECT (SELECT string_agg(md5(i::text || j::text), '') FROM generate_series(1, 400) j), now() FROM generate_series(2, 4) i;
SELECT streamext.create_view('docs_total', $$ SELECT count(*) AS n, sum(length(body)) AS chars, max(body) IS NOT NULL AS has_max FROM docs $$);
INSERT INTO docs SELECT (SELECT string_agg(md5(i::text || j::text), '') FROM generate_series(1, 400) j), now() FROM generate_series(4, 5) i;
COMMIT;
SELECT streamext.wait_caught_up();
SELECT len, n, same FROM docs_by_body ORDER BY h;
(SELECT md5(body), length(body), count(*), true FROM docs GROUP BY body) EXCEPT ALL SELECT * FROM docs_by_body;
SELECT * FROM docs_total;
SELECT count(*), sum(length(body)), true FROM docs;
SELECT streamext.drop_view('docs_by_body');
SELECT streamext.drop_view('docs_total');
SELECT streamext.drop_stream('docs');

-- a stream without time column: the commit time is the event time
CREATE TABLE pings (kind text NOT NULL);
SELECT streamext.create_stream('pings');
SELECT streamext.create_view('pings_per_hour', $$ SELECT kind, count(*) AS n FROM pings GROUP BY kind $$, 'tumbling 1 hour');
INSERT INTO pings VALUES ('a'), ('b'), ('a');
SELECT streamext.wait_caught_up();
SELECT kind, n, window_end - window_start AS width,
       now() >= window_start AND now() < window_end + interval '1 hour' AS around_now
  FROM pings_per_hour ORDER BY kind;
-- its past events have no known commit time without track_commit_timestamp
SELECT streamext.create_view('pings_per_minute', $$ SELECT count(*) AS n FROM pings $$, 'tumbling 1 minute');
SELECT streamext.drop_view('pings_per_hour');
SELECT streamext.drop_stream('pings');

-- running aggregates of every kind, expressions over them, HAVING
SELECT streamext.create_view('click_stats', $$
  SELECT url, count(*) AS n, count(ms) AS n_ms, sum(ms) AS total, avg(ms)::numeric(10,2) AS mean,
         min(ms) AS best, max(ms) AS worst, round(stddev(ms)::numeric, 4) AS sd,
         bool_and(ms >= 0) AS all_ok, sum(ms) FILTER (WHERE ms > 10) AS slow_total,
         max(ts) AS last_seen, count(*) * 2 AS doubled, upper(url) AS shout
    FROM clicks GROUP BY url HAVING count(*) > 1 $$);
SELECT * FROM click_stats ORDER BY url;
SELECT streamext.create_view('click_total', $$ SELECT count(*) AS n, sum(ms) AS total, avg(user_id) AS avg_user FROM clicks $$);
SELECT * FROM click_total;

INSERT INTO clicks (url, user_id, ms, ts)
  SELECT '/p' || (i % 7), i, i % 500, '2026-01-01 11:00:00+00'::timestamptz + i * interval '1 second'
    FROM generate_series(1, 5000) i;
-- a rolled-back transaction never counts
BEGIN;
INSERT INTO clicks (url, ms, ts) VALUES ('/rolled-back', 1, '2026-01-01 11:00:00+00');
ROLLBACK;
SELECT streamext.wait_caught_up();

-- the oracle: each view equals the same GROUP BY over the stream
(SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS ws, url, count(*), avg(ms), max(ms)
   FROM clicks WHERE ms >= 0 GROUP BY 1, 2)
EXCEPT ALL
(SELECT window_start, url, hits, avg_ms, worst FROM clicks_per_minute);
(SELECT window_start, url, hits, avg_ms, worst FROM clicks_per_minute)
EXCEPT ALL
(SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS ws, url, count(*), avg(ms), max(ms)
   FROM clicks WHERE ms >= 0 GROUP BY 1, 2);
SELECT (SELECT count(*) FROM clicks_per_minute) AS view_rows,
       (SELECT count(DISTINCT (date_bin('1 minute', ts, '2000-01-01 00:00+00'), url)) FROM clicks WHERE ms >= 0) AS oracle_rows;
(SELECT url, count(*), count(ms), sum(ms), avg(ms)::numeric(10,2), min(ms), max(ms), round(stddev(ms)::numeric, 4),
        bool_and(ms >= 0), sum(ms) FILTER (WHERE ms > 10), max(ts), count(*) * 2, upper(url)
   FROM clicks GROUP BY url HAVING count(*) > 1)
EXCEPT ALL SELECT * FROM click_stats;
-- NULL group keys form one group, as in GROUP BY
SELECT streamext.create_view('by_user', $$ SELECT user_id, count(*) AS n FROM clicks GROUP BY user_id $$);
(SELECT user_id, count(*) FROM clicks GROUP BY user_id) EXCEPT ALL SELECT * FROM by_user;
SELECT (SELECT count(*) FROM by_user) AS view_rows, (SELECT count(DISTINCT user_id) + 1 FROM clicks) AS oracle_rows,
       (SELECT n FROM by_user WHERE user_id IS NULL) = (SELECT count(*) FROM clicks WHERE user_id IS NULL) AS null_group_ok;
SELECT streamext.drop_view('by_user');

-- functions called with default arguments (make_interval has seven)
SELECT streamext.create_view('recent_ok', $$ SELECT url, count(*) FILTER (WHERE (ts AT TIME ZONE 'UTC') + make_interval(secs => 1) > (ts AT TIME ZONE 'UTC')) AS n FROM clicks GROUP BY url $$);
INSERT INTO clicks (url, ms, ts) VALUES ('/p1', 7, '2026-01-01 12:00:01+00');
SELECT streamext.wait_caught_up();
(SELECT url, count(*) FROM clicks GROUP BY url) EXCEPT ALL SELECT * FROM recent_ok;
SELECT streamext.drop_view('recent_ok');
SELECT (SELECT count(*) FROM click_stats) =
       (SELECT count(*) FROM (SELECT url FROM clicks GROUP BY url HAVING count(*) > 1) s) AS same_rows;
SELECT n = (SELECT count(*) FROM clicks) AS n_ok, total = (SELECT sum(ms) FROM clicks) AS total_ok,
       avg_user = (SELECT avg(user_id) FROM clicks) AS avg_ok
  FROM click_total;

-- ordinary views: \d, WHERE, joins, GRANT
\d clicks_per_minute
SELECT url, hits FROM clicks_per_minute WHERE window_start = '2026-01-01 10:00:00+00' ORDER BY url;
CREATE ROLE streamext_reader;
GRANT SELECT ON click_total TO streamext_reader;
SET ROLE streamext_reader;
SELECT n > 0 AS reader_sees_rows FROM click_total;
SELECT count(*) FROM clicks_per_minute;   -- no grant: refused
SELECT * FROM streamext.read_view(1) AS t(window_start timestamptz, window_end timestamptz,
  url text, hits bigint, avg_ms numeric, worst int);   -- nor around the view
RESET ROLE;
REVOKE SELECT ON click_total FROM streamext_reader;
DROP ROLE streamext_reader;

-- an aggregate defined by the user works like a built-in one
CREATE AGGREGATE isum(int4) (sfunc = int4pl, stype = int4, combinefunc = int4pl, initcond = '0');
SELECT streamext.create_view('click_isum', $$ SELECT url, isum(ms) AS s FROM clicks WHERE ms IS NOT NULL GROUP BY url $$);
INSERT INTO clicks (url, ms, ts) VALUES ('/p1', 5, '2026-01-01 12:00:00+00');
SELECT streamext.wait_caught_up();
(SELECT url, sum(ms)::int4 FROM clicks WHERE ms IS NOT NULL GROUP BY url) EXCEPT ALL SELECT * FROM click_isum;
SELECT count(*) > 0 AS has_rows FROM click_isum;
SELECT streamext.drop_view('click_isum');

SELECT name, stream, "window", events > 0 AS applied FROM streamext.views ORDER BY id;

-- lateness: a window stays open until the greatest event time is that far
-- past its end; late events within it count normally, later ones correct
-- the closed window and count as late
CREATE FUNCTION wait_for_open_windows(view_name text, n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  got bigint;
BEGIN
  FOR i IN 1..600 LOOP
    SELECT open_windows INTO got FROM streamext.views WHERE name = view_name;
    EXIT WHEN got = n;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN got;
END $$;
CREATE TABLE late (k text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('late', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('late_minutes', $$ SELECT k, count(*) AS n FROM late GROUP BY k $$,
                             'tumbling 1 minute', lateness => '30 seconds');
INSERT INTO late VALUES ('a', '2026-01-01 10:00:10+00'), ('a', '2026-01-01 10:01:20+00');
INSERT INTO late VALUES ('a', '2026-01-01 10:00:40+00');   -- 40 s behind: within lateness
SELECT streamext.wait_caught_up();
SELECT wait_for_open_windows('late_minutes', 2);           -- 10:00 is still open
SELECT * FROM late_minutes ORDER BY window_start, k;
INSERT INTO late VALUES ('b', '2026-01-01 10:01:31+00');   -- the watermark passes 10:01:00
SELECT streamext.wait_caught_up();
SELECT wait_for_open_windows('late_minutes', 1);           -- 10:00 closed
INSERT INTO late VALUES ('a', '2026-01-01 10:00:59+00');   -- beyond lateness: a correction
SELECT streamext.wait_caught_up();
SELECT * FROM late_minutes ORDER BY window_start, k;
SELECT "window", lateness, late_events FROM streamext.views WHERE name = 'late_minutes';
SELECT streamext.drop_view('late_minutes');
SELECT streamext.drop_stream('late');

-- an event time far ahead of its commit moves the watermark only up to
-- streamext.max_future (1 hour) past the commit: other windows stay open
CREATE TABLE ahead (k text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ahead', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('ahead_hours', $$ SELECT count(*) AS n FROM ahead $$, 'tumbling 1 hour');
INSERT INTO ahead VALUES ('soon', now() + interval '3 hours');
INSERT INTO ahead VALUES ('wrong clock', now() + interval '100 years');
SELECT streamext.wait_caught_up();
-- a checkpoint closes what the watermark passed: wait for one that covers the events
CREATE FUNCTION wait_for_checkpoint() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..600 LOOP
    IF (SELECT bool_and(checkpoint_lsn >= applied_lsn) FROM streamext.streams) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;
SELECT wait_for_checkpoint();
SELECT open_windows FROM streamext.views WHERE name = 'ahead_hours';
SELECT count(*), sum(n) FROM ahead_hours;
SELECT streamext.drop_view('ahead_hours');
SELECT streamext.drop_stream('ahead');
DROP TABLE late, ahead;
DROP FUNCTION wait_for_open_windows(text, bigint), wait_for_checkpoint();

-- drop_view removes the view, its closed windows and its state
SELECT streamext.drop_view('clicks_per_minute');
SELECT streamext.drop_view('click_stats');
SELECT name FROM streamext.views ORDER BY id;
SELECT count(*) FROM pg_class WHERE relname LIKE 'closed_%' AND relnamespace = 'streamext'::regnamespace;

-- the planner estimates a view's open rows from what the worker published
-- (read_view's support function), not PostgreSQL's 1,000 for any function
CREATE TABLE est (k int, v int);
SELECT streamext.create_stream('est');
SELECT streamext.create_view('est_by_k', $$ SELECT k, count(*) AS n FROM est GROUP BY k $$);
INSERT INTO est SELECT i % 5000, i FROM generate_series(1, 20000) i;
SELECT streamext.wait_caught_up();
CREATE FUNCTION est_rows(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (plan->0->'Plan'->>'Plan Rows')::float8;
END $$;
-- the worker publishes after it applied the insert: wait for the count
DO $$
BEGIN
  FOR i IN 1..600 LOOP
    EXIT WHEN (SELECT groups FROM streamext.views WHERE name = 'est_by_k') = 5000;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT est_rows('SELECT * FROM est_by_k') AS estimated, (SELECT count(*) FROM est_by_k) AS actual;
SELECT streamext.drop_view('est_by_k');
SELECT streamext.drop_stream('est');
DROP TABLE est;
DROP FUNCTION est_rows(text);
