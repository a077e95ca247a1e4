-- NULL arguments: no call of a streamext function crashes the server,
-- whichever argument is NULL.  Every function of schema streamext that SQL
-- can call is taken from pg_proc (a function added later is covered without
-- editing this file) and called by an ordinary role with NULL in each
-- argument position in turn, the other arguments given a value, and then
-- with every argument NULL.  Each call prints "null result"
-- (a STRICT function given a NULL), "ok", or the SQLSTATE of its error; a
-- crash would fail every statement after it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS streamext;
RESET client_min_messages;
SET timezone = 'UTC';

-- a new database gets 0.2: streamext--0.1.sql, then the upgrade script
SELECT extversion FROM pg_extension WHERE extname = 'streamext';

-- what is STRICT in 0.2; the others take NULL in some argument on purpose
-- (see streamext--0.1--0.2.sql) or take no argument
SELECT p.oid::regprocedure AS function, p.proisstrict AS strict
  FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY p.proname, p.oid::regprocedure::text;

CREATE ROLE nulls_user;
GRANT CREATE ON SCHEMA public TO nulls_user;
-- the functions revoked from PUBLIC too: the role must get past the
-- privilege check to reach what the function does with a NULL
SELECT format('GRANT EXECUTE ON FUNCTION %s TO nulls_user', p.oid::regprocedure)
  FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND NOT has_function_privilege('nulls_user', p.oid, 'EXECUTE')
 ORDER BY 1 \gexec

-- null_calls calls every function of streamext with NULL at each argument
-- position (null_at 1, 2, ...) and at all of them (null_at "all").  Every
-- call runs in a subtransaction that is rolled back, also when it succeeds,
-- so that no call changes what the next one finds.  The arguments that are
-- not NULL get a value that lets the call go as far as it can: one by the
-- argument's name where the name says what it is (a query, a window), else
-- one by its type, naming the role's stream; a type without one fails the
-- test, to be given one here.
CREATE FUNCTION null_calls() RETURNS TABLE (fn regprocedure, null_at text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
  by_name constant jsonb := jsonb_build_object(
    'name', 'nulls_view', 'query', 'SELECT count(*) AS n FROM nulls_events',
    'window', 'tumbling 1 minute', 'source', 'nulls_events', 'filter', 'v > 0',
    'channel', 'nulls_channel', 'notify', 'batch', 'emit', 'final', 'time_zone', 'UTC');
  p record;
  pos int;
  n int;
  args text[];
  result text;
BEGIN
  FOR p IN
    SELECT f.oid, f.proname,
           (SELECT coalesce(array_agg(t::regtype ORDER BY i), '{}')
              FROM unnest(f.proargtypes) WITH ORDINALITY AS u(t, i)) AS types,
           (SELECT coalesce(array_agg(a.argname ORDER BY a.i), '{}')
              FROM unnest(coalesce(f.proargmodes, array_fill('i'::"char", ARRAY[f.pronargs])),
                          f.proargnames) WITH ORDINALITY AS a(mode, argname, i)
             WHERE a.mode IN ('i', 'b', 'v')) AS names
      FROM pg_proc f
     WHERE f.pronamespace = 'streamext'::regnamespace
       AND f.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
     ORDER BY f.proname, f.oid::regprocedure::text
  LOOP
    n := cardinality(p.types);
    -- the last pos, one past the arguments, is the call with all of them NULL
    FOR pos IN 1 .. n + 1 LOOP
      args := '{}';
      FOR i IN 1 .. n LOOP
        args := args || CASE
          WHEN i = pos OR pos > n THEN format('NULL::%s', p.types[i])
          WHEN p.types[i] = 'text'::regtype THEN
            quote_literal(coalesce(by_name ->> p.names[i], 'nulls_events')) || '::text'
          WHEN p.types[i] = 'regclass'::regtype THEN '''nulls_events''::regclass'
          WHEN p.types[i] = 'name'::regtype THEN '''ts''::name'
          WHEN p.types[i] = 'interval'::regtype THEN '''1 minute''::interval'
          WHEN p.types[i] IN ('integer'::regtype, 'bigint'::regtype) THEN format('1::%s', p.types[i])
          WHEN p.types[i] = 'boolean'::regtype THEN 'true'
          WHEN p.types[i] = 'regprocedure'::regtype THEN '''abs(integer)''::regprocedure'
          WHEN p.types[i] = 'bytea'::regtype THEN '''\x01''::bytea'
          WHEN p.types[i] = 'timestamptz'::regtype THEN '''2026-01-01 00:00+00''::timestamptz'
          WHEN p.types[i] = 'text[]'::regtype THEN 'ARRAY[''nulls_server'']'
          WHEN p.types[i] = 'tid'::regtype THEN '''(0,1)''::tid'
          WHEN p.types[i] = 'internal'::regtype THEN 'NULL::internal'
          WHEN p.types[i] = '"any"'::regtype THEN '1'
        END;
        IF args[i] IS NULL THEN
          RAISE EXCEPTION 'null_calls has no value of type % for %', p.types[i], p.oid::regprocedure;
        END IF;
      END LOOP;
      fn := p.oid;
      null_at := CASE WHEN pos > n THEN 'all' ELSE pos::text END;
      BEGIN
        EXECUTE format('SELECT streamext.%I(%s)::text', p.proname, array_to_string(args, ', '))
          INTO result;
        outcome := CASE WHEN result IS NULL THEN 'null result' ELSE 'ok' END;
        RAISE EXCEPTION USING ERRCODE = 'ZN001';     -- undo what the call did
      EXCEPTION
        WHEN SQLSTATE 'ZN001' THEN
          NULL;
        WHEN OTHERS THEN
          -- streamext's own messages for a NULL are part of the contract
          outcome := SQLSTATE || CASE WHEN SQLSTATE = '22004' THEN ': ' || SQLERRM ELSE '' END;
      END;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;

SET ROLE nulls_user;
CREATE TABLE nulls_events (v int, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('nulls_events', 'ts', idle_timeout => NULL);
SELECT * FROM null_calls();

-- the calls that crashed 0.1, by hand
SELECT streamext.drop_view(NULL);
SELECT streamext.wait_caught_up(NULL);
SELECT streamext.drop_stream(NULL);

-- the server is still up, the stream as it was, and the calls that
-- succeeded (create_view, create_subscription) were rolled back
SELECT stream, time_column, retention FROM streamext.streams WHERE stream = 'nulls_events'::regclass;
SELECT (SELECT count(*) FROM streamext.views WHERE name = 'nulls_view') AS views,
       (SELECT count(*) FROM streamext.subscriptions WHERE name = 'nulls_view') AS subscriptions,
       to_regclass('nulls_view') AS relation;
SELECT streamext.drop_stream('nulls_events');
RESET ROLE;

DROP TABLE nulls_events;
DROP FUNCTION null_calls();
REVOKE CREATE ON SCHEMA public FROM nulls_user;
SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM nulls_user', p.oid::regprocedure)
  FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace
   AND has_function_privilege('nulls_user', p.oid, 'EXECUTE')
   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1 \gexec
DROP ROLE nulls_user;
