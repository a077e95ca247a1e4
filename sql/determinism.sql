-- a continuous view computes the same rows live, in a backfill, in a rebuild
-- and after a restore, and a subscription's filter passes the same events
-- when the worker evaluates it again: both call immutable functions only,
-- and a refusal names the call
SET timezone = 'UTC';
\set VERBOSITY default
CREATE TABLE taps (k int NOT NULL, note text, ts timestamptz NOT NULL);
SELECT streamext.create_stream('taps', 'ts');
INSERT INTO taps VALUES (1, '2026-01-01 10:00+00', '2026-01-01 09:59:59.5+00'),
                        (2, 'x', '2026-01-01 10:00:00+00'), (1, NULL, '2026-01-01 23:30:00+00');

-- the clock, the transaction, the session: filter when reading instead
SELECT streamext.create_view('d1', $$ SELECT k, count(*) AS n, max(now()) AS seen FROM taps GROUP BY k $$);
SELECT streamext.create_view('d1', $$ SELECT count(*) AS n FROM taps WHERE ts > current_timestamp - interval '1 hour' $$);
SELECT streamext.create_view('d1', $$ SELECT current_date AS day, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT k, sum(extract(epoch FROM clock_timestamp())) AS s FROM taps GROUP BY k $$);
SELECT streamext.create_view('d1', $$ SELECT k, count(*) FILTER (WHERE ts < statement_timestamp()) AS n FROM taps GROUP BY k $$);
SELECT streamext.create_view('d1', $$ SELECT k, count(*) AS n FROM taps GROUP BY k HAVING max(ts) > transaction_timestamp() $$);
SELECT streamext.create_view('d1', $$ SELECT timeofday() AS t, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT localtimestamp(0) AS t, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT current_user AS who, count(*) AS n FROM taps GROUP BY 1 $$);

-- stable functions, operators and casts: the session's TimeZone is not the
-- worker's; the hint names an immutable spelling
SELECT streamext.create_view('d1', $$ SELECT date_trunc('hour', ts) AS h, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT date_trunc('hour', ts, 'UTC') AS h, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT ts::date AS day, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.create_view('d1', $$ SELECT k, count(*) AS n FROM taps WHERE note::timestamptz > ts GROUP BY k $$);
SELECT streamext.create_view('d1', $$ SELECT k, count(*) AS n FROM taps GROUP BY k HAVING max(ts + interval '1 hour') > '2026-01-01' $$);
SELECT streamext.create_view('d1', $$ SELECT k, count(*) FILTER (WHERE extract(hour FROM ts) >= 10) AS n FROM taps GROUP BY k $$);
SELECT streamext.create_view('d1', $$ SELECT k, max(to_char(ts, 'HH24')) AS h FROM taps GROUP BY k $$);
CREATE FUNCTION hour_of(timestamptz) RETURNS int LANGUAGE sql STABLE AS 'SELECT extract(hour FROM $1)::int';
SELECT streamext.create_view('d1', $$ SELECT hour_of(ts) AS h, count(*) AS n FROM taps GROUP BY 1 $$);
-- an aggregate is always marked immutable: its functions are checked
CREATE FUNCTION count_after_ten(bigint, timestamptz) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT $1 + (extract(hour FROM $2) >= 10)::int $$;
CREATE AGGREGATE count_after_ten(timestamptz) (sfunc = count_after_ten, stype = bigint,
    combinefunc = int8pl, initcond = '0');
SELECT streamext.create_view('d1', $$ SELECT k, count_after_ten(ts) AS n FROM taps GROUP BY k $$);
-- a volatile one: the value belongs in the producer
SELECT streamext.create_view('d1', $$ SELECT k, count(*) AS n FROM taps WHERE k > random() GROUP BY k $$);
-- the clock is named first, wherever it is
SELECT streamext.create_view('d1', $$ SELECT date_trunc('hour', ts) AS h, count(*) AS n FROM taps WHERE ts < now() GROUP BY 1 $$);

-- the immutable spellings, created in a session whose TimeZone is not the
-- worker's: the backfill and the worker agree with plain SQL at UTC
SET timezone = 'Asia/Kolkata';
SELECT streamext.create_view('per_hour',
  $$ SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AS h, date_bin('1 day', ts, '2000-01-01 00:00+00') AS d,
            count(*) AS n, count(*) FILTER (WHERE (ts AT TIME ZONE 'UTC') + interval '1 hour' > '2026-01-02') AS late_in_day
       FROM taps GROUP BY 1, 2 $$);
SET timezone = 'UTC';
INSERT INTO taps VALUES (3, NULL, '2026-01-01 10:30:00+00'), (3, NULL, '2026-01-01 23:59:59+00');
SELECT streamext.wait_caught_up();
SELECT * FROM per_hour ORDER BY h;
(SELECT date_trunc('hour', ts), date_trunc('day', ts), count(*),
        count(*) FILTER (WHERE ts + interval '1 hour' > '2026-01-02') FROM taps GROUP BY 1, 2)
  EXCEPT ALL SELECT h, d, n, late_in_day FROM per_hour;

-- subscription filters follow the same rule
SELECT streamext.create_subscription('d_sub', 'taps', filter => 'ts > now() - interval ''1 hour''');
SELECT streamext.create_subscription('d_sub', 'taps', filter => 'current_time > ''09:00''');
SELECT streamext.create_subscription('d_sub', 'taps', filter => 'ts::date = ''2026-01-01''');
SELECT streamext.create_subscription('d_sub', 'taps', filter => 'hour_of(ts) >= 10');
SELECT streamext.create_subscription('d_sub', 'per_hour', filter => 'h > localtimestamp', emit => 'changes');
SELECT streamext.create_subscription('d_sub', 'taps', filter => $$(ts AT TIME ZONE 'UTC')::date = '2026-01-01'$$);
SELECT streamext.drop_subscription('d_sub');

-- a function its owner declares deterministic may be called; one that
-- reads the clock stays refused whatever is declared; only the owner may
-- declare, and take the declaration back
CREATE FUNCTION scaled(int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT $1 * 10';
SELECT streamext.create_view('d2', $$ SELECT scaled(k) AS s, count(*) AS n FROM taps GROUP BY 1 $$);
CREATE ROLE det_other;
GRANT USAGE ON SCHEMA streamext TO det_other;
SET ROLE det_other;
SELECT streamext.declare_deterministic('scaled(int)');
RESET ROLE;
SELECT streamext.declare_deterministic('scaled(int)');
SELECT streamext.declare_deterministic('scaled(int)', true);
SELECT streamext.declare_deterministic(NULL), streamext.declare_deterministic('scaled(int)', NULL);
SELECT streamext.declare_deterministic('abs(int)');
SELECT function, declared_by FROM streamext.deterministic_functions;
SELECT streamext.create_subscription('d_sub', 'taps', filter => 'scaled(k) > 10');
SELECT streamext.drop_subscription('d_sub');
SELECT streamext.create_view('d2', $$ SELECT scaled(k) AS s, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.wait_caught_up();
SELECT * FROM d2 ORDER BY s;
SELECT streamext.declare_deterministic('now()');
SELECT streamext.create_view('d3', $$ SELECT k, max(now()) AS seen FROM taps GROUP BY k $$);
SELECT streamext.declare_deterministic('now()', false);
SELECT streamext.declare_deterministic('scaled(int)', false);
SELECT count(*) FROM streamext.deterministic_functions;
SELECT streamext.create_view('d3', $$ SELECT scaled(k) AS s, count(*) AS n FROM taps GROUP BY 1 $$);
-- a declaration whose function's argument type was dropped names nothing:
-- it is passed over, not an error for every later view
CREATE DOMAIN det_d AS int;
CREATE FUNCTION det_f(det_d) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
SELECT streamext.declare_deterministic('det_f(det_d)');
DROP DOMAIN det_d CASCADE;
SELECT count(*) FROM streamext.deterministic_functions;
SELECT streamext.create_view('d3', $$ SELECT k, count(*) AS n FROM taps GROUP BY 1 $$);
SELECT streamext.drop_view('d3');
DELETE FROM streamext.deterministic_functions;
-- the view defined while it was declared goes on
INSERT INTO taps VALUES (3, NULL, '2026-01-02 00:00:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM d2 ORDER BY s;
SELECT streamext.drop_view('d2');
DROP FUNCTION scaled(int);
REVOKE USAGE ON SCHEMA streamext FROM det_other;
DROP ROLE det_other;

-- nothing was created by the refused calls
SELECT name FROM streamext.views WHERE stream = 'taps'::regclass ORDER BY name;
SELECT count(*) FROM pg_class WHERE relname = 'd1';
SELECT streamext.drop_view('per_hour');
SELECT streamext.drop_stream('taps');
DROP TABLE taps;
DROP AGGREGATE count_after_ten(timestamptz);
DROP FUNCTION count_after_ten(bigint, timestamptz), hour_of(timestamptz);
