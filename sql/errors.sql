-- every wrong call ends in an error that names what is wrong, and changes nothing
SET timezone = 'UTC';
\set VERBOSITY default
CREATE TABLE plain (id int, v int, ts timestamptz);
CREATE TABLE other (id int, v int);
CREATE TABLE nullable_ts (v int, ts timestamptz);
CREATE TABLE text_ts (v int, ts text NOT NULL);
CREATE TABLE s2 (v int, k text, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('s2', 'ts');

-- streams
SELECT streamext.create_stream('no_such_table');
SELECT streamext.create_stream('clicks');
SELECT streamext.create_stream('plain', 'nope');
SELECT streamext.create_stream('nullable_ts', 'ts');
SELECT streamext.create_stream('text_ts', 'ts');
CREATE VIEW a_view AS SELECT 1 AS x;
SELECT streamext.create_stream('a_view');
SELECT streamext.drop_stream('plain');
SELECT streamext.drop_stream('clicks');   -- still has click_total

-- views: what the query may not be
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM plain $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks, s2 $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks JOIN s2 ON true $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM (SELECT * FROM clicks) c $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks WHERE ms > (SELECT 1) $$);
SELECT streamext.create_view('v1', $$ SELECT DISTINCT url FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT url, count(*) FROM clicks GROUP BY url ORDER BY 2 $$);
SELECT streamext.create_view('v1', $$ SELECT url, count(*) FROM clicks GROUP BY url LIMIT 3 $$);
SELECT streamext.create_view('v1', $$ SELECT url, rank() OVER () FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks WHERE random() > 0.5 $$);
SELECT streamext.create_view('v1', $$ SELECT string_agg(url, ',') FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT array_agg(ms) FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT string_agg(DISTINCT url, ',') FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT array_agg(url ORDER BY ms) FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT url FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks UNION SELECT count(*) FROM s2 $$);
SELECT streamext.create_view('v1', $$ WITH c AS (SELECT * FROM clicks) SELECT count(*) FROM c $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks GROUP BY ROLLUP (url) $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks; SELECT 1 $$);
SELECT streamext.create_view('v1', $$ INSERT INTO clicks (url) VALUES ('x') $$);
SELECT streamext.create_view('v1', $$ SELECT count(* FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT nosuchcol, count(*) FROM clicks GROUP BY 1 $$);
SELECT streamext.create_view('v1', $$ SELECT count(*) AS window_start FROM clicks $$, 'tumbling 1 minute');
SELECT streamext.create_view('v1', $$ SELECT count(*) AS a, sum(ms) AS a FROM clicks $$);
SELECT streamext.create_view('v1', $$ SELECT ms::money, count(*) FROM clicks GROUP BY 1 $$);

-- windows
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling banana');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 0 seconds');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling -1 minute');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 month 2 days');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'rolling 1 minute');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'hopping 10 minutes');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'hopping 10 minutes every 3 minutes');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'hopping 10 minutes every 0 minutes');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'hopping 10 minutes every -1 minute');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'hopping 1 minute every 2 minutes');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'cumulate 1 day every 7 hours');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'cumulate 1 month every 7 days');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'sliding 7 microseconds');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'sliding 1 minute step 7 seconds');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'session');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'session NULL');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'session 0 seconds');
-- retention
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 minute', retention => '-1 day');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 minute', retention => '1 month');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, retention => '1 day');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'sliding 1 minute', retention => '1 day');
SELECT streamext.set_view_retention('no_such_view', '1 day');

-- names
SELECT streamext.create_view('click_total', $$ SELECT count(*) FROM clicks $$);
SELECT streamext.create_view('plain', $$ SELECT count(*) FROM clicks $$);
SELECT streamext.drop_view('no_such_view');

-- ownership
CREATE ROLE streamext_stranger;
SET ROLE streamext_stranger;
SELECT streamext.create_view('v_stranger', $$ SELECT count(*) FROM s2 $$);
SELECT streamext.create_stream('other');
RESET ROLE;
DROP ROLE streamext_stranger;

-- lateness: zero or positive, on windows, over event time
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 minute', lateness => '-1 second');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 minute', lateness => '1 month');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, lateness => '5 seconds');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM clicks $$, 'tumbling 1 minute', lateness => NULL);
CREATE TABLE untimed (v int);
SELECT streamext.create_stream('untimed');
SELECT streamext.create_view('v1', $$ SELECT count(*) FROM untimed $$, 'tumbling 1 minute', lateness => '5 seconds');
-- idle_timeout: zero or more, on a stream with a time column (none kept
-- for one without)
SELECT idle_timeout FROM streamext.streams WHERE stream = 'untimed'::regclass;
SELECT streamext.set_stream_idle_timeout('untimed', '5 seconds');
SELECT streamext.set_stream_idle_timeout('s2', '-1 second');
SELECT streamext.set_stream_idle_timeout('s2', '1 month');
SELECT streamext.drop_stream('untimed');
DROP TABLE untimed;

-- a stream with views cannot be dropped from under them
DROP TABLE clicks;

-- nothing was created or changed by the calls above
SELECT name FROM streamext.views ORDER BY id;
SELECT stream FROM streamext.streams ORDER BY stream::text;
SELECT count(*) FROM pg_class WHERE relname IN ('v1', 'v_stranger');

-- a view whose functions fail when the worker publishes it (a sliding
-- view's panes combined by a combine function that raises): the worker
-- goes on with the other views, readers of that one get why
CREATE FUNCTION boom_combine(int8, int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN IF $1 + $2 > 5 THEN RAISE EXCEPTION 'boom'; END IF; RETURN $1 + $2; END $$;
CREATE AGGREGATE boom_sum(int8) (sfunc = int8pl, stype = int8, combinefunc = boom_combine, initcond = '0');
CREATE TABLE booms (v int8, ts timestamptz NOT NULL);
SELECT streamext.create_stream('booms', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('boom_slide', $$ SELECT boom_sum(v) AS s FROM booms $$, "window" => 'sliding 10 seconds step 1 second');
SELECT streamext.create_view('boom_count', $$ SELECT count(*) AS n FROM booms $$);
-- one commit: which panes the worker combines itself, and which a reader
-- does, depends on where its publishes fall between the events
INSERT INTO booms VALUES (3, '2026-01-01 00:00:01'), (3, '2026-01-01 00:00:02'),
                         (1, '2026-01-01 00:00:05');
SELECT streamext.wait_caught_up();
SELECT * FROM boom_slide;
SELECT * FROM boom_count;
SELECT worker_restarts, last_error FROM streamext.streams WHERE stream = 'booms'::regclass;
SELECT streamext.drop_view('boom_slide');
SELECT streamext.drop_view('boom_count');
SELECT streamext.drop_stream('booms');
DROP TABLE booms;
DROP AGGREGATE boom_sum(int8);
DROP FUNCTION boom_combine(int8, int8);

-- a closed-window table someone gave a constraint its rows break: the
-- group is set aside (a dead letter of the view), nothing else stops
CREATE TABLE checked (k int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('checked', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('checked_min', $$ SELECT k, count(*) AS n FROM checked GROUP BY k $$, "window" => 'tumbling 1 minute');
DO $$
BEGIN
  EXECUTE format('ALTER TABLE %s ADD CONSTRAINT small_n CHECK (n < 2)',
                 (SELECT closed_relid::regclass FROM streamext.view_def WHERE name = 'checked_min'));
END $$;
INSERT INTO checked VALUES (1, '2026-01-01 00:00:01'), (1, '2026-01-01 00:00:02'), (2, '2026-01-01 00:00:03');
INSERT INTO checked VALUES (1, '2026-01-01 00:05:00');
SELECT streamext.wait_caught_up();
-- the window closes right after (wait_caught_up does not wait for that)
DO $$
BEGIN
  FOR i IN 1 .. 100 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM streamext.views WHERE name = 'checked_min' AND dead_letters > 0);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT * FROM checked_min ORDER BY window_start, k;
SELECT d.sqlstate, d.message LIKE '%violates check constraint "small_n"' AS check_failed
  FROM streamext.dead_letters d JOIN streamext.views v ON v.id = d.view_id
 WHERE v.name = 'checked_min';
SELECT worker_restarts FROM streamext.streams WHERE stream = 'checked'::regclass;
SELECT streamext.drop_view('checked_min');
SELECT streamext.drop_stream('checked');
DROP TABLE checked;
-- a relation that is no longer there is named by its OID, not "(null)"
SELECT streamext.publish_partials(0);
