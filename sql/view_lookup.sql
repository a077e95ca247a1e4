-- reads by group key: a condition on every key column (=, IN, = ANY, a
-- cross-type =, a parameter, a join's outer column) reads only the groups
-- asked for, through the lookup scan that EXPLAIN shows, and returns what
-- a full read returns, for every window kind; the planner's estimates
-- follow the view's distinct keys
SET timezone = 'UTC';

-- the rows of query q that a full read (OFFSET 0 keeps the conditions out
-- of the view) does not return, and the other way round
CREATE FUNCTION differs(v text, cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  lookup text := format('SELECT * FROM %s WHERE %s', v, cond);
  full_read text := format('SELECT * FROM (SELECT * FROM %s OFFSET 0) s WHERE %s', v, cond);
  n bigint;
  extra bigint;
  missing bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) x', lookup) INTO n;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x', lookup, full_read) INTO extra;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x', full_read, lookup) INTO missing;
  RETURN format('%s rows, %s extra, %s missing', n, extra, missing);
END $$;

-- the plan of q without costs, closed-window tables named alike
CREATE FUNCTION plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, 'closed_[0-9]+', 'closed_N', 'g');
  END LOOP;
END $$;

-- whether the planner's row estimate of q is within 2x of its rows
CREATE FUNCTION estimate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  plan json;
  est float8;
  act float8;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO plan;
  est := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
  act := (plan -> 0 -> 'Plan' ->> 'Actual Rows')::float8;
  RETURN CASE WHEN est <= 2 * greatest(act, 1) AND act <= 2 * greatest(est, 1)
              THEN format('%s rows, estimate within 2x', act)
              ELSE format('%s rows, estimated %s', act, est) END;
END $$;

CREATE TABLE lk (k text NOT NULL, u bigint NOT NULL, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lk', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('lk_none', $$ SELECT k, count(*) AS n, sum(v) AS s FROM lk GROUP BY k $$);
SELECT streamext.create_view('lk_tum', $$ SELECT k, count(*) AS n, sum(v) AS s FROM lk GROUP BY k $$,
                             'tumbling 10 seconds', lateness => '1 minute');
SELECT streamext.create_view('lk_hop', $$ SELECT k, u, count(*) AS n FROM lk GROUP BY k, u $$,
                             'hopping 10 seconds every 5 seconds', lateness => '1 minute');
SELECT streamext.create_view('lk_cum', $$ SELECT u, count(*) AS n, max(v) AS top FROM lk GROUP BY u $$,
                             'cumulate 20 seconds every 5 seconds', lateness => '1 minute');
SELECT streamext.create_view('lk_ses', $$ SELECT u, count(*) AS n, min(v) AS lo FROM lk GROUP BY u $$,
                             'session 3 seconds', lateness => '1 minute');
SELECT streamext.create_view('lk_sl', $$ SELECT k, count(*) AS n, sum(v) AS s FROM lk GROUP BY k $$,
                             'sliding 20 seconds step 5 seconds', lateness => '1 minute');
-- its output is computed from the key, not the key: no lookup by it
SELECT streamext.create_view('lk_upper', $$ SELECT upper(k) AS big, count(*) AS n FROM lk GROUP BY k $$);

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

-- 200 seconds of events; the last minute's windows stay open, the others
-- close into the tables, whose statistics the plans below depend on
INSERT INTO lk SELECT 'k' || (i % 50), i % 7, i,
                      '2026-01-01 10:00:00+00'::timestamptz + i * interval '100 ms'
  FROM generate_series(1, 2000) i;
SELECT wait_for_checkpoint();
ANALYZE;
SET enable_bitmapscan = off;

-- a view without windows: one row per key, read by key
SELECT * FROM plan_of($$ SELECT * FROM lk_none WHERE k = 'k5' $$);
SELECT * FROM lk_none WHERE k = 'k5';
SELECT * FROM lk_none WHERE k IN ('k7', 'k5', 'k7', 'nope', NULL) ORDER BY k;
SELECT * FROM lk_none WHERE k = ANY ('{k1,k2}') ORDER BY k;
SELECT * FROM lk_none WHERE 'k3' = k;
SELECT * FROM lk_none WHERE k = 'nope';
SELECT differs('lk_none', $$ k = 'k5' $$);
SELECT differs('lk_none', $$ k IN ('k7', 'k5', 'k7') AND n > 0 $$);

-- every window kind: the open windows by lookup, the closed ones from the table
SELECT * FROM plan_of($$ SELECT * FROM lk_tum WHERE k = 'k5' $$);
SELECT differs('lk_tum', $$ k = 'k5' $$);
SELECT differs('lk_tum', $$ k IN ('k5', 'k6') $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_hop WHERE k = 'k5' AND u = 3 $$);
SELECT differs('lk_hop', $$ k = 'k5' AND u = 3 $$);
SELECT differs('lk_hop', $$ k = 'k5' AND u IN (3, 4) $$);
SELECT differs('lk_hop', $$ k IN ('k5', 'k12') AND u = ANY ('{3,5}'::bigint[]) $$);
SELECT differs('lk_cum', $$ u = 2 $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_ses WHERE u = 2 $$);
SELECT differs('lk_ses', $$ u = 2 $$);
SELECT differs('lk_ses', $$ u IN (0, 6) $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_sl WHERE k = 'k5' $$);
SELECT differs('lk_sl', $$ k = 'k5' $$);
SELECT differs('lk_sl', $$ k IN ('k5', 'k49') $$);

-- the newest windows first: the table's rows by its index, backwards
SELECT * FROM plan_of($$ SELECT * FROM lk_tum ORDER BY window_start DESC, k LIMIT 3 $$);
SELECT window_start, k, n FROM lk_tum ORDER BY window_start DESC, k LIMIT 3;
SELECT window_start, k, n FROM (SELECT * FROM lk_tum OFFSET 0) s ORDER BY window_start DESC, k LIMIT 3;
-- the open windows in window order too, made rows only as the limit takes them
SELECT count(*) FROM (SELECT * FROM lk_tum ORDER BY window_start DESC LIMIT 70) o
 WHERE window_start < (SELECT max(window_start) FROM lk_tum) - interval '20 seconds';
SELECT array_agg(u ORDER BY u) FROM (SELECT * FROM lk_ses ORDER BY window_start, u LIMIT 7) o;
SELECT array_agg(u ORDER BY u) FROM (SELECT * FROM (SELECT * FROM lk_ses OFFSET 0) s ORDER BY window_start, u LIMIT 7) o;
SELECT count(*) FROM (SELECT * FROM lk_tum WHERE n > 1 ORDER BY window_start DESC LIMIT 1000) o;
SELECT count(*) FROM (SELECT * FROM lk_tum WHERE n > 1 OFFSET 0) o;

-- only part of the key, or no key: every group is read, and filtered
SELECT * FROM plan_of($$ SELECT * FROM lk_hop WHERE k = 'k5' $$);
SELECT differs('lk_hop', $$ k = 'k5' $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_upper WHERE big = 'K5' $$);
SELECT * FROM lk_upper WHERE big = 'K5';

-- every group of a view whose groups are its rows (no window, tumbling,
-- session) is made a row as the consumer takes it, by the scan, with no
-- tuplestore; hopping and sliding windows combine panes in read_view;
-- both the same rows as plain SQL over the stream
SELECT * FROM plan_of($$ SELECT * FROM lk_none $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_ses $$);
SELECT * FROM plan_of($$ SELECT * FROM lk_hop $$);
SELECT count(*) AS extra FROM ((SELECT * FROM lk_none)
  EXCEPT ALL (SELECT k, count(*), sum(v) FROM lk GROUP BY k)) x;
SELECT count(*) AS missing FROM ((SELECT k, count(*), sum(v) FROM lk GROUP BY k)
  EXCEPT ALL (SELECT * FROM lk_none)) x;
SELECT count(*) AS extra FROM ((SELECT * FROM lk_tum)
  EXCEPT ALL (SELECT date_bin('10 seconds', ts, 'epoch'), date_bin('10 seconds', ts, 'epoch') + interval '10 seconds',
                     k, count(*), sum(v) FROM lk GROUP BY 1, 2, 3)) x;
SELECT count(*) AS missing, (SELECT count(*) FROM lk_tum) AS rows FROM
  ((SELECT date_bin('10 seconds', ts, 'epoch'), date_bin('10 seconds', ts, 'epoch') + interval '10 seconds',
           k, count(*), sum(v) FROM lk GROUP BY 1, 2, 3)
   EXCEPT ALL (SELECT * FROM lk_tum)) x;
-- in LATERAL, and rescanned as a correlated subquery's scan: one state of
-- the view for the whole statement, as read_view's tuplestore gave
SELECT count(*), count(s.tx) FROM (VALUES (1), (2)) t(x)
  LEFT JOIN LATERAL (SELECT v.k, v.n, t.x AS tx FROM lk_none v) s ON s.n = 40;
SELECT count(*), count(s.tx) FROM (VALUES (1), (2)) t(x)
  LEFT JOIN LATERAL (SELECT v.k, t.x AS tx FROM lk_tum v WHERE v.k = 'k5') s ON true;
SELECT t.x, (SELECT count(*) FROM lk_none v WHERE v.n > t.x) FROM generate_series(38, 41) t(x);
-- under UPDATE or row locks, read_view: their recheck of a concurrently
-- updated row (EvalPlanQual) asks a scan without a relation of its own for
-- its rows in a way the scan cannot answer
CREATE TABLE lk_target (k text PRIMARY KEY, n bigint);
SELECT count(*) FILTER (WHERE p LIKE '%Function Scan on read_view%') AS function_scans,
       count(*) FILTER (WHERE p LIKE '%streamext view lookup%') AS view_scans
  FROM plan_of($$ UPDATE lk_target t SET n = v.n FROM lk_tum v WHERE t.k = v.k $$) p;
SELECT count(*) FILTER (WHERE p LIKE '%Function Scan on read_view%') AS function_scans,
       count(*) FILTER (WHERE p LIKE '%streamext view lookup%') AS view_scans
  FROM plan_of($$ SELECT t.k FROM lk_target t JOIN lk_none v ON v.k = t.k WHERE t.k = 'k5' FOR UPDATE OF t $$) p;
SELECT count(*) FILTER (WHERE p LIKE '%streamext view lookup%') AS view_scans
  FROM plan_of($$ SELECT t.k FROM lk_target t JOIN lk_none v ON v.k = t.k WHERE t.k = 'k5' $$) p;
DROP TABLE lk_target;
-- a cursor takes the rows a few at a time
BEGIN;
DECLARE c CURSOR FOR SELECT k, n FROM lk_none;
MOVE FORWARD 2 IN c;
MOVE FORWARD ALL IN c;
CLOSE c;
COMMIT;

-- a parameter, in a generic plan
SET plan_cache_mode = force_generic_plan;
PREPARE by_keys(text[]) AS SELECT k, n FROM lk_none WHERE k = ANY ($1) ORDER BY k;
EXECUTE by_keys('{k1,k3,NULL}');
EXECUTE by_keys('{}');
EXECUTE by_keys(NULL);
PREPARE by_key(text) AS SELECT k, n FROM lk_none WHERE k = $1;
SELECT * FROM plan_of('EXECUTE by_key(''k4'')');
EXECUTE by_key('k4');
RESET plan_cache_mode;

-- a join with the view's key probes the view once per outer row
CREATE TABLE probe (k text PRIMARY KEY, label text);
INSERT INTO probe SELECT 'k' || i, 'label ' || i FROM generate_series(0, 9) i;
ANALYZE probe;
SELECT * FROM plan_of($$ SELECT p.label, v.n FROM probe p JOIN lk_none v ON v.k = p.k $$);
SELECT count(*), sum(v.n) FROM probe p JOIN lk_none v ON v.k = p.k;
SELECT count(*), sum(v.n) FROM probe p JOIN (SELECT * FROM lk_none OFFSET 0) v ON v.k = p.k;
SELECT count(*), sum(v.n) FROM probe p JOIN lk_sl v ON v.k = p.k;
SELECT count(*), sum(v.n) FROM probe p JOIN (SELECT * FROM lk_sl OFFSET 0) v ON v.k = p.k;
SELECT count(*), sum(v.n) FROM probe p LEFT JOIN lk_tum v ON v.k = p.k;
SELECT count(*), sum(v.n) FROM probe p LEFT JOIN (SELECT * FROM lk_tum OFFSET 0) v ON v.k = p.k;

-- estimates: the view's rows, a key's rows, a join's rows
SELECT estimate_of($$ SELECT * FROM lk_none $$);
SELECT estimate_of($$ SELECT * FROM lk_none WHERE k = 'k5' $$);
SELECT estimate_of($$ SELECT * FROM lk_none WHERE k IN ('k1', 'k2', 'k3', 'k4') $$);
SELECT estimate_of($$ SELECT * FROM probe p JOIN lk_none v ON v.k = p.k $$);
SELECT estimate_of($$ SELECT * FROM lk_sl WHERE k = 'k5' $$);
-- a key of two columns, a view with closed windows
SELECT estimate_of($$ SELECT * FROM lk_hop WHERE k = 'k5' AND u = 3 $$);
SELECT estimate_of($$ SELECT * FROM lk_tum WHERE k = 'k5' $$);
SELECT estimate_of($$ SELECT * FROM probe p JOIN lk_tum v ON v.k = p.k $$);

-- 10,000 groups published at once, then all but the last second's closed:
-- shared memory moves the few left to smaller tables (compact_groups), and
-- lookups and full reads still find every group once
CREATE TABLE lk_many_ev (k int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lk_many_ev', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('lk_many', $$ SELECT k, count(*) AS n FROM lk_many_ev GROUP BY k $$,
                             'tumbling 1 second');
INSERT INTO lk_many_ev SELECT i % 100, '2026-01-01 10:00:00+00'::timestamptz + (i / 100) * interval '1 second'
  FROM generate_series(0, 9999) i;
SELECT wait_for_checkpoint();
SELECT groups, open_windows FROM streamext.views WHERE name = 'lk_many';
SELECT differs('lk_many', $$ k = 7 $$);
SELECT differs('lk_many', $$ k IN (0, 99) $$);
SELECT count(*), sum(n) FROM lk_many;
SELECT count(*), sum(n) FROM lk_many WHERE window_start = '2026-01-01 10:01:39+00';

-- a reader without the view's grant is refused by a lookup too
CREATE ROLE lk_reader;
SET ROLE lk_reader;
SELECT * FROM lk_none WHERE k = 'k5';
RESET ROLE;
-- and one with it, but without EXECUTE on read_view, as a full read is
GRANT SELECT ON lk_none TO lk_reader;
REVOKE EXECUTE ON FUNCTION streamext.read_view(int) FROM PUBLIC;
SET ROLE lk_reader;
SELECT * FROM lk_none WHERE k = 'k5';
RESET ROLE;
GRANT EXECUTE ON FUNCTION streamext.read_view(int) TO PUBLIC;
REVOKE SELECT ON lk_none FROM lk_reader;
DROP ROLE lk_reader;

-- the keys looked up are the caller's values, computed as the filter
-- computes them: with the caller's settings, not those of user code
SELECT * FROM plan_of($$ SELECT * FROM lk_none
  WHERE k = CASE current_setting('transaction_read_only') WHEN 'off' THEN 'k5' ELSE 'k6' END $$);
SELECT * FROM lk_none
  WHERE k = CASE current_setting('transaction_read_only') WHEN 'off' THEN 'k5' ELSE 'k6' END;

-- a plan that calls read_view itself outlives replace_view: once the
-- column it looks up by is no longer the key, it reads every group
SELECT streamext.create_view('lk_rep', $$ SELECT k, max(u) AS u, count(*) AS n FROM lk GROUP BY k $$);
SELECT id AS rep_id FROM streamext.views WHERE name = 'lk_rep' \gset
SET plan_cache_mode = force_generic_plan;
PREPARE rep_by_k(text) AS
  SELECT count(*) FROM streamext.read_view(:rep_id) AS t(k text, u bigint, n bigint) WHERE k = $1;
SELECT * FROM plan_of('EXECUTE rep_by_k(''k9'')');
EXECUTE rep_by_k('k9');
SELECT streamext.replace_view('lk_rep', $$ SELECT max(k) AS k, u, count(*) AS n FROM lk GROUP BY u $$);
SELECT streamext.wait_caught_up();
EXECUTE rep_by_k('k9');
SELECT count(*) FROM lk_rep WHERE k = 'k9';
DEALLOCATE rep_by_k;
RESET plan_cache_mode;

-- a key of a type whose btree opclass cannot compare its values (xid[]:
-- anyarray's, but xid has a hash opclass only) gets no key index, whose
-- inserts would fail: its windows close into the table
CREATE TABLE lk_xid_ev (x xid[], ts timestamptz NOT NULL);
SELECT streamext.create_stream('lk_xid_ev', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('lk_xid', $$ SELECT x, count(*) AS n FROM lk_xid_ev GROUP BY x $$,
                             'tumbling 1 second');
SELECT count(*) AS key_indexes FROM pg_index
  WHERE indrelid = (SELECT closed_relid FROM streamext.view_def WHERE name = 'lk_xid')
    AND NOT indisprimary;
INSERT INTO lk_xid_ev VALUES ('{1}', '2026-01-01 10:00:00+00'), ('{2}', '2026-01-01 10:00:00+00'),
  ('{3}', '2026-01-01 10:00:00+00'), ('{1}', '2026-01-01 10:00:10+00');
SELECT wait_for_checkpoint();
SELECT window_start, x::text, n FROM lk_xid ORDER BY 1, 2;
SELECT count(*) AS dead_letters FROM streamext.dead_letters
  WHERE view_id = (SELECT id FROM streamext.views WHERE name = 'lk_xid');

SELECT streamext.drop_view(name) FROM streamext.views WHERE name LIKE 'lk%' ORDER BY id;
SELECT streamext.drop_stream('lk');
SELECT streamext.drop_stream('lk_many_ev');
SELECT streamext.drop_stream('lk_xid_ev');
DROP TABLE lk, probe, lk_many_ev, lk_xid_ev;
