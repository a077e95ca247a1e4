-- Views on views: a continuous view reading another's closed windows,
-- checked against plain SQL over the base stream, through late corrections,
-- a rebuild of the lower view, and the refusals.
SET timezone = 'UTC';
CREATE FUNCTION vv_diff(view_sql text, plain_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE missing bigint; extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d', plain_sql, view_sql) INTO missing;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d', view_sql, plain_sql) INTO extra;
  RETURN format('missing %s, extra %s', missing, extra);
END $$;
-- waits (at most 60 s) until the view equals plain SQL
CREATE FUNCTION vv_wait(view_sql text, plain_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM streamext.wait_caught_up();
  FOR i IN 1..1200 LOOP
    EXIT WHEN vv_diff(view_sql, plain_sql) = 'missing 0, extra 0';
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN vv_diff(view_sql, plain_sql);
END $$;

CREATE TABLE vv_clicks (ts timestamptz NOT NULL, url text NOT NULL, ms int);
SELECT streamext.create_stream('vv_clicks', time_column => 'ts', idle_timeout => '1 second');
-- three hours of history, every 7 seconds, on four pages of two sites
INSERT INTO vv_clicks
SELECT '2026-03-01 09:00+00'::timestamptz + i * interval '7 seconds',
       (ARRAY['a/1', 'a/2', 'b/1', 'b/2'])[1 + i % 4], (i * 37) % 1000
  FROM generate_series(0, 1542) i;

SELECT streamext.create_view('vv_per_minute',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total_ms, max(ms) AS max_ms FROM vv_clicks GROUP BY url $$,
  "window" => 'tumbling 1 minute', lateness => '10 seconds');
-- per minute into per hour, and per page into per site
SELECT streamext.create_view('vv_per_hour',
  $$ SELECT url, sum(hits) AS hits, sum(total_ms) AS total_ms, max(max_ms) AS max_ms
       FROM vv_per_minute GROUP BY url $$,
  "window" => 'tumbling 1 hour');
SELECT streamext.create_view('vv_site_10min',
  $$ SELECT split_part(url, '/', 1) AS site, sum(hits) AS hits, count(*) AS busy_minutes
       FROM vv_per_minute WHERE hits > 1 GROUP BY 1 $$,
  "window" => 'tumbling 10 minutes');
-- three levels: a view on a view on a view
SELECT streamext.create_view('vv_per_day',
  $$ SELECT sum(hits) AS hits, max(max_ms) AS max_ms FROM vv_per_hour $$,
  "window" => 'tumbling 1 day');
-- over overlapping windows: each 5-minute window counts once per hour of its start
SELECT streamext.create_view('vv_hop', $$ SELECT count(*) AS hits FROM vv_clicks $$,
  "window" => 'hopping 5 minutes every 1 minute');
SELECT streamext.create_view('vv_hop_hour', $$ SELECT sum(hits) AS hits, count(*) AS windows FROM vv_hop $$,
  "window" => 'tumbling 1 hour');

-- every window kind but sessions above a view: hopping, cumulating, none
SELECT streamext.create_view('vv_hop_upper',
  $$ SELECT url, sum(hits) AS hits, count(*) AS minutes FROM vv_per_minute GROUP BY url $$,
  "window" => 'hopping 1 hour every 30 minutes');
SELECT streamext.create_view('vv_cumulate_upper',
  $$ SELECT sum(hits) AS hits, max(max_ms) AS max_ms FROM vv_per_minute $$,
  "window" => 'cumulate 1 day every 1 hour');
SELECT streamext.create_view('vv_all_time',
  $$ SELECT url, sum(hits) AS hits, count(*) AS minutes FROM vv_per_minute GROUP BY url $$);

-- the plain SQL each view must equal once the stream's windows are closed
CREATE VIEW vv_plain_minute AS
  SELECT date_bin('1 minute', ts, '2000-01-01') AS ws, url, count(*) AS hits, sum(ms) AS total_ms, max(ms) AS max_ms
    FROM vv_clicks GROUP BY 1, 2;
SELECT vv_wait($$ SELECT window_start, url, hits, total_ms, max_ms FROM vv_per_hour $$,
  $$ SELECT date_trunc('hour', ws), url, sum(hits), sum(total_ms), max(max_ms) FROM vv_plain_minute GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, site, hits, busy_minutes FROM vv_site_10min $$,
  $$ SELECT date_bin('10 minutes', ws, '2000-01-01'), split_part(url, '/', 1), sum(hits), count(*)
       FROM vv_plain_minute WHERE hits > 1 GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, hits, max_ms FROM vv_per_day $$,
  $$ SELECT date_trunc('day', ts), count(*)::numeric, max(ms) FROM vv_clicks GROUP BY 1 $$);
SELECT vv_wait($$ SELECT window_start, hits, windows FROM vv_hop_hour $$,
  $$ SELECT date_trunc('hour', s), sum(n), count(*)
       FROM (SELECT s, count(*) AS n FROM vv_clicks,
               generate_series(date_bin('1 minute', ts, '2000-01-01') - interval '4 minutes',
                               date_bin('1 minute', ts, '2000-01-01'), interval '1 minute') s
              GROUP BY s) w GROUP BY 1 $$);
SELECT vv_wait($$ SELECT window_start, window_end, url, hits, minutes FROM vv_hop_upper $$,
  $$ SELECT w, w + interval '1 hour', url, sum(hits), count(*) FROM vv_plain_minute,
            generate_series(date_bin('30 minutes', ws, '2000-01-01') - interval '30 minutes',
                            date_bin('30 minutes', ws, '2000-01-01'), interval '30 minutes') w
      GROUP BY 1, 2, 3 $$);
SELECT vv_wait($$ SELECT window_start, window_end, hits, max_ms FROM vv_cumulate_upper $$,
  $$ SELECT date_trunc('day', ws), date_trunc('day', ws) + k * interval '1 hour', sum(hits), max(max_ms)
       FROM vv_plain_minute, generate_series(1, 24) k
      WHERE date_trunc('day', ws) + k * interval '1 hour' > ws GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT url, hits, minutes FROM vv_all_time $$,
  $$ SELECT url, sum(hits), count(*) FROM vv_plain_minute GROUP BY url $$);
SELECT window_start, url, hits, max_ms FROM vv_per_hour ORDER BY 1, 2;
SELECT * FROM vv_per_day;

-- late events correct closed minutes; the corrections flow up every level
INSERT INTO vv_clicks VALUES ('2026-03-01 09:30:01+00', 'a/1', 5000),
  ('2026-03-01 10:59:59+00', 'c/1', 1), ('2026-03-01 13:15:00+00', 'b/2', 2);
SELECT vv_wait($$ SELECT window_start, url, hits, total_ms, max_ms FROM vv_per_hour $$,
  $$ SELECT date_trunc('hour', ws), url, sum(hits), sum(total_ms), max(max_ms) FROM vv_plain_minute GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, hits, max_ms FROM vv_per_day $$,
  $$ SELECT date_trunc('day', ts), count(*)::numeric, max(ms) FROM vv_clicks GROUP BY 1 $$);
SELECT vv_wait($$ SELECT window_start, site, hits, busy_minutes FROM vv_site_10min $$,
  $$ SELECT date_bin('10 minutes', ws, '2000-01-01'), split_part(url, '/', 1), sum(hits), count(*)
       FROM vv_plain_minute WHERE hits > 1 GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, window_end, url, hits, minutes FROM vv_hop_upper $$,
  $$ SELECT w, w + interval '1 hour', url, sum(hits), count(*) FROM vv_plain_minute,
            generate_series(date_bin('30 minutes', ws, '2000-01-01') - interval '30 minutes',
                            date_bin('30 minutes', ws, '2000-01-01'), interval '30 minutes') w
      GROUP BY 1, 2, 3 $$);
SELECT vv_wait($$ SELECT window_start, window_end, hits, max_ms FROM vv_cumulate_upper $$,
  $$ SELECT date_trunc('day', ws), date_trunc('day', ws) + k * interval '1 hour', sum(hits), max(max_ms)
       FROM vv_plain_minute, generate_series(1, 24) k
      WHERE date_trunc('day', ws) + k * interval '1 hour' > ws GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT url, hits, minutes FROM vv_all_time $$,
  $$ SELECT url, sum(hits), count(*) FROM vv_plain_minute GROUP BY url $$);
SELECT window_start, url, hits, max_ms FROM vv_per_hour
 WHERE url IN ('a/1', 'c/1') OR window_start = '2026-03-01 13:00+00' ORDER BY 1, 2;
SELECT * FROM vv_per_day;

-- a rebuild of the lower view computes the views on it again
SELECT streamext.rebuild_view('vv_per_minute');
SELECT vv_wait($$ SELECT window_start, url, hits, total_ms, max_ms FROM vv_per_hour $$,
  $$ SELECT date_trunc('hour', ws), url, sum(hits), sum(total_ms), max(max_ms) FROM vv_plain_minute GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, hits, max_ms FROM vv_per_day $$,
  $$ SELECT date_trunc('day', ts), count(*)::numeric, max(ms) FROM vv_clicks GROUP BY 1 $$);

SELECT vv_wait($$ SELECT window_start, window_end, url, hits, minutes FROM vv_hop_upper $$,
  $$ SELECT w, w + interval '1 hour', url, sum(hits), count(*) FROM vv_plain_minute,
            generate_series(date_bin('30 minutes', ws, '2000-01-01') - interval '30 minutes',
                            date_bin('30 minutes', ws, '2000-01-01'), interval '30 minutes') w
      GROUP BY 1, 2, 3 $$);
SELECT vv_wait($$ SELECT window_start, window_end, hits, max_ms FROM vv_cumulate_upper $$,
  $$ SELECT date_trunc('day', ws), date_trunc('day', ws) + k * interval '1 hour', sum(hits), max(max_ms)
       FROM vv_plain_minute, generate_series(1, 24) k
      WHERE date_trunc('day', ws) + k * interval '1 hour' > ws GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT url, hits, minutes FROM vv_all_time $$,
  $$ SELECT url, sum(hits), count(*) FROM vv_plain_minute GROUP BY url $$);
-- replace_view of the lower view (a column more, another lateness): the
-- views on it are computed again from its new closed windows
SELECT streamext.replace_view('vv_per_minute',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total_ms, max(ms) AS max_ms, min(ms) AS min_ms
       FROM vv_clicks GROUP BY url $$,
  "window" => 'tumbling 1 minute', lateness => '20 seconds');
SELECT vv_wait($$ SELECT window_start, url, hits, total_ms, max_ms FROM vv_per_hour $$,
  $$ SELECT date_trunc('hour', ws), url, sum(hits), sum(total_ms), max(max_ms) FROM vv_plain_minute GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, hits, max_ms FROM vv_per_day $$,
  $$ SELECT date_trunc('day', ts), count(*)::numeric, max(ms) FROM vv_clicks GROUP BY 1 $$);
-- and of a view on a view, which reads the new column; the one on it follows
SELECT streamext.replace_view('vv_per_hour',
  $$ SELECT url, sum(hits) AS hits, sum(total_ms) AS total_ms, max(max_ms) AS max_ms,
            min(min_ms) AS min_ms FROM vv_per_minute GROUP BY url $$,
  "window" => 'tumbling 1 hour');
SELECT vv_wait($$ SELECT window_start, url, hits, total_ms, max_ms, min_ms FROM vv_per_hour $$,
  $$ SELECT date_trunc('hour', ts), url, count(*), sum(ms), max(ms), min(ms) FROM vv_clicks GROUP BY 1, 2 $$);
SELECT vv_wait($$ SELECT window_start, hits, max_ms FROM vv_per_day $$,
  $$ SELECT date_trunc('day', ts), count(*)::numeric, max(ms) FROM vv_clicks GROUP BY 1 $$);
-- a window the views on it cannot read, and a replacement by hand, are refused
SELECT streamext.replace_view('vv_per_minute',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total_ms, max(ms) AS max_ms, min(ms) AS min_ms
       FROM vv_clicks GROUP BY url $$,
  "window" => 'session 1 minute');
CREATE OR REPLACE VIEW vv_per_minute AS
  SELECT window_start, window_end, url, hits, total_ms, max_ms, min_ms, 1 AS x FROM vv_per_minute;
-- a view reading itself, or a view on it, is refused (it looped for ever)
SELECT streamext.replace_view('vv_per_day',
  $$ SELECT sum(hits) AS hits, max(max_ms) AS max_ms FROM vv_per_day $$, "window" => 'tumbling 1 day');
SELECT streamext.replace_view('vv_per_minute',
  $$ SELECT sum(hits) AS hits FROM vv_per_day $$, "window" => 'tumbling 1 week');

-- what a view on a view cannot be
SELECT streamext.create_view('vv_bad', $$ SELECT sum(hits) FROM vv_per_minute $$,
  "window" => 'session 5 minutes');
SELECT streamext.create_view('vv_bad', $$ SELECT sum(hits) FROM vv_per_minute $$,
  "window" => 'tumbling 1 hour', lateness => '1 minute');
SELECT streamext.create_view('vv_sessions', $$ SELECT count(*) AS n FROM vv_clicks $$,
  "window" => 'session 1 minute');
SELECT streamext.create_view('vv_bad', $$ SELECT sum(n) FROM vv_sessions $$, "window" => 'tumbling 1 hour');
SELECT streamext.create_view('vv_bad', $$ SELECT sum(hits) FROM vv_plain_minute $$, "window" => 'tumbling 1 hour');
-- the lower view stays while views read it (DROP VIEW: pg_depend)
SELECT streamext.drop_view('vv_per_minute');
DROP VIEW vv_per_minute;

-- a view on a hopping or cumulating view takes the lower windows that
-- start in a window of its own as soon as every lower window starting
-- before them has closed, not a slide later: pure event time, the watermark
-- at 00:00:06 closes the hopping windows up to [00:00:02, 00:00:06) and
-- the cumulating period [00:00:00, 00:00:04), which is all [00:00:00,
-- 00:00:04) of the views on them needs
CREATE TABLE vv_ticks (ts timestamptz NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('vv_ticks', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('vv_ticks_hop', $$ SELECT count(*) AS n, sum(v) AS s FROM vv_ticks $$,
                             "window" => 'hopping 4 seconds every 2 seconds');
SELECT streamext.create_view('vv_ticks_cum', $$ SELECT count(*) AS n, sum(v) AS s FROM vv_ticks $$,
                             "window" => 'cumulate 4 seconds every 2 seconds');
SELECT streamext.create_view('vv_ticks_hop_up', $$ SELECT sum(n) AS n, sum(s) AS s FROM vv_ticks_hop $$,
                             "window" => 'tumbling 4 seconds');
SELECT streamext.create_view('vv_ticks_cum_up', $$ SELECT sum(n) AS n, sum(s) AS s FROM vv_ticks_cum $$,
                             "window" => 'tumbling 4 seconds');
INSERT INTO vv_ticks SELECT '2026-03-01 00:00:00+00'::timestamptz + i * interval '500 ms', i
  FROM generate_series(0, 12) i;
DO $$ BEGIN
  PERFORM streamext.wait_caught_up();
  FOR i IN 1..600 LOOP
    EXIT WHEN (SELECT count(*) FROM streamext.view_progress p JOIN streamext.views v ON v.id = p.view_id
                WHERE v.name IN ('vv_ticks_hop', 'vv_ticks_cum') AND p.closed_upto >= '2026-03-01 00:00:06+00') = 2;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT v.name, p.closed_upto FROM streamext.view_progress p JOIN streamext.views v ON v.id = p.view_id
 WHERE v.name LIKE 'vv_ticks%' ORDER BY 1;
SELECT 'hop' AS lower, * FROM vv_ticks_hop_up WHERE window_start = '2026-03-01 00:00:00+00'
UNION ALL
SELECT 'cum', * FROM vv_ticks_cum_up WHERE window_start = '2026-03-01 00:00:00+00';
SELECT vv_diff($$ SELECT window_start, window_end, n, s FROM vv_ticks_hop_up WHERE window_end <= '2026-03-01 00:00:04+00' $$,
               $$ SELECT date_bin('4 seconds', window_start, '2000-01-01'), date_bin('4 seconds', window_start, '2000-01-01') + interval '4 seconds',
                         sum(n), sum(s) FROM vv_ticks_hop WHERE window_start < '2026-03-01 00:00:04+00' GROUP BY 1 $$) AS hop_upper;
SELECT streamext.drop_view('vv_ticks_hop_up');
SELECT streamext.drop_view('vv_ticks_cum_up');
SELECT streamext.drop_view('vv_ticks_hop');
SELECT streamext.drop_view('vv_ticks_cum');
SELECT streamext.drop_stream('vv_ticks');
DROP TABLE vv_ticks;

-- a late event makes the lower view a closed row its upper view's windows
-- cannot hold (4000 BC: within two 1,000-year windows of the start of the
-- range of timestamps): a dead letter of the upper view, with its values
-- as corrected; the worker restarted without end on it
CREATE TABLE vv_old (ts timestamptz NOT NULL, k int NOT NULL);
SELECT streamext.create_stream('vv_old', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('vv_old_day', 'SELECT k, count(*) AS n FROM vv_old GROUP BY k', 'tumbling 1 day');
SELECT streamext.create_view('vv_old_up', 'SELECT k, sum(n) AS n FROM vv_old_day GROUP BY k', 'tumbling 1000 years');
INSERT INTO vv_old VALUES ('2020-01-01', 1), ('2020-01-05', 2);
SELECT streamext.wait_caught_up();
INSERT INTO vv_old VALUES ('4000-01-01 BC', 3);
SELECT streamext.wait_caught_up();
INSERT INTO vv_old VALUES ('4000-01-01 01:00 BC', 3);
SELECT streamext.wait_caught_up();
SELECT k, n FROM vv_old_up ORDER BY k;
SELECT v.name, d.event->>'n' AS n, d.sqlstate FROM streamext.dead_letters d JOIN streamext.views v ON v.id = d.view_id
 WHERE v.name LIKE 'vv_old%';
SELECT worker_restarts FROM streamext.streams WHERE stream = 'vv_old'::regclass;
SELECT streamext.drop_view('vv_old_up');
SELECT streamext.drop_view('vv_old_day');
SELECT streamext.drop_stream('vv_old');
DROP TABLE vv_old;

-- a lower view's retention never removes rows its views have not taken:
-- history closes and passes a retention of 2 seconds in one round, and a
-- jump of the watermark does it again (the views on it got only the
-- last 2 seconds); once taken, the rows go
CREATE TABLE vv_kept (ts timestamptz NOT NULL, k int NOT NULL);
SELECT streamext.create_stream('vv_kept', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('vv_kept_sec', 'SELECT k, count(*) AS n FROM vv_kept GROUP BY k',
                             "window" => 'tumbling 1 second', retention => '2 seconds');
SELECT streamext.create_view('vv_kept_min', 'SELECT k, sum(n) AS n FROM vv_kept_sec GROUP BY k',
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('vv_kept_hop', 'SELECT sum(n) AS n, count(*) AS rows FROM vv_kept_sec',
                             "window" => 'hopping 20 seconds every 10 seconds');
INSERT INTO vv_kept SELECT '2026-03-01 00:00:00+00'::timestamptz + i * interval '100 ms', i % 3
  FROM generate_series(0, 299) i;
SELECT streamext.wait_caught_up();
INSERT INTO vv_kept SELECT '2026-03-01 00:00:30+00'::timestamptz + i * interval '100 ms', i % 3
  FROM generate_series(0, 299) i;
INSERT INTO vv_kept VALUES ('2026-03-01 00:10:00+00', 0);
SELECT vv_wait($$ SELECT window_start, k, n FROM vv_kept_min WHERE window_start < '2026-03-01 00:10:00+00' $$,
  $$ SELECT date_trunc('minute', ts), k, count(*)::numeric FROM vv_kept
      WHERE ts < '2026-03-01 00:10:00+00' GROUP BY 1, 2 $$) AS per_minute;
SELECT vv_wait($$ SELECT window_start, n, rows FROM vv_kept_hop WHERE window_end <= '2026-03-01 00:10:00+00' $$,
  $$ SELECT w, count(*)::numeric, count(DISTINCT (date_trunc('second', ts), k))
       FROM vv_kept, generate_series(date_bin('10 seconds', ts, '2000-01-01') - interval '10 seconds',
                                     date_bin('10 seconds', ts, '2000-01-01'), interval '10 seconds') w
      WHERE ts < '2026-03-01 00:10:00+00' GROUP BY 1 $$) AS hopping;
DO $$ BEGIN
  FOR i IN 1..600 LOOP
    EXIT WHEN NOT EXISTS (SELECT FROM vv_kept_sec WHERE window_end < '2026-03-01 00:09:58+00');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS past_retention FROM vv_kept_sec WHERE window_end < '2026-03-01 00:09:58+00';
-- a view without a window computes a group again from every lower row when
-- one is corrected: it cannot read a view whose retention removes rows
SELECT streamext.create_view('vv_kept_all', 'SELECT k, sum(n) AS n FROM vv_kept_sec GROUP BY k');
SELECT streamext.set_view_retention('vv_per_minute', '1 day');
SELECT streamext.replace_view('vv_per_minute',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total_ms, max(ms) AS max_ms, min(ms) AS min_ms
       FROM vv_clicks GROUP BY url $$,
  "window" => 'tumbling 1 minute', lateness => '20 seconds', retention => '1 day');
SELECT streamext.drop_view('vv_kept_hop');
SELECT streamext.drop_view('vv_kept_min');
SELECT streamext.drop_view('vv_kept_sec');
SELECT streamext.drop_stream('vv_kept');
DROP TABLE vv_kept;

-- a late row in a pane that a closed window and an open window both hold
-- (of a hopping or cumulating view on a view): the closed window is
-- computed again whole from the lower rows, and the open one takes the pane
-- again, alone (the pane was counted twice in the closed window)
CREATE TABLE vv_half (ts timestamptz NOT NULL, k int NOT NULL);
SELECT streamext.create_stream('vv_half', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('vv_half_sec', 'SELECT k, count(*) AS n FROM vv_half GROUP BY k',
                             "window" => 'tumbling 1 second');
SELECT streamext.create_view('vv_half_hop', 'SELECT k, sum(n) AS n FROM vv_half_sec GROUP BY k',
                             "window" => 'hopping 20 seconds every 10 seconds');
SELECT streamext.create_view('vv_half_cum', 'SELECT k, sum(n) AS n FROM vv_half_sec GROUP BY k',
                             "window" => 'cumulate 30 seconds every 10 seconds');
SELECT streamext.create_subscription('vv_half_final', 'vv_half_hop', notify => 'none');
-- the lower view closes up to 00:01:44, the hopping one up to 00:01:40:
-- [00:01:20, 00:01:40) is closed, [00:01:30, 00:01:50) open
INSERT INTO vv_half SELECT '2026-03-01 00:00+00'::timestamptz + i * interval '1 second', i % 3
  FROM generate_series(0, 104) i;
CREATE VIEW vv_half_plain_hop AS
SELECT w, k, count(*)::numeric AS n
  FROM vv_half, generate_series(date_bin('10 seconds', ts, '2000-01-01') - interval '10 seconds',
                                date_bin('10 seconds', ts, '2000-01-01'), interval '10 seconds') w
 WHERE ts < '2026-03-01 00:01:44+00' GROUP BY 1, 2;
CREATE VIEW vv_half_plain_cum AS
SELECT date_bin('30 seconds', ts, '2000-01-01') AS w, date_bin('30 seconds', ts, '2000-01-01') + j * interval '10 seconds' AS e,
       k, count(*)::numeric AS n
  FROM vv_half, generate_series(1, 3) j
 WHERE ts < '2026-03-01 00:01:44+00' AND ts < date_bin('30 seconds', ts, '2000-01-01') + j * interval '10 seconds'
 GROUP BY 1, 2, 3;
SELECT vv_wait('SELECT window_start, k, n FROM vv_half_hop', 'SELECT * FROM vv_half_plain_hop') AS hopping,
       vv_wait('SELECT window_start, window_end, k, n FROM vv_half_cum', 'SELECT * FROM vv_half_plain_cum') AS cumulating;
DO $$ BEGIN
  FOR i IN 1..1200 LOOP
    EXIT WHEN (SELECT p.closed_upto >= '2026-03-01 00:01:40+00' FROM streamext.view_progress p
                 JOIN streamext.view_def d ON d.id = p.view_id WHERE d.name = 'vv_half_hop');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
INSERT INTO vv_half VALUES ('2026-03-01 00:01:35+00', 1), ('2026-03-01 00:01:36+00', 0);
SELECT vv_wait('SELECT window_start, k, n FROM vv_half_hop', 'SELECT * FROM vv_half_plain_hop') AS hopping,
       vv_wait('SELECT window_start, window_end, k, n FROM vv_half_cum', 'SELECT * FROM vv_half_plain_cum') AS cumulating;
-- the closed window [00:01:20, 00:01:40) sent once, then corrected once
-- where late rows changed it (not k = 2)
SELECT kind, event->>'window_start' AS window_start, event->>'k' AS k, event->>'n' AS n
  FROM streamext.poll('vv_half_final', 1000)
 WHERE (event->>'window_start')::timestamptz >= '2026-03-01 00:01:20+00'
 ORDER BY 2, 3, position;
SELECT streamext.drop_subscription('vv_half_final');
SELECT streamext.drop_view('vv_half_cum');
SELECT streamext.drop_view('vv_half_hop');
SELECT streamext.drop_view('vv_half_sec');
SELECT streamext.drop_stream('vv_half');
DROP VIEW vv_half_plain_hop, vv_half_plain_cum;
DROP TABLE vv_half;

SELECT streamext.drop_view('vv_per_day');
SELECT streamext.drop_view('vv_hop_upper');
SELECT streamext.drop_view('vv_cumulate_upper');
SELECT streamext.drop_view('vv_all_time');
SELECT streamext.drop_view('vv_per_hour');
SELECT streamext.drop_view('vv_site_10min');
SELECT streamext.drop_view('vv_hop_hour');
SELECT streamext.drop_view('vv_hop');
SELECT streamext.drop_view('vv_sessions');
SELECT streamext.drop_view('vv_per_minute');
DROP VIEW vv_plain_minute;
SELECT streamext.drop_stream('vv_clicks');
DROP TABLE vv_clicks;
DROP FUNCTION vv_wait(text, text), vv_diff(text, text);
RESET timezone;
