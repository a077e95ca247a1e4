-- replace_view: a continuous view changed in place, against plain SQL over
-- its stream.  Window kinds and sizes, aggregates and columns added; the
-- same relation (its grants, comment and dependent views); column changes
-- that objects reading the view could not follow are refused, and so are
-- NULL arguments where they mean nothing and callers that do not own it.
SET timezone = 'UTC';

-- rv_diff compares a view with its plain-SQL oracle both ways
CREATE FUNCTION rv_diff(view regclass, oracle text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  missing bigint;
  extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s', view) INTO n;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL SELECT * FROM %s) x', oracle, view) INTO missing;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL (%s)) x', view, oracle) INTO extra;
  RETURN format('%s rows, %s missing, %s extra', n, missing, extra);
END $$;

-- per url, one event every 21 seconds: a gap of 10 seconds makes each a session
CREATE TABLE rv (url text NOT NULL, ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('rv', 'ts', idle_timeout => NULL);
INSERT INTO rv SELECT '/p' || (i % 3), i, '2026-01-01 10:00+00'::timestamptz + i * interval '7 seconds'
  FROM generate_series(1, 100) i;
SELECT streamext.create_view('rv_view', $$ SELECT url, count(*) AS hits FROM rv GROUP BY url $$,
  'tumbling 1 minute');
CREATE VIEW rv_busy AS SELECT window_start, url FROM rv_view WHERE hits > 1;
COMMENT ON VIEW rv_view IS 'clicks per window';
CREATE ROLE rv_reader;
GRANT SELECT ON rv_view TO rv_reader;
SELECT 'rv_view'::regclass::oid AS rv_oid, id AS rv_id FROM streamext.views WHERE name = 'rv_view' \gset
SELECT streamext.wait_caught_up();
SELECT rv_diff('rv_view', $$ SELECT date_bin('1 minute', ts, '2000-01-01'), date_bin('1 minute', ts, '2000-01-01') + interval '1 minute',
                                    url, count(*) FROM rv GROUP BY 1, 2, 3 $$);

-- tumbling -> hopping, with a column added after the others
SELECT streamext.replace_view('rv_view',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total FROM rv GROUP BY url $$,
  'hopping 2 minutes every 1 minute');
INSERT INTO rv SELECT '/p' || (i % 3), i, '2026-01-01 10:00+00'::timestamptz + i * interval '7 seconds'
  FROM generate_series(101, 130) i;
SELECT streamext.wait_caught_up();
SELECT rv_diff('rv_view', $$ SELECT w, w + interval '2 minutes', url, count(*), sum(ms) FROM rv,
                                    generate_series(date_bin('1 minute', ts, '2000-01-01') - interval '1 minute',
                                                    date_bin('1 minute', ts, '2000-01-01'), interval '1 minute') w
                              GROUP BY 1, 2, 3 $$);

-- the same relation: its OID, comment, grants and dependent view
SELECT 'rv_view'::regclass::oid = :rv_oid AS same_relation,
       obj_description('rv_view'::regclass) AS comment,
       has_table_privilege('rv_reader', 'rv_view', 'SELECT') AS reader_may_read;
SELECT count(*) > 0 AS dependent_view_reads FROM rv_busy;
-- the new closed windows' table has the old one's name
SELECT to_regclass(format('streamext.closed_%s', :rv_id)) = closed_relid AS closed_named_as_before
  FROM streamext.view_def WHERE id = :rv_id;
SELECT "window", lateness, query FROM streamext.views WHERE name = 'rv_view';

-- another size, and a lateness: tumbling 5 minutes
SELECT streamext.replace_view('rv_view',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total FROM rv GROUP BY url $$,
  'tumbling 5 minutes', lateness => '1 minute');
INSERT INTO rv SELECT '/p' || (i % 3), i, '2026-01-01 10:00+00'::timestamptz + i * interval '7 seconds'
  FROM generate_series(131, 160) i;
SELECT streamext.wait_caught_up();
SELECT rv_diff('rv_view', $$ SELECT date_bin('5 minutes', ts, '2000-01-01'), date_bin('5 minutes', ts, '2000-01-01') + interval '5 minutes',
                                    url, count(*), sum(ms) FROM rv GROUP BY 1, 2, 3 $$);

-- sessions, with aggregates changed and one more column
SELECT streamext.replace_view('rv_view',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total, max(ms) AS worst FROM rv WHERE ms % 5 <> 0 GROUP BY url $$,
  'session 10 seconds');
INSERT INTO rv SELECT '/p' || (i % 3), i, '2026-01-01 10:00+00'::timestamptz + i * interval '7 seconds'
  FROM generate_series(161, 190) i;
SELECT streamext.wait_caught_up();
SELECT rv_diff('rv_view', $$ SELECT ts, ts + interval '10 seconds', url, count(*), sum(ms), max(ms) FROM rv
                              WHERE ms % 5 <> 0 GROUP BY 1, 2, 3 $$);
SELECT count(*) AS rows_read_by_the_dependent_view FROM rv_busy;

-- a view without a window: other aggregates, another WHERE
SELECT streamext.create_view('rv_total', $$ SELECT count(*) AS n FROM rv $$);
SELECT streamext.replace_view('rv_total',
  $$ SELECT count(*) AS n, sum(ms) AS s, avg(ms) AS mean FROM rv WHERE url <> '/p0' $$, NULL);
INSERT INTO rv VALUES ('/p1', 1000, '2026-01-01 11:00+00'), ('/p0', 2000, '2026-01-01 11:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM rv_total;
SELECT count(*), sum(ms), avg(ms) FROM rv WHERE url <> '/p0';

-- columns the view's relation cannot take: removed, renamed, moved, retyped,
-- and the window's columns gone
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS n, sum(ms) AS s FROM rv $$);
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS events, sum(ms) AS s, avg(ms) AS mean FROM rv $$);
SELECT streamext.replace_view('rv_total', $$ SELECT sum(ms) AS s, count(*) AS n, avg(ms) AS mean FROM rv $$);
SELECT streamext.replace_view('rv_total', $$ SELECT count(*)::int AS n, sum(ms) AS s, avg(ms) AS mean FROM rv $$);
SELECT streamext.replace_view('rv_view', $$ SELECT url, count(*) AS hits, sum(ms) AS total, max(ms) AS worst FROM rv GROUP BY url $$);
-- refused: the view is as it was
SELECT rv_diff('rv_view', $$ SELECT ts, ts + interval '10 seconds', url, count(*), sum(ms), max(ms) FROM rv
                              WHERE ms % 5 <> 0 GROUP BY 1, 2, 3 $$);

-- what create_view refuses, replace_view refuses
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS n FROM rv_busy $$);
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS n, sum(ms) AS s, avg(ms) AS mean, now() AS at FROM rv $$);
SELECT streamext.replace_view('rv_view', $$ SELECT url, count(*) AS hits, sum(ms) AS total, max(ms) AS worst FROM rv GROUP BY url $$,
  'tumbling 1 minute', lateness => '-1 second');

-- a subscription that takes every change cannot follow a hopping window
SELECT streamext.create_subscription('rv_changes', 'rv_view', emit => 'changes', notify => 'none');
SELECT streamext.replace_view('rv_view', $$ SELECT url, count(*) AS hits, sum(ms) AS total, max(ms) AS worst FROM rv GROUP BY url $$,
  'hopping 2 minutes every 1 minute');
-- a tumbling window it can
SELECT streamext.replace_view('rv_view', $$ SELECT url, count(*) AS hits, sum(ms) AS total, max(ms) AS worst FROM rv GROUP BY url $$,
  'tumbling 1 minute');
SELECT name, source, emit FROM streamext.subscriptions WHERE name = 'rv_changes';
SELECT streamext.drop_subscription('rv_changes');

-- NULL where it means nothing
SELECT streamext.replace_view(NULL, $$ SELECT count(*) AS n FROM rv $$);
SELECT streamext.replace_view('rv_total', NULL);
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS n, sum(ms) AS s, avg(ms) AS mean FROM rv $$, NULL, NULL);
SELECT streamext.replace_view('no_such_view', $$ SELECT count(*) AS n FROM rv $$);

-- only the owner of the view, and of the stream it reads
CREATE ROLE rv_stranger;
GRANT CREATE ON SCHEMA public TO rv_stranger;
SET ROLE rv_stranger;
SELECT streamext.replace_view('rv_total', $$ SELECT count(*) AS n, sum(ms) AS s, avg(ms) AS mean FROM rv $$);
CREATE TABLE rv_own (ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('rv_own', 'ts');
SELECT streamext.create_view('rv_own_total', $$ SELECT count(*) AS n FROM rv_own $$);
SELECT streamext.replace_view('rv_own_total', $$ SELECT count(*) AS n FROM rv $$);
SELECT streamext.replace_view('rv_own_total', $$ SELECT count(*) AS n, max(ms) AS worst FROM rv_own $$);
INSERT INTO rv_own VALUES (5, now()), (7, now());
SELECT streamext.wait_caught_up();
SELECT * FROM rv_own_total;
SELECT streamext.drop_view('rv_own_total');
SELECT streamext.drop_stream('rv_own');
DROP TABLE rv_own;
RESET ROLE;

-- a session view cut into fixed windows or shorter sessions: the windows
-- holding only events of closed sessions (delivered) close unsent, and
-- those after the first session still open are sent, whatever retention
-- left of the closed rows.  rv_sess_kept: retention took the closed rows
-- (every window was sent again); rv_sess_open: key 2's session is open
-- from 00:00 while key 1's closed ones end at 00:42 (key 2's windows up
-- to there were never sent)
CREATE TABLE rv_sess (ts timestamptz NOT NULL, k int);
SELECT streamext.create_stream('rv_sess', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('rv_sess_kept', $$ SELECT k, count(*) AS n FROM rv_sess WHERE k <> 2 GROUP BY k $$,
  'session 10 seconds', retention => '1 second');
SELECT streamext.create_view('rv_sess_open', $$ SELECT k, count(*) AS n FROM rv_sess GROUP BY k $$,
  'session 10 seconds');
SELECT streamext.create_subscription('rv_sub_kept', 'rv_sess_kept', notify => 'none');
SELECT streamext.create_subscription('rv_sub_open', 'rv_sess_open', notify => 'none');
INSERT INTO rv_sess SELECT '2026-01-01 00:00+00'::timestamptz + i * interval '1 second', 1
  FROM generate_series(0, 2) i;
INSERT INTO rv_sess SELECT '2026-01-01 00:00:30+00'::timestamptz + i * interval '1 second', 1
  FROM generate_series(0, 2) i;
INSERT INTO rv_sess SELECT '2026-01-01 00:00+00'::timestamptz + i * interval '5 seconds', 2
  FROM generate_series(0, 12) i;
INSERT INTO rv_sess VALUES ('2026-01-01 00:01+00', 3);
-- waits (at most 30 s) until sub has want entries of key, and lists them all
CREATE FUNCTION rv_entries(sub text, key text, want int) RETURNS TABLE (ws text, we text, k text, n text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM streamext.wait_caught_up();
  FOR i IN 1..600 LOOP
    EXIT WHEN (SELECT count(*) FROM streamext.subscription_queue q JOIN streamext.subscription_def d
                 ON d.id = q.subscription_id WHERE d.name = sub AND q.event->>'k' = key) >= want;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN QUERY SELECT to_char((q.event->>'window_start')::timestamptz, 'MI:SS'),
                      to_char((q.event->>'window_end')::timestamptz, 'MI:SS'), q.event->>'k', q.event->>'n'
    FROM streamext.subscription_queue q JOIN streamext.subscription_def d ON d.id = q.subscription_id
   WHERE d.name = sub ORDER BY 1, 2, 3;
END $$;
SELECT * FROM rv_entries('rv_sub_kept', '1', 2);
SELECT * FROM rv_entries('rv_sub_open', '1', 2);
SELECT count(*) AS kept_closed_rows FROM rv_sess_kept WHERE window_end < '2026-01-01 00:01+00';
SELECT streamext.replace_view('rv_sess_kept', $$ SELECT k, count(*) AS n FROM rv_sess WHERE k <> 2 GROUP BY k $$,
  'session 5 seconds', retention => '1 second');
SELECT streamext.replace_view('rv_sess_open', $$ SELECT k, count(*) AS n FROM rv_sess GROUP BY k $$,
  'tumbling 20 seconds');
INSERT INTO rv_sess VALUES ('2026-01-01 00:05+00', 4);
SELECT * FROM rv_entries('rv_sub_kept', '3', 1);
SELECT * FROM rv_entries('rv_sub_open', '3', 1);
SELECT streamext.drop_subscription('rv_sub_kept');
SELECT streamext.drop_subscription('rv_sub_open');
SELECT streamext.drop_view('rv_sess_kept');
SELECT streamext.drop_view('rv_sess_open');
SELECT streamext.drop_stream('rv_sess');
DROP TABLE rv_sess;
DROP FUNCTION rv_entries(text, text, int);

SELECT streamext.drop_view('rv_total');
DROP VIEW rv_busy;
SELECT streamext.drop_view('rv_view');
SELECT count(*) AS closed_tables_left FROM pg_class
 WHERE relname LIKE format('closed\_%s%%', :rv_id) AND relnamespace = 'streamext'::regnamespace;
SELECT streamext.drop_stream('rv');
DROP TABLE rv;
DROP FUNCTION rv_diff(regclass, text);
REVOKE CREATE ON SCHEMA public FROM rv_stranger;
DROP ROLE rv_stranger;
DROP ROLE rv_reader;
