-- reads of a sliding view combine, per key, the partial combinations the
-- worker published with its panes (a suffix of the front, the back, the
-- live panes), not every pane: the rows equal plain SQL over the events of
-- the window through in-order events, late events in the front and in the
-- back, a key seen only late, and a flip of the stacks; the DEBUG line
-- says how many rows came from the worker's combinations
SET timezone = 'UTC';

CREATE TABLE sr (g int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('sr', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('sr_win',
  $$ SELECT g, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi, avg(v) AS a,
            bool_and(v % 2 = 0) AS all_even FROM sr GROUP BY g $$,
  "window" => 'sliding 30 seconds step 1 second');

-- the rows of sr_win that plain SQL over the window's events (from the
-- watermark's pane back 30 seconds) does not give, and the other way round
CREATE FUNCTION sr_differs() RETURNS text LANGUAGE sql AS $$
  WITH cut AS (SELECT to_timestamp(floor(extract(epoch FROM max(ts))) - 29) AS c FROM sr),
  o AS (SELECT g, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi, avg(v) AS a,
               bool_and(v % 2 = 0) AS all_even
          FROM sr, cut WHERE ts >= c GROUP BY g)
  SELECT format('%s rows, %s extra, %s missing', (SELECT count(*) FROM sr_win),
                (SELECT count(*) FROM (SELECT * FROM sr_win EXCEPT ALL SELECT * FROM o) x),
                (SELECT count(*) FROM (SELECT * FROM o EXCEPT ALL SELECT * FROM sr_win) x))
$$;

-- in order: 5 keys, one event each per second for 40 seconds
INSERT INTO sr SELECT g, s * 10 + g, '2026-01-01'::timestamptz + s * interval '1 second'
  FROM generate_series(0, 39) s, generate_series(1, 5) g;
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();
SET client_min_messages = debug1;
SELECT count(*) FROM sr_win;
RESET client_min_messages;

-- 5 seconds more in order: the panes the watermark passed go to the back
INSERT INTO sr SELECT g, s * 10 + g, '2026-01-01'::timestamptz + s * interval '1 second'
  FROM generate_series(40, 44) s, generate_series(1, 5) g;
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();

-- late events: into the front, into the back, and a key seen only late
INSERT INTO sr VALUES (1, 1001, '2026-01-01 00:00:20+00'), (2, 1002, '2026-01-01 00:00:41+00'),
  (3, 1003, '2026-01-01 00:00:16.5+00'), (9, 1009, '2026-01-01 00:00:25+00'),
  (9, 1010, '2026-01-01 00:00:42+00');
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();
SET client_min_messages = debug1;
SELECT count(*) FROM sr_win;
RESET client_min_messages;

-- a key looked up reads its own panes the same way
SET client_min_messages = debug1;
SELECT g, n, s, lo, hi FROM sr_win WHERE g = 9;
RESET client_min_messages;

-- the cutoff passes the front's end: the stacks flip; a late event in a
-- pane the cutoff has passed changes nothing
INSERT INTO sr SELECT g, s * 10 + g, '2026-01-01'::timestamptz + s * interval '1 second'
  FROM generate_series(45, 80) s, generate_series(1, 5) g WHERE s % 3 <> g % 3;
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();
INSERT INTO sr VALUES (4, 2004, '2026-01-01 00:00:30+00'), (5, 2005, '2026-01-01 00:01:10+00');
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();
SET client_min_messages = debug1;
SELECT count(*) FROM sr_win;
RESET client_min_messages;

-- two keys whose hashes are alike (hashint4(4119) = hashint4(209697)):
-- a read takes the panes of both, not one key's for the other's
SELECT hashint4(4119) = hashint4(209697) AS alike;
INSERT INTO sr SELECT g, s, '2026-01-01'::timestamptz + s * interval '1 second'
  FROM generate_series(81, 125) s, unnest(ARRAY[4119, 209697]) g WHERE s % 2 = 0 OR g = 4119;
SELECT streamext.wait_caught_up('60s');
SELECT sr_differs();
SET client_min_messages = debug1;
SELECT g, n, s FROM sr_win WHERE g IN (4119, 209697) ORDER BY g;
SELECT count(*) FROM sr_win;
RESET client_min_messages;

-- keys equal to GROUP BY but not byte for byte (1.0 and 1.00) are one
-- key: the worker's combinations span both, and so does the row
CREATE TABLE sq (price numeric NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('sq', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('sq_win', $$ SELECT price, count(*) AS n, sum(v) AS s FROM sq GROUP BY price $$,
  "window" => 'sliding 10 seconds step 1 second');
INSERT INTO sq VALUES (1.0, 1, '2026-01-01 00:00:01+00'), (1.00, 10, '2026-01-01 00:00:02+00'),
  (1.0, 100, '2026-01-01 00:00:03+00'), (5, 1000, '2026-01-01 00:00:06+00');
SELECT streamext.wait_caught_up('60s');
SELECT price = 1 AS one, n, s FROM sq_win ORDER BY price;
SELECT n, s FROM sq_win WHERE price = 1;
SELECT streamext.drop_view('sq_win');
SELECT streamext.drop_stream('sq');
DROP TABLE sq;

SELECT streamext.drop_view('sr_win');
SELECT streamext.drop_stream('sr');
DROP TABLE sr;
DROP FUNCTION sr_differs();
