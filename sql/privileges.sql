-- privileges: an ordinary role uses streamext on its own tables; it cannot
-- read, through a view or filter, what it may not read, nor run what it may
-- not execute; other roles read its views and subscriptions only when
-- granted; search_path cannot slip functions under streamext's own SQL
SET timezone = 'UTC';
CREATE FUNCTION wait_for_rows(view regclass, n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  got bigint;
BEGIN
  FOR i IN 1..600 LOOP
    EXECUTE format('SELECT count(*) FROM %s', view) INTO got;
    EXIT WHEN got >= n;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN got;
END $$;
CREATE ROLE alice;
CREATE ROLE mallory;
GRANT CREATE ON SCHEMA public TO alice, mallory;
CREATE SCHEMA mallory AUTHORIZATION mallory;
CREATE TABLE secrets (v int);
INSERT INTO secrets VALUES (42);
-- peek reads a table: it is not immutable, but says so, to show that it
-- still runs as the view's owner
CREATE FUNCTION peek(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + (SELECT max(v) FROM public.secrets); END';
CREATE FUNCTION guarded(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
REVOKE EXECUTE ON FUNCTION guarded(int) FROM PUBLIC;

-- the owner of a table makes it a stream, with views and subscriptions
SET ROLE alice;
CREATE TABLE alice_events (k text NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('alice_events', 'ts');
SELECT streamext.create_view('alice_totals', $$ SELECT k, count(*) AS n, sum(v) AS s FROM alice_events GROUP BY k $$);
SELECT streamext.create_view('alice_minutes', $$ SELECT k, count(*) AS n FROM alice_events GROUP BY k $$, 'tumbling 1 minute');
SELECT streamext.create_subscription('alice_feed', 'alice_events', filter => 'v > 1');
INSERT INTO alice_events VALUES ('a', 1, '2026-01-01 10:00:00+00'), ('b', 2, '2026-01-01 10:00:30+00'),
                                ('a', 3, '2026-01-01 10:02:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM alice_totals ORDER BY k;
SELECT wait_for_rows('alice_minutes', 3);
SELECT * FROM alice_minutes ORDER BY window_start, k;
SELECT position, event->>'k' AS k FROM streamext.poll('alice_feed');

-- not over a table she does not own, nor with a function she may not run
SELECT streamext.create_stream('secrets');
SELECT streamext.create_view('peek_secrets', $$ SELECT count(*) AS n FROM secrets $$);
SELECT streamext.create_view('guarded_view', $$ SELECT k, sum(guarded(v)) AS s FROM alice_events GROUP BY k $$);
SELECT streamext.create_subscription('guarded_feed', 'alice_events', filter => 'guarded(v) > 0');
SELECT streamext.create_subscription('secret_feed', 'secrets');
-- a function that reads a table she may not read: while backfilling, each
-- event fails as her and is set aside (a warning says so); nothing leaks
SELECT streamext.create_view('sneaky_backfill', $$ SELECT k, sum(peek(v)) AS s FROM alice_events GROUP BY k $$);
SELECT * FROM sneaky_backfill;
SELECT streamext.drop_view('sneaky_backfill');
-- and on an empty stream, the worker runs it as her: the event is set aside,
-- the secret does not reach the view
CREATE TABLE alice_quiet (k text NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('alice_quiet', 'ts');
SELECT streamext.create_view('sneaky', $$ SELECT k, sum(peek(v)) AS s FROM alice_quiet GROUP BY k $$);
INSERT INTO alice_quiet VALUES ('x', 1, '2026-01-01 10:00:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM sneaky;
RESET ROLE;
SELECT wait_for_rows('streamext.dead_letters', 1);
SELECT v.name, d.sqlstate, d.message, d.event->>'k' AS k
  FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id;

-- another role reads her views and subscriptions only when granted
SET ROLE mallory;
SELECT * FROM alice_totals;
SELECT * FROM streamext.read_view((SELECT id FROM streamext.views WHERE name = 'alice_totals'))
  AS t(k text, n bigint, s bigint);
DO $$ BEGIN
  EXECUTE format('SELECT count(*) FROM streamext.closed_%s',
                 (SELECT id FROM streamext.views WHERE name = 'alice_minutes'));
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'the closed windows of alice_minutes: permission denied (%)', SQLSTATE;
END $$;
SELECT * FROM streamext.poll('alice_feed');
SELECT streamext.ack('alice_feed', 1);
SELECT streamext.drop_view('alice_totals');
SELECT streamext.drop_subscription('alice_feed');
SELECT streamext.rebuild_view('alice_totals');
SELECT streamext.drop_stream('alice_events');
SELECT * FROM streamext.replay_dead_letters('sneaky');
SELECT name FROM streamext.subscriptions;
RESET ROLE;
GRANT SELECT ON alice_totals TO mallory;
SET ROLE mallory;
SELECT * FROM alice_totals ORDER BY k;

-- search_path: her functions and operators do not run under streamext's SQL
CREATE TABLE m_events (v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('m_events', 'ts');
SELECT streamext.create_subscription('m_feed', 'm_events');
CREATE FUNCTION mallory.now() RETURNS timestamptz LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked as %', current_user; END $$;
CREATE FUNCTION mallory.int4eq_hijack(int, int) RETURNS bool LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked as %', current_user; END $$;
CREATE OPERATOR mallory.= (LEFTARG = int, RIGHTARG = int, FUNCTION = mallory.int4eq_hijack);
INSERT INTO m_events VALUES (7, '2026-01-01 10:00:00+00');
SELECT streamext.wait_caught_up();
SET search_path = mallory, pg_catalog, public;
SELECT 1 = 1;
SELECT position, event->>'v' AS v FROM streamext.poll('m_feed');
SELECT streamext.ack('m_feed', 1);
SELECT streamext.create_subscription('m_feed2', 'm_events');
SELECT streamext.drop_subscription('m_feed2');
ALTER TABLE m_events ADD COLUMN note text;
RESET search_path;
SELECT streamext.drop_subscription('m_feed');
SELECT streamext.drop_stream('m_events');
DROP TABLE m_events;
DROP OPERATOR mallory.= (int, int);
DROP FUNCTION mallory.now(), mallory.int4eq_hijack(int, int);
RESET ROLE;

-- the functions ordinary roles call that run as their owner pin search_path
SELECT p.proname, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace AND p.prosecdef;

-- clean up as her
SET ROLE alice;
SELECT streamext.drop_subscription('alice_feed');
SELECT streamext.drop_view('alice_totals');
SELECT streamext.drop_view('alice_minutes');
SELECT streamext.drop_view('sneaky');
SELECT streamext.drop_stream('alice_events');
SELECT streamext.drop_stream('alice_quiet');
DROP TABLE alice_events, alice_quiet;
RESET ROLE;
DROP SCHEMA mallory;
REVOKE CREATE ON SCHEMA public FROM alice, mallory;
DROP ROLE alice;
DROP ROLE mallory;
DROP TABLE secrets;
DROP FUNCTION peek(int), guarded(int), wait_for_rows(regclass, bigint);
