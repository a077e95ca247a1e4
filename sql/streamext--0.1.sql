/* streamext--0.1.sql: catalog, SQL functions and views of streamext */

\echo Use "CREATE EXTENSION streamext" to load this file. \quit

-- streams: tables whose inserts feed continuous views
CREATE TABLE streamext.stream_def (
    relid       regclass PRIMARY KEY,
    time_column name,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- events older than this leave the stream (whole partitions are
    -- dropped by the worker); NULL: kept forever
    retention   interval
);

-- continuous views; query_tree is the analysed query, like a view's rule
CREATE TABLE streamext.view_def (
    id           serial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    view_relid   regclass NOT NULL,
    stream       regclass NOT NULL REFERENCES streamext.stream_def (relid),
    query        text NOT NULL,
    query_tree   text NOT NULL,
    window_spec  text,
    closed_relid regclass,
    start_lsn    pg_lsn NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- the query with every name outside pg_catalog schema-qualified, as
    -- pg_dump writes a view: what a restored database analyses again
    definition   text,
    -- how far behind the greatest event time the watermark stays
    lateness     interval NOT NULL DEFAULT '0',
    -- closed windows ending this long before the watermark are removed
    retention    interval
);

-- transition states of open windows, as of the last checkpoint
CREATE TABLE streamext.open_state (
    view_id      int NOT NULL REFERENCES streamext.view_def (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    group_key    bytea NOT NULL,
    state        bytea NOT NULL,
    window_end   timestamptz,    -- of a session; panes end where the view says
    PRIMARY KEY (view_id, window_start, group_key)
);

-- per view progress, as of the last checkpoint
CREATE TABLE streamext.view_progress (
    view_id        int PRIMARY KEY REFERENCES streamext.view_def (id) ON DELETE CASCADE,
    closed_upto    timestamptz NOT NULL DEFAULT '-infinity',
    max_event_time timestamptz NOT NULL DEFAULT '-infinity',
    events         bigint NOT NULL DEFAULT 0,
    late_events    bigint NOT NULL DEFAULT 0
);

-- subscriptions: events of a stream, or rows of a continuous view, delivered
-- in commit order with gap-free positions; filter_tree is the analysed filter
CREATE TABLE streamext.subscription_def (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    owner       regrole NOT NULL,
    source      regclass NOT NULL,
    view_id     int REFERENCES streamext.view_def (id),
    filter      text,
    filter_tree text,
    channel     text NOT NULL,
    notify      text NOT NULL CHECK (notify IN ('event', 'batch', 'none')),
    emit        text NOT NULL CHECK (emit IN ('final', 'changes')),
    start_lsn   pg_lsn NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    filter_definition text      -- filter, schema-qualified (see view_def.definition)
);

-- what the worker has delivered: written by the worker only
CREATE TABLE streamext.subscription_progress (
    subscription_id int PRIMARY KEY REFERENCES streamext.subscription_def (id) ON DELETE CASCADE,
    delivered_lsn   pg_lsn NOT NULL,
    newest_position bigint NOT NULL DEFAULT 0,
    last_notify     timestamptz
);

-- what consumers have acknowledged: written by ack() only, so that a
-- consumer's open transaction never blocks the worker
CREATE TABLE streamext.subscription_ack (
    subscription_id int PRIMARY KEY REFERENCES streamext.subscription_def (id) ON DELETE CASCADE,
    acked_position  bigint NOT NULL DEFAULT 0,
    acked_at        timestamptz
);

-- delivered entries not acknowledged yet (no foreign key: one check per
-- event would cost more than the insert; drop_subscription deletes them)
CREATE TABLE streamext.subscription_queue (
    subscription_id int NOT NULL,
    position        bigint NOT NULL,
    kind            text NOT NULL,
    event           jsonb NOT NULL,
    committed_at    timestamptz NOT NULL,
    PRIMARY KEY (subscription_id, position)
);

-- events a view or subscription could not evaluate, set aside
CREATE TABLE streamext.dead_letters (
    id         bigserial PRIMARY KEY,
    view_id    int REFERENCES streamext.view_def (id) ON DELETE CASCADE,
    subscription_id int REFERENCES streamext.subscription_def (id) ON DELETE CASCADE,
    commit_lsn pg_lsn NOT NULL,
    sqlstate   text NOT NULL,
    message    text NOT NULL,
    event      jsonb NOT NULL,
    committed_at timestamptz,
    noted_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((view_id IS NULL) <> (subscription_id IS NULL))
);

REVOKE ALL ON streamext.dead_letters FROM PUBLIC;
REVOKE ALL ON streamext.stream_def, streamext.view_def, streamext.open_state,
              streamext.view_progress, streamext.subscription_def,
              streamext.subscription_progress, streamext.subscription_ack,
              streamext.subscription_queue FROM PUBLIC;

CREATE FUNCTION streamext.check_setup() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_check_setup';
SELECT streamext.check_setup();

CREATE FUNCTION streamext.refuse_change() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_refuse_change';
CREATE FUNCTION streamext.note_write() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_note_write';

CREATE FUNCTION streamext.create_stream(stream regclass, time_column name DEFAULT NULL,
                                        retention interval DEFAULT NULL)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_create_stream';
-- changes how long a stream keeps its events (NULL: forever)
CREATE FUNCTION streamext.set_stream_retention(stream regclass, retention interval)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_set_stream_retention';
CREATE FUNCTION streamext.drop_stream(stream regclass)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_drop_stream';
CREATE FUNCTION streamext.create_view(name text, query text, "window" text DEFAULT NULL,
                                      lateness interval DEFAULT '0',
                                      retention interval DEFAULT NULL)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_create_view';
-- changes how long a view keeps closed windows (NULL: for ever)
CREATE FUNCTION streamext.set_view_retention(name text, retention interval)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_set_view_retention';
CREATE FUNCTION streamext.drop_view(name text)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_drop_view';
-- applies again the dead letters of a view or subscription
CREATE FUNCTION streamext.replay_dead_letters(name text, OUT replayed bigint, OUT failed bigint)
    RETURNS record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_replay_dead_letters';

-- recomputes a continuous view from its stream table
CREATE FUNCTION streamext.rebuild_view(name text)
    RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_rebuild_view';
-- make a view or subscription restored by pg_restore work (see adopt_restored)
CREATE FUNCTION streamext.adopt_view(view_id int)
    RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_adopt_view';
CREATE FUNCTION streamext.adopt_subscription(subscription_id int)
    RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_adopt_subscription';
REVOKE ALL ON FUNCTION streamext.adopt_view(int), streamext.adopt_subscription(int) FROM PUBLIC;

CREATE FUNCTION streamext.create_subscription(name text, source text,
        filter text DEFAULT NULL, channel text DEFAULT NULL,
        notify text DEFAULT 'event', emit text DEFAULT 'final')
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_create_subscription';
CREATE FUNCTION streamext.drop_subscription(name text)
    RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_drop_subscription';
-- entries after the acknowledged position, oldest first; idempotent until ack
CREATE FUNCTION streamext.poll(subscription text, max_events int DEFAULT 100)
    RETURNS TABLE ("position" bigint, event jsonb, committed_at timestamptz, kind text)
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_poll';
-- acknowledges every entry up to position; returns how many were newly acknowledged
CREATE FUNCTION streamext.ack(subscription text, "position" bigint)
    RETURNS bigint LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_ack';

-- the open windows of a view, read from shared memory
CREATE FUNCTION streamext.read_view(view_id int)
    RETURNS SETOF record LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'streamext_read_view';

-- waits until the worker has applied all WAL written before the call
CREATE FUNCTION streamext.wait_caught_up(timeout interval DEFAULT '60 seconds')
    RETURNS bool LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_wait_caught_up';

CREATE FUNCTION streamext.worker_status(
    OUT worker_pid int, OUT slot_name text, OUT decoded_lsn pg_lsn,
    OUT applied_lsn pg_lsn, OUT applied_commit_time timestamptz,
    OUT checkpoint_lsn pg_lsn, OUT checkpoint_time timestamptz,
    OUT events_decoded bigint, OUT transactions bigint,
    OUT restarts int, OUT last_error text, OUT last_error_time timestamptz)
    RETURNS record LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_worker_status';

CREATE FUNCTION streamext.stream_events(stream regclass)
    RETURNS bigint LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_stream_events';

CREATE FUNCTION streamext.view_stats(view_id int,
    OUT groups bigint, OUT windows bigint, OUT memory_bytes bigint,
    OUT events bigint, OUT late_events bigint, OUT dead_letters bigint)
    RETURNS record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_view_stats';

CREATE VIEW streamext.streams AS
SELECT s.relid AS stream,
       s.time_column,
       s.retention,
       w.worker_pid,
       streamext.stream_events(s.relid) AS events,
       w.applied_lsn,
       w.applied_commit_time,
       pg_wal_lsn_diff(pg_current_wal_flush_lsn(), w.decoded_lsn)::bigint AS lag_bytes,
       CASE WHEN w.decoded_lsn >= pg_current_wal_flush_lsn() THEN interval '0'
            ELSE clock_timestamp() - w.applied_commit_time END AS lag_time,
       w.checkpoint_lsn,
       w.checkpoint_time,
       w.restarts AS worker_restarts,
       w.last_error,
       w.last_error_time,
       s.created_at
  FROM streamext.stream_def s, streamext.worker_status() w;

CREATE VIEW streamext.views AS
SELECT v.id,
       v.name,
       v.view_relid AS view,
       v.stream,
       v.window_spec AS "window",
       v.lateness,
       v.retention,
       v.query,
       st.events,
       st.late_events,
       (SELECT count(*) FROM streamext.dead_letters d WHERE d.view_id = v.id) AS dead_letters,
       st.groups,
       st.windows AS open_windows,
       st.memory_bytes,
       v.start_lsn,
       v.created_at
  FROM streamext.view_def v, LATERAL streamext.view_stats(v.id) st;

-- the subscriptions the current role may use
CREATE VIEW streamext.subscriptions AS
SELECT s.name,
       s.source,
       CASE WHEN s.view_id IS NULL THEN 'stream' ELSE 'view' END AS source_kind,
       s.filter,
       s.channel,
       s.notify,
       s.emit,
       s.owner,
       a.acked_position,
       GREATEST(p.newest_position, a.acked_position) AS newest_position,
       GREATEST(p.newest_position - a.acked_position, 0) AS backlog,
       p.delivered_lsn,
       p.last_notify,
       a.acked_at,
       s.created_at
  FROM streamext.subscription_def s
  JOIN streamext.subscription_progress p ON p.subscription_id = s.id
  JOIN streamext.subscription_ack a ON a.subscription_id = s.id
 WHERE pg_has_role(s.owner, 'USAGE');

-- forgets the streams, continuous views and subscriptions whose relations a
-- DROP removed (DROP TABLE ... CASCADE, DROP VIEW, DROP SCHEMA ... CASCADE,
-- DROP OWNED); the worker sees the catalog change and lets them go
CREATE FUNCTION streamext.forget_dropped() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    gone record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects()
                    WHERE object_type IN ('table', 'view')) THEN
        RETURN;
    END IF;
    DELETE FROM streamext.subscription_queue q
     USING streamext.subscription_def s
     WHERE q.subscription_id = s.id
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.source);
    DELETE FROM streamext.subscription_def s
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.source);
    FOR gone IN
        DELETE FROM streamext.view_def d
         WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.view_relid)
            OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.stream)
        RETURNING d.id, d.closed_relid
    LOOP
        IF gone.closed_relid IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS streamext.closed_%s', gone.id);
        END IF;
    END LOOP;
    DELETE FROM streamext.stream_def s
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.relid);
END $$;
CREATE EVENT TRIGGER streamext_forget_dropped ON sql_drop
    EXECUTE FUNCTION streamext.forget_dropped();

GRANT USAGE ON SCHEMA streamext TO PUBLIC;
GRANT SELECT ON streamext.streams, streamext.views, streamext.subscriptions TO PUBLIC;

-- pg_dump and pg_restore.  pg_dump dumps the definitions of streams,
-- continuous views and subscriptions (the tables and sequences below; the
-- views, their closed-window tables and the streams' triggers are ordinary
-- objects it dumps anyway) and what consumers have not acknowledged yet.
-- It does not dump what the worker derives from the stream tables
-- (open_state, view_progress, subscription_progress): a view or subscription
-- without it was restored, its analysed query or filter still holds the
-- dumped database's OIDs and its WAL positions are another server's.
-- adopt_restored() analyses them again and computes the views from the
-- restored stream tables; pg_restore calls it through the event trigger
-- below once it creates a stream's triggers, after every table's data.
SELECT pg_catalog.pg_extension_config_dump('streamext.stream_def', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.view_def', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.view_def_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.subscription_def', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.subscription_def_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.subscription_ack', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.subscription_queue', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.dead_letters_id_seq', '');

-- adopts the restored views of a stream (of every stream: NULL), then their
-- subscriptions; one that fails is reported (a WARNING and its error) and
-- left for another call
CREATE FUNCTION streamext.adopt_restored(stream regclass DEFAULT NULL,
        OUT kind text, OUT name text, OUT error text)
    RETURNS SETOF record LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT 'view' AS what, d.id, d.name AS label FROM streamext.view_def d
         WHERE (adopt_restored.stream IS NULL OR d.stream = adopt_restored.stream)
           AND NOT EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = d.id)
        UNION ALL
        SELECT 'subscription', s.id, s.name FROM streamext.subscription_def s
         WHERE (adopt_restored.stream IS NULL OR s.source = adopt_restored.stream
                OR s.view_id IN (SELECT v.id FROM streamext.view_def v
                                  WHERE v.stream = adopt_restored.stream))
           AND NOT EXISTS (SELECT 1 FROM streamext.subscription_progress p
                            WHERE p.subscription_id = s.id)
        ORDER BY what DESC, id          -- views first: a view's subscriptions need it
    LOOP
        kind := r.what;
        name := r.label;
        error := NULL;
        BEGIN
            IF r.what = 'view' THEN
                PERFORM streamext.adopt_view(r.id);
            ELSE
                PERFORM streamext.adopt_subscription(r.id);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            error := SQLERRM;
            RAISE WARNING 'streamext cannot adopt restored % "%": %', r.what, r.label, SQLERRM
                USING HINT = 'Remove the cause and call SELECT * FROM streamext.adopt_restored(); again, or drop it.';
        END;
        RETURN NEXT;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION streamext.adopt_restored(regclass) FROM PUBLIC;

-- pg_restore creates a stream's triggers in its post-data section, after
-- the data of every table: then the stream's restored views and
-- subscriptions can be adopted (only that stream's, which the creating
-- transaction has locked already: parallel jobs do not deadlock).  Only the
-- catalog's owner restores the catalog: others' CREATE TRIGGER has nothing
-- to adopt.
CREATE FUNCTION streamext.adopt_after_restore() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s regclass;
BEGIN
    IF NOT has_table_privilege('streamext.view_def', 'UPDATE') THEN
        RETURN;
    END IF;
    FOR s IN SELECT t.tgrelid FROM pg_event_trigger_ddl_commands() c
               JOIN pg_trigger t ON t.oid = c.objid
              WHERE c.classid = 'pg_trigger'::regclass AND t.tgname = 'streamext_wake'
                AND EXISTS (SELECT 1 FROM streamext.stream_def d WHERE d.relid = t.tgrelid)
    LOOP
        PERFORM streamext.adopt_restored(s);
    END LOOP;
END $$;
CREATE EVENT TRIGGER streamext_adopt_restored ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER') EXECUTE FUNCTION streamext.adopt_after_restore();
