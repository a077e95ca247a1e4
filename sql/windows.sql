-- window kinds: hopping, cumulate, session and sliding windows on fixed
-- timestamps (edges, equal timestamps, out-of-order and bridging events),
-- late events correcting closed windows, view retention
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

CREATE TABLE ev (k text NOT NULL, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('ev_hop', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$,
                             'hopping 10 seconds every 5 seconds');
SELECT streamext.create_view('ev_cum', $$ SELECT count(*) AS n, max(v) AS top FROM ev $$,
                             'cumulate 20 seconds every 5 seconds');
SELECT streamext.create_view('ev_ses', $$ SELECT k, count(*) AS n, min(v) AS lo FROM ev GROUP BY k $$,
                             'session 10 seconds');
SELECT streamext.create_view('ev_sl', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$,
                             'sliding 20 seconds step 5 seconds');
SELECT name, "window" FROM streamext.views WHERE name LIKE 'ev%' ORDER BY id;
\d ev_sl

INSERT INTO ev VALUES
  ('a', 1, '2026-01-01 10:00:00+00'),
  ('a', 2, '2026-01-01 10:00:04.999999+00'),  -- last instant of the pane
  ('a', 3, '2026-01-01 10:00:05+00'),         -- on the edge: the next pane
  ('b', 10, '2026-01-01 10:00:05+00'),
  ('a', 4, '2026-01-01 10:00:12+00'),         -- equal timestamps, two groups
  ('b', 20, '2026-01-01 10:00:12+00'),
  ('a', 5, '2026-01-01 10:00:30+00');         -- the watermark: 10:00:30
SELECT wait_for_checkpoint();

-- hopping: every event is in two windows; [09:59:55, 10:00:05) holds a's first two
SELECT * FROM ev_hop ORDER BY k, window_start;
-- cumulate: the 20-second period to date at every 5 seconds; [10:00:20, 10:00:25)
-- and [10:00:20, 10:00:30) hold no event and have no row
SELECT * FROM ev_cum ORDER BY window_start, window_end;
-- session: a's events 10:00:00 .. 10:00:12 are less than 10 s apart; 10:00:30 is
-- 18 s after the last one: a new session
SELECT * FROM ev_ses ORDER BY k, window_start;
-- sliding: the panes 10:00:15 .. 10:00:30 (the watermark's), so only a's last event
SELECT * FROM ev_sl ORDER BY k;
-- closed windows are in the closed-window table; the others open
SELECT name, open_windows, late_events FROM streamext.views WHERE name LIKE 'ev%' ORDER BY id;

-- a late event at 10:00:21: hopping windows [10:00:15, 10:00:25) and
-- [10:00:20, 10:00:30) are closed: corrected (a has no row in them yet);
-- it bridges a's closed session (ending 10:00:22) and its open one (starting
-- 10:00:30): one session 10:00:00 .. 10:00:30, open again
INSERT INTO ev VALUES ('a', 6, '2026-01-01 10:00:21+00');
SELECT wait_for_checkpoint();
SELECT * FROM ev_hop WHERE k = 'a' AND window_start >= '2026-01-01 10:00:15+00' ORDER BY window_start;
SELECT * FROM ev_cum WHERE window_start = '2026-01-01 10:00:20+00' ORDER BY window_end;
SELECT * FROM ev_ses ORDER BY k, window_start;
SELECT * FROM ev_sl ORDER BY k;
SELECT name, late_events FROM streamext.views WHERE name LIKE 'ev%' ORDER BY id;

-- out of order, not late: b at 10:00:40 moves the watermark; then b at
-- 10:00:33 joins b's new session from before its start, and a late event
-- for a's session from the start of the hour is less than 10 s before it
INSERT INTO ev VALUES ('b', 30, '2026-01-01 10:00:40+00');
INSERT INTO ev VALUES ('b', 40, '2026-01-01 10:00:33+00');
INSERT INTO ev VALUES ('a', 7, '2026-01-01 09:59:51+00');
SELECT wait_for_checkpoint();
SELECT * FROM ev_ses ORDER BY k, window_start;
SELECT * FROM ev_sl ORDER BY k;
SELECT * FROM ev_cum ORDER BY window_start, window_end;

-- every view equals plain SQL over the stream
SELECT count(*) AS hop_missing_or_extra FROM (
  (SELECT * FROM ev_hop EXCEPT ALL
   SELECT w, w + interval '10 seconds', k, count(*), sum(v)
     FROM ev, LATERAL (SELECT date_bin('5 seconds', ts, '2000-01-01') - interval '5 seconds' * s AS w
                         FROM generate_series(0, 1) s) ws GROUP BY 1, 2, 3)
  UNION ALL
  (SELECT w, w + interval '10 seconds', k, count(*), sum(v)
     FROM ev, LATERAL (SELECT date_bin('5 seconds', ts, '2000-01-01') - interval '5 seconds' * s AS w
                         FROM generate_series(0, 1) s) ws GROUP BY 1, 2, 3
   EXCEPT ALL SELECT * FROM ev_hop)) d;
SELECT count(*) AS cum_missing_or_extra FROM (
  (SELECT * FROM ev_cum EXCEPT ALL
   SELECT d, d + interval '5 seconds' * e, count(*), max(v)
     FROM ev, LATERAL (SELECT date_bin('20 seconds', ts, '2000-01-01') AS d) dd,
          generate_series(1, 4) e
    WHERE ts < d + interval '5 seconds' * e GROUP BY 1, 2)
  UNION ALL
  (SELECT d, d + interval '5 seconds' * e, count(*), max(v)
     FROM ev, LATERAL (SELECT date_bin('20 seconds', ts, '2000-01-01') AS d) dd,
          generate_series(1, 4) e
    WHERE ts < d + interval '5 seconds' * e GROUP BY 1, 2
   EXCEPT ALL SELECT * FROM ev_cum)) d;
WITH marked AS (
  SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY k ORDER BY ts) < interval '10 seconds'
                 THEN 0 ELSE 1 END AS starts FROM ev),
numbered AS (SELECT *, sum(starts) OVER (PARTITION BY k ORDER BY ts, v) AS session FROM marked),
oracle AS (SELECT min(ts) AS window_start, max(ts) + interval '10 seconds' AS window_end,
                  k, count(*) AS n, min(v) AS lo FROM numbered GROUP BY k, session)
SELECT (SELECT count(*) FROM (SELECT * FROM ev_ses EXCEPT ALL SELECT * FROM oracle) a) AS ses_extra,
       (SELECT count(*) FROM (SELECT * FROM oracle EXCEPT ALL SELECT * FROM ev_ses) b) AS ses_missing;

-- rebuild_view recomputes them from the stream: the same rows
CREATE TABLE before_rebuild AS
  SELECT 'hop' AS v, to_jsonb(h) AS r FROM ev_hop h UNION ALL SELECT 'cum', to_jsonb(c) FROM ev_cum c
  UNION ALL SELECT 'ses', to_jsonb(s) FROM ev_ses s UNION ALL SELECT 'sl', to_jsonb(l) FROM ev_sl l;
SELECT streamext.rebuild_view(name) FROM streamext.views WHERE name LIKE 'ev%' ORDER BY id;
SELECT streamext.wait_caught_up();
SELECT count(*) AS changed_by_rebuild FROM (
  (SELECT * FROM before_rebuild EXCEPT ALL
   (SELECT 'hop', to_jsonb(h) FROM ev_hop h UNION ALL SELECT 'cum', to_jsonb(c) FROM ev_cum c
    UNION ALL SELECT 'ses', to_jsonb(s) FROM ev_ses s UNION ALL SELECT 'sl', to_jsonb(l) FROM ev_sl l))
  UNION ALL
  ((SELECT 'hop', to_jsonb(h) FROM ev_hop h UNION ALL SELECT 'cum', to_jsonb(c) FROM ev_cum c
    UNION ALL SELECT 'ses', to_jsonb(s) FROM ev_ses s UNION ALL SELECT 'sl', to_jsonb(l) FROM ev_sl l)
   EXCEPT ALL SELECT * FROM before_rebuild)) d;
SELECT count(*) FROM before_rebuild;
DROP TABLE before_rebuild;

-- retention: closed windows ending 10 s or more before the watermark go
SELECT streamext.set_view_retention('ev_hop', '10 seconds');
SELECT retention FROM streamext.views WHERE name = 'ev_hop';
INSERT INTO ev VALUES ('c', 1, '2026-01-01 10:00:41+00');  -- a new checkpoint
SELECT wait_for_checkpoint();
SELECT min(window_end) FROM ev_hop;
-- a late event for a window past retention counts as late and changes nothing
INSERT INTO ev VALUES ('a', 8, '2026-01-01 10:00:01+00');
SELECT wait_for_checkpoint();
SELECT min(window_end), count(*) FROM ev_hop;
SELECT streamext.set_view_retention('ev_hop', NULL);

-- subscriptions get a session view's closed sessions; panes give no changes
SELECT streamext.create_subscription('ev_hop_changes', 'ev_hop', emit => 'changes');
SELECT streamext.create_subscription('ev_sl_final', 'ev_sl');

-- a session view's subscription gets each session as it closes, and a late
-- event that merges closed sessions as a correction
SELECT streamext.create_view('ev_ses2', $$ SELECT k, count(*) AS n FROM ev GROUP BY k $$,
                             'session 10 seconds');
SELECT streamext.create_subscription('ev_ses2_final', 'ev_ses2', notify => 'none');
INSERT INTO ev VALUES ('d', 1, '2026-01-01 11:00:00+00'), ('d', 1, '2026-01-01 11:00:18+00');
INSERT INTO ev VALUES ('e', 1, '2026-01-01 11:01:00+00');  -- closes both of d's
SELECT wait_for_checkpoint();
INSERT INTO ev VALUES ('d', 1, '2026-01-01 11:00:09+00');  -- bridges them
SELECT wait_for_checkpoint();
SELECT kind, event->>'window_start' AS window_start, event->>'window_end' AS window_end,
       event->>'n' AS n
  FROM streamext.poll('ev_ses2_final', 1000) WHERE event->>'k' = 'd' ORDER BY "position";
SELECT * FROM ev_ses2 WHERE k = 'd';
SELECT streamext.drop_subscription('ev_ses2_final');

SELECT streamext.drop_view(name) FROM streamext.views WHERE name LIKE 'ev%';
SELECT streamext.drop_stream('ev');
DROP TABLE ev;

-- a session view whose sessions the clock closed, then a transaction large
-- enough to be streamed whose events are older than the view's watermark:
-- it is decoded again without streaming, from the checkpoint, where the
-- watermark must start at what the checkpoint had closed (by the clock
-- too).  Right after wait_caught_up() the view has every event, once.
CREATE TABLE sess_clock (k int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('sess_clock', time_column => 'ts');
INSERT INTO sess_clock SELECT i % 3, '2026-01-01'::timestamptz + (i % 240) * interval '1 second'
  FROM generate_series(1, 1200) i;
SELECT streamext.create_view('sess_clock_v', $$ SELECT k, count(*) AS n FROM sess_clock GROUP BY k $$,
                             "window" => 'session 20 seconds');
INSERT INTO sess_clock SELECT i % 3, '2026-01-01 00:03'::timestamptz + (i % 180) * interval '1 second'
  FROM generate_series(1, 1500) i;
INSERT INTO sess_clock SELECT i % 3, '2026-01-01 00:05'::timestamptz + (i % 200) * interval '1 second'
  FROM generate_series(1, 60000) i;
INSERT INTO sess_clock VALUES (0, '2026-01-01 00:00:10'), (1, '2026-01-01 00:00:20');
SELECT streamext.wait_caught_up();
SELECT k, window_start, window_end, n FROM sess_clock_v ORDER BY k;
SELECT k, count(*) FROM sess_clock GROUP BY k ORDER BY k;
SELECT streamext.drop_view('sess_clock_v');
SELECT streamext.drop_stream('sess_clock');
DROP TABLE sess_clock;

-- an infinite event time is in no window: each view sets the event aside
-- (session views too, late or not: a session's end would be out of range),
-- and the views and the worker go on
CREATE TABLE sess_inf (k int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('sess_inf', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('sess_inf_v', $$ SELECT k, count(*) AS n FROM sess_inf GROUP BY k $$,
                             "window" => 'session 5 seconds');
SELECT streamext.create_view('tumb_inf_v', $$ SELECT k, count(*) AS n FROM sess_inf GROUP BY k $$,
                             "window" => 'tumbling 1 minute');
INSERT INTO sess_inf VALUES (1, '2026-01-01 00:00:00'), (1, '2026-01-01 00:00:10');
SELECT wait_for_checkpoint();
INSERT INTO sess_inf VALUES (3, '-infinity'), (3, '-infinity');
INSERT INTO sess_inf VALUES (3, 'infinity');
INSERT INTO sess_inf VALUES (1, '2026-01-01 00:00:03'), (2, '2026-01-01 00:00:12');
SELECT wait_for_checkpoint();
SELECT * FROM sess_inf_v ORDER BY k, window_start;
SELECT * FROM tumb_inf_v ORDER BY k, window_start;
SELECT v.name, d.sqlstate, d.message, d.event->>'ts' AS ts
  FROM streamext.dead_letters d JOIN streamext.views v ON v.id = d.view_id
 WHERE v.name IN ('sess_inf_v', 'tumb_inf_v') ORDER BY 1, 4;
-- set aside, not counted as events ahead of their commit
SELECT name, future_events FROM streamext.views WHERE name IN ('sess_inf_v', 'tumb_inf_v') ORDER BY 1;
SELECT count(*) FROM streamext.streams WHERE stream = 'sess_inf'::regclass AND last_error IS NULL;
SELECT streamext.drop_view('sess_inf_v');
SELECT streamext.drop_view('tumb_inf_v');
SELECT streamext.drop_stream('sess_inf');
DROP TABLE sess_inf;
DROP FUNCTION wait_for_checkpoint();
