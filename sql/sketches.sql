-- sketches from Debian's packages in continuous views: unique visitors with
-- hll (postgresql-15-hll), percentiles with tdigest (postgresql-15-tdigest),
-- against plain SQL over the same events
SET timezone = 'UTC';
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE TABLE visits (url text NOT NULL, user_id bigint NOT NULL, ms float8 NOT NULL,
                     ts timestamptz NOT NULL);
SELECT streamext.create_stream('visits', time_column => 'ts');

-- hll leaves its aggregates' functions VOLATILE: refused until their owner
-- declares them deterministic.  hll_add_agg's form with explicit
-- parameters does not read the session's hll_set_defaults().
SELECT streamext.create_view('uniques', $$ SELECT url, hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1) AS users FROM visits GROUP BY url $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.declare_deterministic(f)
  FROM unnest(ARRAY['hll_add_trans4(internal, hll_hashval, integer, integer, bigint, integer)',
                    'hll_union_internal(internal, internal)', 'hll_union_trans(internal, hll)',
                    'hll_pack(internal)']::regprocedure[]) f;
SELECT function FROM streamext.deterministic_functions ORDER BY 1;

-- some events before the views (backfilled), the rest after
INSERT INTO visits SELECT '/p' || (i % 3), (i * 7919) % 5000, (i * 37) % 1000,
       '2026-01-01 00:00:00+00'::timestamptz + (i % 300) * interval '1 second'
  FROM generate_series(1, 3000) i;

SELECT streamext.create_view('uniques', $$ SELECT url, hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1) AS users, count(*) AS hits FROM visits GROUP BY url $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('uniques_hop', $$ SELECT url, hll_cardinality(hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1)) AS users FROM visits GROUP BY url $$,
                             "window" => 'hopping 2 minutes every 1 minute');
SELECT streamext.create_view('uniques_all', $$ SELECT hll_cardinality(hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1)) AS users, count(*) AS hits FROM visits $$);
SELECT streamext.create_view('latency', $$ SELECT url, tdigest_percentile(ms, 100, 0.99) AS p99, tdigest_percentile(ms, 100, 0.5) AS p50, count(*) AS n FROM visits GROUP BY url $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('latency_sessions', $$ SELECT url, tdigest(ms, 100) AS digest, count(*) AS n FROM visits GROUP BY url $$,
                             "window" => 'session 30 seconds');

INSERT INTO visits SELECT '/p' || (i % 3), (i * 104729) % 7000, (i * 53) % 1500,
       '2026-01-01 00:05:00+00'::timestamptz + (i % 300) * interval '1 second'
  FROM generate_series(1, 6000) i;
-- a late event of a closed window
INSERT INTO visits VALUES ('/p1', 424242, 1499, '2026-01-01 00:00:30+00');
SELECT streamext.wait_caught_up();

-- hll: exactly plain SQL's sketches (parallel aggregation would merge in
-- another order; hll's union does not depend on it, but keep the oracle plain)
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS windows, count(*) FILTER (WHERE v.users IS DISTINCT FROM o.users OR v.hits IS DISTINCT FROM o.hits) AS differ
  FROM uniques v FULL JOIN
       (SELECT url, date_bin('1 minute', ts, '2000-01-01') AS window_start,
               hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1) AS users, count(*) AS hits
          FROM visits GROUP BY 1, 2) o USING (url, window_start);
SELECT count(*) AS windows, count(*) FILTER (WHERE v.users IS DISTINCT FROM o.users) AS differ
  FROM uniques_hop v FULL JOIN
       (SELECT url, w.start AS window_start,
               hll_cardinality(hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1)) AS users
          FROM visits, LATERAL (VALUES (date_bin('1 minute', ts, '2000-01-01')),
                                       (date_bin('1 minute', ts, '2000-01-01') - interval '1 minute')) w(start)
         GROUP BY 1, 2) o USING (url, window_start);
SELECT v.users = o.users AS same, v.hits = o.hits AS same_hits, round(v.users) AS users
  FROM uniques_all v,
       (SELECT hll_cardinality(hll_add_agg(hll_hash_bigint(user_id), 12, 5, -1, 1)) AS users, count(*) AS hits
          FROM visits) o;
-- windows' sketches combine when read: the hour's unique users
SELECT round(hll_cardinality(hll_union_agg(users))) AS users FROM uniques;
SELECT count(DISTINCT user_id) AS exact_users FROM visits;

-- tdigest: within its error of the exact percentile (its result depends on
-- the order digests are merged in): at most 1.5% of the window's events on
-- the wrong side of the p99, 5% of the p50
SELECT count(*) AS windows,
       count(*) FILTER (WHERE abs(o.below_p99 - 0.99) > 0.015 OR abs(o.below_p50 - 0.5) > 0.05) AS off,
       count(*) FILTER (WHERE v.n <> o.n) AS miscounted
  FROM latency v JOIN LATERAL
       (SELECT count(*) AS n, avg((e.ms <= v.p99)::int) AS below_p99, avg((e.ms <= v.p50)::int) AS below_p50
          FROM visits e
         WHERE e.url = v.url AND e.ts >= v.window_start AND e.ts < v.window_end) o ON true;
SELECT count(*) FROM latency;
-- a session's digest: the share of its events at or below 750 ms
SELECT url, count(*) AS sessions, sum(n) AS events, bool_and(abs(estimated - exact) < 0.02) AS close
  FROM (SELECT s.url, s.n, (SELECT tdigest_percentile_of(d, 750) FROM (SELECT s.digest) x(d)) AS estimated,
               (SELECT avg((e.ms <= 750)::int) FROM visits e
                 WHERE e.url = s.url AND e.ts >= s.window_start AND e.ts < s.window_end) AS exact
          FROM latency_sessions s) q
 GROUP BY url ORDER BY url;
SELECT url, count(*) FROM visits GROUP BY url ORDER BY url;

SELECT streamext.drop_view(v) FROM unnest(ARRAY['uniques', 'uniques_hop', 'uniques_all', 'latency', 'latency_sessions']) v;
SELECT streamext.drop_stream('visits');
DROP TABLE visits;
SELECT streamext.declare_deterministic(f, false)
  FROM unnest(ARRAY['hll_add_trans4(internal, hll_hashval, integer, integer, bigint, integer)',
                    'hll_union_internal(internal, internal)', 'hll_union_trans(internal, hll)',
                    'hll_pack(internal)']::regprocedure[]) f;
DROP EXTENSION tdigest;
DROP EXTENSION hll;
