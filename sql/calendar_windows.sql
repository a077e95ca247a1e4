-- calendar windows: days, weeks and months of a time zone (time_zone =>
-- 'Europe/Paris': a day of 23 hours on 2026-03-29, of 25 hours on
-- 2026-10-25), hours of a zone half an hour off UTC, months without a zone;
-- each view against plain SQL over the stream (date_trunc in the zone),
-- late events, and what create_view refuses
SET timezone = 'UTC';
CREATE FUNCTION wait_for_checkpoint() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  PERFORM streamext.wait_caught_up();
  FOR i IN 1..600 LOOP
    IF (SELECT bool_and(checkpoint_lsn >= applied_lsn) FROM streamext.streams) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;

CREATE TABLE cal (k text NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
-- pure event time: the clock (today) would close every window of 2026 at once
SELECT streamext.create_stream('cal', 'ts', idle_timeout => NULL);

-- the session's TimeZone is not the view's: windows follow time_zone
SET timezone = 'America/New_York';
SELECT streamext.create_view('cal_day', $$ SELECT k, count(*) AS n, sum(v) AS s FROM cal GROUP BY k $$,
                             'tumbling 1 day', time_zone => 'europe/paris');
SET timezone = 'UTC';
SELECT streamext.create_view('cal_month', $$ SELECT count(*) AS n, sum(v) AS s FROM cal $$,
                             'tumbling 1 month', time_zone => 'Europe/Paris');
SELECT streamext.create_view('cal_week', $$ SELECT count(*) AS n FROM cal $$,
                             'tumbling 1 week', time_zone => 'Europe/Paris');
SELECT streamext.create_view('cal_hop', $$ SELECT count(*) AS n, sum(v) AS s FROM cal $$,
                             'hopping 1 day every 1 hour', time_zone => 'Europe/Paris');
SELECT streamext.create_view('cal_quarter', $$ SELECT k, count(*) AS n FROM cal GROUP BY k $$,
                             'hopping 3 months every 1 month', time_zone => 'Europe/Paris');
SELECT streamext.create_view('cal_cum', $$ SELECT count(*) AS n, max(v) AS top FROM cal $$,
                             'cumulate 1 day every 6 hours', time_zone => 'Europe/Paris');
SELECT streamext.create_view('cal_kolkata', $$ SELECT count(*) AS n FROM cal $$,
                             'tumbling 1 hour', time_zone => 'Asia/Kolkata');
SELECT streamext.create_view('cal_month_utc', $$ SELECT count(*) AS n FROM cal $$, 'tumbling 1 month');
-- NULL: fixed widths aligned to 2000-01-01 00:00 UTC, as without the argument
SELECT streamext.create_view('cal_fixed', $$ SELECT count(*) AS n FROM cal $$, 'tumbling 1 day',
                             time_zone => NULL);
-- a zone is read as AT TIME ZONE and date_trunc read it: CET is an
-- abbreviation of a fixed +01 there (tzdb's zone CET has summer time); UTC
-- keeps its name
SELECT streamext.create_view('cal_cet', $$ SELECT count(*) AS n FROM cal $$, 'tumbling 1 day',
                             time_zone => 'CET');
SELECT streamext.create_view('cal_utc_day', $$ SELECT count(*) AS n FROM cal $$, 'tumbling 1 day',
                             time_zone => 'UTC');
SELECT name, "window", time_zone FROM streamext.views WHERE name LIKE 'cal%' ORDER BY id;

-- every 47 minutes across both changes of 2026, and on the edges: the last
-- and first instants of the local days and months, 02:30 twice on
-- 2026-10-25 (CEST, then CET), the instant the clocks skip 02:00 -> 03:00;
-- in one transaction, so that no window closes before they are all in
BEGIN;
INSERT INTO cal SELECT 'k' || (i % 3), i, '2026-03-27 00:00+00'::timestamptz + i * interval '47 minutes'
  FROM generate_series(0, 200) i;
INSERT INTO cal SELECT 'k' || (i % 3), 1000 + i, '2026-10-23 00:00+00'::timestamptz + i * interval '47 minutes'
  FROM generate_series(0, 200) i;
INSERT INTO cal VALUES
  ('k0', 5000, '2026-02-28 23:00:00+00'),         -- 2026-03-01 00:00 in Paris
  ('k1', 5001, '2026-03-28 22:59:59.999999+00'),  -- the last instant of 2026-03-28 in Paris
  ('k2', 5002, '2026-03-28 23:00:00+00'),         -- 2026-03-29 00:00 CET
  ('k0', 5003, '2026-03-29 01:00:00+00'),         -- 03:00 CEST, just after 01:59:59 CET
  ('k1', 5004, '2026-03-31 21:59:59.999999+00'),  -- the last instant of March in Paris
  ('k2', 5005, '2026-03-31 22:00:00+00'),         -- 2026-04-01 00:00 CEST
  ('k0', 5006, '2026-10-25 00:30:00+00'),         -- 02:30 CEST
  ('k1', 5007, '2026-10-25 01:30:00+00'),         -- 02:30 CET, an hour later
  ('k2', 5008, '2026-10-25 23:00:00+00');         -- 2026-10-26 00:00 CET
COMMIT;
SELECT wait_for_checkpoint();

-- days of 23 and 25 hours
SELECT window_start, window_end, window_end - window_start AS length, k, n, s
  FROM cal_day WHERE k = 'k0' ORDER BY window_start;
-- months from local midnight to local midnight
SELECT window_start, window_end, window_end - window_start AS length, n, s FROM cal_month ORDER BY window_start;
SELECT window_start, window_end, n FROM cal_month_utc ORDER BY window_start;
-- weeks start on Monday
SELECT window_start, window_end, to_char(window_start AT TIME ZONE 'Europe/Paris', 'Dy HH24:MI') AS local_start, n
  FROM cal_week ORDER BY window_start;
-- the day to date at every 6 hours of Paris: 5 hours to 06:00 on the short day, 7 on the long one
SELECT window_start, window_end, n, top FROM cal_cum
 WHERE window_start IN ('2026-03-28 23:00+00', '2026-10-24 22:00+00') ORDER BY window_start, window_end;
-- a day from every hour: the hopping windows starting in the hours around the changes
SELECT window_start, window_end, window_end - window_start AS length, n FROM cal_hop
 WHERE window_start BETWEEN '2026-03-27 23:00+00' AND '2026-03-28 02:00+00'
    OR window_start BETWEEN '2026-10-23 22:00+00' AND '2026-10-24 02:00+00'
 ORDER BY window_start;
-- hours of Kolkata start half past the UTC hour
SELECT window_start, window_end, n FROM cal_kolkata ORDER BY window_start LIMIT 3;
SELECT window_start, window_end, n FROM cal_fixed ORDER BY window_start LIMIT 3;

-- every view equals plain SQL over the stream, both ways
CREATE VIEW cal_day_oracle (window_start, window_end, k, n, s) AS
  SELECT d AT TIME ZONE 'Europe/Paris', (d + interval '1 day') AT TIME ZONE 'Europe/Paris', k, count(*), sum(v)
    FROM cal, LATERAL (SELECT date_trunc('day', ts AT TIME ZONE 'Europe/Paris') AS d) x GROUP BY d, k;
CREATE VIEW cal_month_oracle (window_start, window_end, n, s) AS
  SELECT m AT TIME ZONE 'Europe/Paris', (m + interval '1 month') AT TIME ZONE 'Europe/Paris', count(*), sum(v)
    FROM cal, LATERAL (SELECT date_trunc('month', ts AT TIME ZONE 'Europe/Paris') AS m) x GROUP BY m;
CREATE VIEW cal_month_utc_oracle (window_start, window_end, n) AS
  SELECT m AT TIME ZONE 'UTC', (m + interval '1 month') AT TIME ZONE 'UTC', count(*)
    FROM cal, LATERAL (SELECT date_trunc('month', ts AT TIME ZONE 'UTC') AS m) x GROUP BY m;
CREATE VIEW cal_week_oracle (window_start, window_end, n) AS
  SELECT w AT TIME ZONE 'Europe/Paris', (w + interval '7 days') AT TIME ZONE 'Europe/Paris', count(*)
    FROM cal, LATERAL (SELECT date_trunc('week', ts AT TIME ZONE 'Europe/Paris') AS w) x GROUP BY w;
-- a hopping window starts at every hour of Paris (its hours are UTC's) and
-- lasts a day of Paris: ts + interval '1 day' in that zone
CREATE VIEW cal_hop_oracle (window_start, window_end, n, s) AS
  SELECT w, ((w AT TIME ZONE 'Europe/Paris') + interval '1 day') AT TIME ZONE 'Europe/Paris', count(*), sum(v)
    FROM cal, LATERAL (SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - h * interval '1 hour' AS w
                         FROM generate_series(0, 25) h) x
   WHERE ts < ((w AT TIME ZONE 'Europe/Paris') + interval '1 day') AT TIME ZONE 'Europe/Paris'
   GROUP BY w;
CREATE VIEW cal_quarter_oracle (window_start, window_end, k, n) AS
  SELECT m AT TIME ZONE 'Europe/Paris', (m + interval '3 months') AT TIME ZONE 'Europe/Paris', k, count(*)
    FROM cal, LATERAL (SELECT date_trunc('month', ts AT TIME ZONE 'Europe/Paris') - j * interval '1 month' AS m
                         FROM generate_series(0, 2) j) x GROUP BY m, k;
CREATE VIEW cal_cum_oracle (window_start, window_end, n, top) AS
  SELECT d AT TIME ZONE 'Europe/Paris', (d + j * interval '6 hours') AT TIME ZONE 'Europe/Paris', count(*), max(v)
    FROM cal, LATERAL (SELECT date_trunc('day', ts AT TIME ZONE 'Europe/Paris') AS d) x, generate_series(1, 4) j
   WHERE ts < (d + j * interval '6 hours') AT TIME ZONE 'Europe/Paris' GROUP BY 1, 2;
CREATE VIEW cal_kolkata_oracle (window_start, window_end, n) AS
  SELECT h AT TIME ZONE 'Asia/Kolkata', (h + interval '1 hour') AT TIME ZONE 'Asia/Kolkata', count(*)
    FROM cal, LATERAL (SELECT date_trunc('hour', ts AT TIME ZONE 'Asia/Kolkata') AS h) x GROUP BY h;
CREATE VIEW cal_fixed_oracle (window_start, window_end, n) AS
  SELECT date_bin('1 day', ts, '2000-01-01'), date_bin('1 day', ts, '2000-01-01') + interval '1 day', count(*)
    FROM cal GROUP BY 1;
CREATE VIEW cal_cet_oracle (window_start, window_end, n) AS
  SELECT date_trunc('day', ts, 'CET'), date_trunc('day', ts, 'CET') + interval '24 hours', count(*)
    FROM cal GROUP BY 1;
CREATE VIEW cal_utc_day_oracle (window_start, window_end, n) AS
  SELECT date_trunc('day', ts, 'UTC'), date_trunc('day', ts, 'UTC') + interval '24 hours', count(*)
    FROM cal GROUP BY 1;
-- rows only in the view or only in plain SQL
CREATE FUNCTION cal_diff(view_name text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  missing bigint;
  extra bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %I EXCEPT ALL SELECT * FROM %I) d',
                 view_name, view_name || '_oracle') INTO extra;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM %I EXCEPT ALL SELECT * FROM %I) d',
                 view_name || '_oracle', view_name) INTO missing;
  RETURN missing + extra;
END $$;
SELECT name, cal_diff(name) AS diff FROM streamext.views WHERE name LIKE 'cal%' ORDER BY id;

-- late events correct closed windows: the short day, March, the hour
-- before the clocks went back
INSERT INTO cal VALUES ('k0', 7000, '2026-03-29 00:30:00+00'), ('k0', 7001, '2026-10-25 00:59:59+00');
SELECT wait_for_checkpoint();
SELECT window_start, window_end, k, n, s FROM cal_day WHERE window_start = '2026-03-28 23:00+00' AND k = 'k0';
SELECT window_start, window_end, n, s FROM cal_month WHERE window_start = '2026-02-28 23:00+00';
SELECT name, late_events, cal_diff(name) AS diff FROM streamext.views WHERE name LIKE 'cal%' ORDER BY id;

-- an event tens of thousands of years ahead (beyond streamext.max_future,
-- counted, not waited for) in a calendar hopping view: the windows holding
-- a pane are worked out near each pane, not over every hour between today
-- and then (430 million windows: reads failed and the worker restarted)
CREATE TABLE far (k text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('far', 'ts');
SELECT worker_restarts AS restarts_before FROM streamext.streams WHERE stream = 'far'::regclass \gset
SELECT streamext.create_view('far_hop', $$ SELECT k, count(*) AS n FROM far GROUP BY k $$,
                             'hopping 1 day every 1 hour', time_zone => 'Europe/Paris');
SELECT streamext.create_view('far_cum', $$ SELECT k, count(*) AS n FROM far GROUP BY k $$,
                             'cumulate 1 day every 1 hour', time_zone => 'Europe/Paris');
SELECT streamext.create_view('far_fixed', $$ SELECT k, count(*) AS n FROM far GROUP BY k $$,
                             'tumbling 30 days');
-- and one in the last days of the range of timestamps, whose windows (or
-- the panes after them) would end past it: the cumulating view's worker
-- restarted without end, the hopping view counted it in 1 window of 24,
-- the fixed one overflowed
INSERT INTO far VALUES ('now', '2026-11-02 12:00+00'), ('far', '50000-06-01 12:00+00'),
                       ('edge', '294276-12-30 12:00+00');
SELECT streamext.wait_caught_up();
SELECT k, count(*) AS windows, sum(n) AS n, min(window_start) AS first_start
  FROM far_hop GROUP BY k ORDER BY k;
-- the clock closes the windows of today's event (idle_timeout): the worker
-- works out which, and the far one's stay open
SELECT pg_sleep(1.5);
SELECT streamext.wait_caught_up();
SELECT k, count(*) AS windows, sum(n) AS n FROM far_hop GROUP BY k ORDER BY k;
SELECT v.future_events, p.closed_upto > '2026-11-03 12:00+00' AS closed_by_clock
  FROM streamext.views v JOIN streamext.view_progress p ON p.view_id = v.id WHERE v.name = 'far_hop';
SELECT worker_restarts = :restarts_before AS no_restart FROM streamext.streams WHERE stream = 'far'::regclass;
-- the edge event is a dead letter of each view, which go on without it
SELECT v.name, count(d.*) AS dead, min(d.sqlstate) AS sqlstate, v.future_events
  FROM streamext.views v LEFT JOIN streamext.dead_letters d ON d.view_id = v.id
 WHERE v.name LIKE 'far%' GROUP BY v.name, v.future_events ORDER BY 1;
SELECT k, count(*) AS windows, sum(n) AS n FROM far_cum GROUP BY k ORDER BY k;
SELECT k, count(*) AS windows, sum(n) AS n FROM far_fixed GROUP BY k ORDER BY k;
SELECT streamext.drop_view('far_cum');
SELECT streamext.drop_view('far_fixed');
SELECT streamext.drop_view('far_hop');
SELECT streamext.drop_stream('far');
DROP TABLE far;

-- refused, with what is accepted
\set VERBOSITY default
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 1 day', time_zone => 'Europe/Pariss');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 1 day', time_zone => '');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', NULL, time_zone => 'Europe/Paris');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'session 1 hour', time_zone => 'Europe/Paris');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'sliding 1 month');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 1 month 2 days');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 200000 years');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 1001 years');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'session 2000000000 days');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'session -2000000000 days');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'cumulate 1 month every 7 days');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'hopping 3 months every 2 months');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'hopping 1 day every 5 hours',
                             time_zone => 'Europe/Paris');
SELECT streamext.create_view('bad', 'SELECT count(*) FROM cal', 'tumbling 1 day 12 hours',
                             time_zone => 'Europe/Paris');

DROP VIEW cal_day_oracle, cal_month_oracle, cal_month_utc_oracle, cal_week_oracle, cal_hop_oracle,
  cal_quarter_oracle, cal_cum_oracle, cal_kolkata_oracle, cal_fixed_oracle, cal_cet_oracle,
  cal_utc_day_oracle;
SELECT streamext.drop_view(name) FROM streamext.views WHERE name LIKE 'cal%' ORDER BY id;
SELECT streamext.drop_stream('cal');
DROP TABLE cal;
DROP FUNCTION cal_diff(text);
DROP FUNCTION wait_for_checkpoint();
