-- lookup joins: a view joins its stream to tables on a unique key, and
-- each event is joined with the rows the tables held when its transaction
-- committed.  The oracle (lj_truth) joins each batch of events with the
-- tables in the statement that inserts it: what the tables held then.
SET timezone = 'UTC';
-- views made before the worker has its slot are computed again when it
-- makes it, with the tables as they are then (README): wait for the slot
DO $$
BEGIN
  FOR i IN 1..600 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_replication_slots WHERE database = current_database());
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
CREATE TABLE lj_countries (code text PRIMARY KEY, region text);
CREATE TABLE lj_users (id int PRIMARY KEY, country text, tier int, active bool NOT NULL DEFAULT true);
CREATE TABLE lj_clicks (user_id bigint, url text, ts timestamptz NOT NULL);
-- pure event time: windows close by events only, the same in every run
SELECT streamext.create_stream('lj_clicks', time_column => 'ts', idle_timeout => NULL);
CREATE TABLE lj_truth (user_id bigint, url text, ts timestamptz, country text, tier int, active bool, region text);
INSERT INTO lj_countries VALUES ('fr', 'eu'), ('de', 'eu'), ('us', 'am'), ('br', 'am');
INSERT INTO lj_users SELECT i, (ARRAY['fr', 'de', 'us', 'br', NULL])[1 + i % 5], i % 3, i % 7 <> 0
  FROM generate_series(1, 40) i;

-- a batch of events: inserted into the stream, and into the oracle as
-- joined by plain SQL in the same statement
CREATE FUNCTION lj_batch(n int, t0 timestamptz, seed int) RETURNS void LANGUAGE sql AS $$
  WITH b AS (INSERT INTO lj_clicks
             SELECT CASE WHEN i % 17 = 0 THEN NULL ELSE (i * seed) % 50 END, 'u' || (i % 4),
                    t0 + (i % 120) * interval '1 second'
               FROM generate_series(1, n) i RETURNING *)
  INSERT INTO lj_truth SELECT b.*, u.country, u.tier, u.active, k.region
    FROM b LEFT JOIN lj_users u ON u.id = b.user_id LEFT JOIN lj_countries k ON k.code = u.country
$$;

-- events before the views: their backfill joins the tables as they are
SELECT lj_batch(300, '2026-01-01', 7);

SELECT streamext.create_view('lj_tumble', $$ SELECT u.country, count(*) AS n, sum(u.tier) AS tiers
                                              FROM lj_clicks c JOIN lj_users u ON u.id = c.user_id GROUP BY u.country $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('lj_left', $$ SELECT u.country, c.url, count(*) AS n
                                            FROM lj_clicks c LEFT JOIN lj_users u ON u.id = c.user_id GROUP BY 1, 2 $$);
SELECT streamext.create_view('lj_hop', $$ SELECT k.region, count(*) AS n
                                           FROM lj_clicks c JOIN lj_users u ON u.id = c.user_id
                                           JOIN lj_countries k ON k.code = u.country GROUP BY k.region $$,
                             "window" => 'hopping 2 minutes every 1 minute');
SELECT streamext.create_view('lj_sess', $$ SELECT tier, count(*) AS n
                                            FROM lj_clicks JOIN lj_users ON lj_users.id = lj_clicks.user_id AND lj_users.active
                                           GROUP BY tier $$,
                             "window" => 'session 30 seconds');
SELECT streamext.create_view('lj_resid', $$ SELECT u.country, count(*) AS n, count(u.tier) AS with_tier
                                             FROM lj_clicks c LEFT JOIN lj_users u ON u.id = c.user_id AND u.active
                                            WHERE c.url <> 'u0' GROUP BY u.country $$);

SELECT streamext.create_view('lj_cum', $$ SELECT u.country, count(*) AS n FROM lj_clicks c JOIN lj_users u ON u.id = c.user_id
                                           GROUP BY 1 $$, "window" => 'cumulate 2 minutes every 1 minute');
SELECT streamext.create_view('lj_comma', $$ SELECT u.country, count(*) AS n FROM lj_clicks c, lj_users u
                                             WHERE u.id = c.user_id AND u.tier < 2 GROUP BY 1 $$);

-- changes of the tables, between and with events
SELECT lj_batch(300, '2026-01-01 00:02', 11);
UPDATE lj_users SET country = 'de' WHERE id % 4 = 1;
SELECT lj_batch(300, '2026-01-01 00:04', 13);
DELETE FROM lj_users WHERE id % 6 = 0;
INSERT INTO lj_users VALUES (41, 'fr', 2), (42, 'us', 1), (43, NULL, 0);
UPDATE lj_countries SET region = 'west' WHERE code = 'fr';
SELECT lj_batch(300, '2026-01-01 00:06', 17);
-- a key that changes: the row leaves its old key
UPDATE lj_users SET id = id + 100 WHERE id BETWEEN 10 AND 14;
UPDATE lj_users SET active = NOT active WHERE id % 5 = 2;
SELECT lj_batch(300, '2026-01-01 00:08', 19);
-- one transaction: changes of a table apply to its events after them
BEGIN;
UPDATE lj_users SET tier = tier + 10 WHERE id < 20;
SELECT lj_batch(300, '2026-01-01 00:10', 23);
COMMIT;
TRUNCATE lj_countries;
INSERT INTO lj_countries VALUES ('fr', 'eu2'), ('us', 'am2');
SELECT lj_batch(300, '2026-01-01 00:12', 29);
-- larger than streamext.stream_work_mem: decoded at its commit, not streamed
BEGIN;
UPDATE lj_users SET country = 'br' WHERE id % 3 = 0;
SELECT lj_batch(60000, '2026-01-01 00:14', 31);
COMMIT;
SELECT lj_batch(300, '2026-01-01 00:18', 37);
SELECT streamext.wait_caught_up();

SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n OR v.tiers IS DISTINCT FROM o.tiers) AS differ
  FROM lj_tumble v FULL JOIN
       (SELECT date_bin('1 minute', ts, '2000-01-01') AS ws, country, count(*) AS n, sum(tier) AS tiers
          FROM lj_truth WHERE country IS NOT NULL OR tier IS NOT NULL GROUP BY 1, 2) o
       ON o.ws = v.window_start AND coalesce(o.country, '-') = coalesce(v.country, '-');
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n) AS differ
  FROM lj_left v FULL JOIN (SELECT country, url, count(*) AS n FROM lj_truth GROUP BY 1, 2) o
       ON coalesce(o.country, '-') = coalesce(v.country, '-') AND o.url = v.url;
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n) AS differ
  FROM lj_hop v FULL JOIN
       (SELECT w AS ws, region, count(*) AS n
          FROM lj_truth, LATERAL (VALUES (date_bin('1 minute', ts, '2000-01-01')),
                                      (date_bin('1 minute', ts, '2000-01-01') - interval '1 minute')) x(w)
         WHERE region IS NOT NULL GROUP BY 1, 2) o ON o.ws = v.window_start AND o.region = v.region;
-- sessions per tier, whose events add up to plain SQL's
SELECT tier, v.n = o.n AS same
  FROM (SELECT tier, sum(n) AS n FROM lj_sess GROUP BY tier) v
  FULL JOIN (SELECT tier, count(*) AS n FROM lj_truth WHERE active GROUP BY tier) o USING (tier)
 ORDER BY 1;
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n OR v.with_tier IS DISTINCT FROM o.wt) AS differ
  FROM lj_resid v FULL JOIN
       (SELECT CASE WHEN active THEN country END AS country, count(*) AS n,
               count(CASE WHEN active THEN tier END) AS wt
          FROM lj_truth WHERE url <> 'u0' GROUP BY 1) o ON coalesce(o.country, '-') = coalesce(v.country, '-');
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n) AS differ
  FROM lj_cum v FULL JOIN
       (SELECT date_bin('2 minutes', ts, '2000-01-01') AS ws, e AS we, country, count(*) AS n
          FROM lj_truth, generate_series(date_bin('1 minute', ts, '2000-01-01') + interval '1 minute',
                                         date_bin('2 minutes', ts, '2000-01-01') + interval '2 minutes', interval '1 minute') e
         WHERE country IS NOT NULL OR tier IS NOT NULL GROUP BY 1, 2, 3) o
       ON o.ws = v.window_start AND o.we = v.window_end AND coalesce(o.country, '-') = coalesce(v.country, '-');
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n) AS differ
  FROM lj_comma v FULL JOIN (SELECT country, count(*) AS n FROM lj_truth WHERE tier < 2 GROUP BY 1) o
       ON coalesce(o.country, '-') = coalesce(v.country, '-');
SELECT lookup_no, count(*) > 0 AS persisted FROM streamext.lookup_rows r JOIN streamext.views v ON v.id = r.view_id
 WHERE v.name = 'lj_hop' GROUP BY 1 ORDER BY 1;

-- rebuild_view joins every event with the tables as they are now: the
-- README says so; rows equal plain SQL over the current tables
SELECT streamext.rebuild_view('lj_left');
SELECT count(*) AS rows, count(*) FILTER (WHERE v.n IS DISTINCT FROM o.n) AS differ
  FROM lj_left v FULL JOIN (SELECT u.country, c.url, count(*) AS n FROM lj_clicks c LEFT JOIN lj_users u ON u.id = c.user_id
                             GROUP BY 1, 2) o
       ON coalesce(o.country, '-') = coalesce(v.country, '-') AND o.url = v.url;

-- a transaction that changes a table after some of its events: all of
-- them are joined as of its commit (the worker decodes it again)
CREATE TABLE lj_one (id int PRIMARY KEY, label text);
INSERT INTO lj_one VALUES (1, 'before');
CREATE TABLE lj_ev (k int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lj_ev', time_column => 'ts');
SELECT streamext.create_view('lj_commit', $$ SELECT o.label, count(*) AS n FROM lj_ev e LEFT JOIN lj_one o ON o.id = e.k GROUP BY 1 $$);
SELECT streamext.create_view('lj_plain', $$ SELECT k, count(*) AS n FROM lj_ev GROUP BY 1 $$);
BEGIN;
INSERT INTO lj_ev VALUES (1, '2026-01-01');
UPDATE lj_one SET label = 'after' WHERE id = 1;
INSERT INTO lj_ev VALUES (1, '2026-01-01');
COMMIT;
BEGIN;
INSERT INTO lj_ev VALUES (1, '2026-01-01');
TRUNCATE lj_one;
INSERT INTO lj_ev VALUES (1, '2026-01-01');
COMMIT;
INSERT INTO lj_ev VALUES (1, '2026-01-01');
BEGIN;
INSERT INTO lj_ev VALUES (1, '2026-01-01'), (2, '2026-01-01');
INSERT INTO lj_one VALUES (1, 'last'), (2, 'two');
COMMIT;
-- more events than wait for the commit (4MB), then a change: decoded again
-- (the server log says so)
BEGIN;
INSERT INTO lj_ev SELECT 2, '2026-01-01' FROM generate_series(1, 150000);
UPDATE lj_one SET label = 'big' WHERE id = 2;
COMMIT;
SELECT streamext.wait_caught_up();
SELECT * FROM lj_commit ORDER BY 1;
SELECT * FROM lj_plain ORDER BY 1;
SELECT streamext.drop_view('lj_commit');
SELECT streamext.drop_view('lj_plain');
SELECT streamext.drop_stream('lj_ev');
DROP TABLE lj_ev;
-- an equality with a constant is no key when the key is covered without
-- it; values stored out of line, read by the backfill and left unchanged
-- by updates
CREATE TABLE lj_doc (id int PRIMARY KEY, kind text, body text);
INSERT INTO lj_doc SELECT i, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END,
       (SELECT string_agg(md5((i * 1000 + j)::text), '') FROM generate_series(1, 150) j)
  FROM generate_series(1, 4) i;
CREATE TABLE lj_read (doc int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lj_read', time_column => 'ts');
INSERT INTO lj_read VALUES (1, '2026-01-01'), (2, '2026-01-01');
SELECT streamext.create_view('lj_docs', $$ SELECT d.kind, count(*) AS n, sum(length(d.body)) AS chars
                                            FROM lj_read r JOIN lj_doc d ON d.id = r.doc AND d.kind = 'even' GROUP BY 1 $$);
UPDATE lj_doc SET kind = 'even' WHERE id = 3;
INSERT INTO lj_read VALUES (2, '2026-01-01'), (3, '2026-01-01'), (4, '2026-01-01'), (1, '2026-01-01');
SELECT streamext.wait_caught_up();
SELECT * FROM lj_docs;
SELECT d.kind, count(*) AS n, sum(length(d.body)) AS chars
  FROM (VALUES (2), (2), (3), (4)) r(doc) JOIN lj_doc d ON d.id = r.doc GROUP BY 1;
DELETE FROM lj_doc WHERE id = 4;
INSERT INTO lj_read VALUES (4, '2026-01-01');
SELECT streamext.rebuild_view('lj_docs');
SELECT streamext.wait_caught_up();
SELECT * FROM lj_docs;
-- replace_view moves the dependencies to what the view reads now
SELECT streamext.replace_view('lj_docs', $$ SELECT 'all'::text AS kind, count(*) AS n, sum(r.doc) AS chars
                                             FROM lj_read r GROUP BY 1 $$);
DROP TABLE lj_doc;
SELECT streamext.replace_view('lj_docs', $$ SELECT k.label AS kind, count(*) AS n, sum(r.doc) AS chars
                                             FROM lj_read r LEFT JOIN lj_one k ON k.id = r.doc GROUP BY 1 $$);
SELECT streamext.wait_caught_up();
SELECT * FROM lj_docs ORDER BY 1;
DROP TABLE lj_one;
-- a table that loses its unique key: the view fails once two rows share one
ALTER TABLE lj_one DROP CONSTRAINT lj_one_pkey;
ALTER TABLE lj_one REPLICA IDENTITY FULL;
INSERT INTO lj_one VALUES (1, 'dup');
SELECT streamext.wait_caught_up();
SELECT * FROM lj_docs;
-- nor can it get children, whose rows the worker would not see
CREATE TABLE lj_one_child () INHERITS (lj_one);
CREATE TABLE lj_orphan (id int, label text);
ALTER TABLE lj_orphan INHERIT lj_one;
DROP TABLE lj_orphan;
SELECT streamext.drop_view('lj_docs');
SELECT streamext.drop_stream('lj_read');
DROP TABLE lj_read, lj_one;
-- an index left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY is no key
CREATE TABLE lj_dup (code int NOT NULL, name text);
INSERT INTO lj_dup VALUES (1, 'a'), (1, 'b');
ALTER TABLE lj_dup REPLICA IDENTITY FULL;
CREATE UNIQUE INDEX CONCURRENTLY lj_dup_code ON lj_dup (code);
SELECT streamext.create_view('lj_bad', $$ SELECT d.name, count(*) FROM lj_clicks c JOIN lj_dup d ON d.code = c.user_id GROUP BY 1 $$);
DROP TABLE lj_dup;
-- a nondeterministic collation may match several rows of a unique key
CREATE COLLATION lj_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE lj_names (name text PRIMARY KEY, country text);
SELECT streamext.create_view('lj_bad', $$ SELECT n.country, count(*) FROM lj_clicks c JOIN lj_names n ON n.name = c.url COLLATE lj_ci GROUP BY 1 $$);
DROP TABLE lj_names;
DROP COLLATION lj_ci;
-- changes of a table in the transaction that creates (or rebuilds) a view
-- joining it, after create_view read it, reach the view at its commit
CREATE TABLE lj_tx (id int PRIMARY KEY, label text);
INSERT INTO lj_tx VALUES (1, 'A'), (2, 'B');
CREATE TABLE lj_txev (k int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lj_txev', time_column => 'ts');
BEGIN;
SELECT streamext.create_view('lj_txv', $$ SELECT t.label, count(*) AS n FROM lj_txev e JOIN lj_tx t ON t.id = e.k GROUP BY 1 $$);
UPDATE lj_tx SET label = 'A2' WHERE id = 1;
INSERT INTO lj_tx VALUES (3, 'C');
INSERT INTO lj_txev VALUES (1, '2026-01-01'), (3, '2026-01-01');
COMMIT;
INSERT INTO lj_txev VALUES (1, '2026-01-01'), (2, '2026-01-01'), (3, '2026-01-01');
BEGIN;
SELECT streamext.rebuild_view('lj_txv');
TRUNCATE lj_tx;
INSERT INTO lj_tx VALUES (3, 'C2');
COMMIT;
INSERT INTO lj_txev VALUES (1, '2026-01-01'), (3, '2026-01-01');
SELECT streamext.wait_caught_up();
SELECT * FROM lj_txv ORDER BY 1;
SELECT streamext.drop_view('lj_txv');
SELECT streamext.drop_stream('lj_txev');
DROP TABLE lj_txev, lj_tx;
-- a column of the stream that only a join reads is the view's too
ALTER TABLE lj_clicks DROP COLUMN user_id;

-- the tables a view joins, and their columns, cannot go from under it
DROP TABLE lj_users;
ALTER TABLE lj_users DROP COLUMN tier;
ALTER TABLE lj_users ADD COLUMN note text;
ALTER TABLE lj_users DROP COLUMN note;
-- nor can what lets the worker follow it change
ALTER TABLE lj_users ALTER COLUMN tier TYPE bigint;
ALTER TABLE lj_users SET UNLOGGED;
ALTER TABLE lj_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE lj_users REPLICA IDENTITY NOTHING;
ALTER TABLE lj_users REPLICA IDENTITY FULL;
ALTER TABLE lj_users REPLICA IDENTITY DEFAULT;
ALTER TABLE lj_users ALTER COLUMN active SET DEFAULT false;

-- joins refused, with the reason
CREATE TABLE lj_other (user_id bigint, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lj_other', time_column => 'ts');
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c JOIN lj_other o ON o.user_id = c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_users u RIGHT JOIN lj_clicks c ON u.id = c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c FULL JOIN lj_users u ON u.id = c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c JOIN lj_users u ON u.country = c.url $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c JOIN lj_users u ON u.id > c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_users u, lj_clicks c WHERE u.id = c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c, lj_users u WHERE u.country = c.url $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(u) FROM lj_clicks c JOIN lj_users u ON u.id = c.user_id $$);
SELECT streamext.create_view('lj_bad', $$ SELECT count(*) FROM lj_clicks c JOIN lj_users u ON u.id = c.user_id + (random() * 0)::int $$);
CREATE TABLE lj_mails (id int PRIMARY KEY, email text UNIQUE NOT NULL, country text);
SELECT streamext.create_view('lj_bad', $$ SELECT m.country, count(*) FROM lj_clicks c JOIN lj_mails m ON m.email = c.url GROUP BY 1 $$);
ALTER TABLE lj_mails REPLICA IDENTITY FULL;
SELECT streamext.create_view('lj_mail', $$ SELECT m.country, count(*) FROM lj_clicks c JOIN lj_mails m ON m.email = c.url GROUP BY 1 $$);
-- a key the replica identity stops logging: the view fails, with the reason
INSERT INTO lj_mails VALUES (1, 'u1', 'fr');
ALTER TABLE lj_mails REPLICA IDENTITY DEFAULT;
UPDATE lj_mails SET email = 'u2' WHERE id = 1;
SELECT streamext.wait_caught_up();
SELECT * FROM lj_mail;
ALTER TABLE lj_mails REPLICA IDENTITY FULL;
SELECT streamext.rebuild_view('lj_mail');
SELECT country, count = (SELECT count(*) FROM lj_clicks WHERE url = 'u2') AS counted FROM lj_mail;
CREATE UNLOGGED TABLE lj_scratch (id int PRIMARY KEY, v text);
SELECT streamext.create_view('lj_bad', $$ SELECT s.v, count(*) FROM lj_clicks c JOIN lj_scratch s ON s.id = c.user_id GROUP BY 1 $$);
CREATE VIEW lj_users_v AS SELECT * FROM lj_users;
SELECT streamext.create_view('lj_bad', $$ SELECT v.country, count(*) FROM lj_clicks c JOIN lj_users_v v ON v.id = c.user_id GROUP BY 1 $$);
SELECT streamext.create_view('lj_bad', $$ SELECT x.country, count(*) FROM lj_clicks c JOIN lj_left x ON x.url = c.url GROUP BY 1 $$);
-- the view's owner must be able to read what it joins
CREATE ROLE lj_role;
GRANT USAGE ON SCHEMA streamext TO lj_role;
GRANT CREATE ON SCHEMA public TO lj_role;
CREATE TABLE lj_mine (user_id bigint, ts timestamptz NOT NULL);
SELECT streamext.create_stream('lj_mine', time_column => 'ts');
ALTER TABLE lj_mine OWNER TO lj_role;
SET ROLE lj_role;
SELECT streamext.create_view('lj_denied', $$ SELECT u.country, count(*) FROM lj_mine m JOIN lj_users u ON u.id = m.user_id GROUP BY 1 $$);
RESET ROLE;
GRANT SELECT (id, country) ON lj_users TO lj_role;
SET ROLE lj_role;
SELECT streamext.create_view('lj_granted', $$ SELECT u.country, count(*) AS n FROM lj_mine m JOIN lj_users u ON u.id = m.user_id GROUP BY 1 $$);
SELECT streamext.create_view('lj_denied', $$ SELECT u.tier, count(*) FROM lj_mine m JOIN lj_users u ON u.id = m.user_id GROUP BY 1 $$);
RESET ROLE;
INSERT INTO lj_mine SELECT id, '2026-01-01' FROM lj_users WHERE country = 'fr';
SELECT streamext.wait_caught_up();
SELECT n = (SELECT count(*) FROM lj_users WHERE country = 'fr') AS counted FROM lj_granted;
-- after a REVOKE the view goes on following the table, but its subscriptions
-- deliver none of what its owner may no longer read: dead letters instead
SET ROLE lj_role;
SELECT streamext.create_subscription('lj_granted_feed', 'lj_granted', emit => 'changes', notify => 'none');
RESET ROLE;
REVOKE SELECT (id, country) ON lj_users FROM lj_role;
INSERT INTO lj_mine SELECT id, '2026-01-01' FROM lj_users WHERE country = 'de';
SELECT streamext.wait_caught_up();
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM streamext.dead_letters d JOIN streamext.subscription_def s ON s.id = d.subscription_id
                       WHERE s.name = 'lj_granted_feed');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SET ROLE lj_role;
SELECT count(*) AS delivered FROM streamext.poll('lj_granted_feed');
RESET ROLE;
SELECT DISTINCT d.sqlstate, d.message FROM streamext.dead_letters d
  JOIN streamext.subscription_def s ON s.id = d.subscription_id WHERE s.name = 'lj_granted_feed';
SELECT streamext.drop_subscription('lj_granted_feed');

SELECT streamext.drop_view(v) FROM unnest(ARRAY['lj_tumble', 'lj_left', 'lj_hop', 'lj_sess', 'lj_resid', 'lj_cum', 'lj_comma', 'lj_mail', 'lj_granted']) v;
-- dropped views leave nothing behind
SELECT count(*) FROM streamext.lookup_rows;
REVOKE ALL ON lj_users FROM lj_role;
DROP TABLE lj_users CASCADE;
SELECT streamext.drop_stream('lj_clicks');
SELECT streamext.drop_stream('lj_other');
SELECT streamext.drop_stream('lj_mine');
DROP TABLE lj_clicks, lj_other, lj_mine, lj_truth, lj_countries, lj_mails, lj_scratch;
DROP FUNCTION lj_batch;
REVOKE USAGE ON SCHEMA streamext FROM lj_role;
REVOKE CREATE ON SCHEMA public FROM lj_role;
DROP ROLE lj_role;
