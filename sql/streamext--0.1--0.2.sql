/* streamext--0.1--0.2.sql: upgrade script of streamext from 0.1 to 0.2 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION streamext UPDATE TO '0.2'" to load this file. \quit

-- Without a streamext--0.2.sql, CREATE EXTENSION streamext (at 0.2) runs
-- streamext--0.1.sql and then this script: what is written here is what
-- every 0.2 database has, new or updated.  Each change goes in a section
-- of its own, headed by what it is for.

------------------------------------------------------------------------
-- NULL arguments: STRICT where NULL means nothing
--
-- In 0.1 these C functions were not STRICT and dereferenced their NULL
-- argument: streamext.drop_view(NULL) crashed the server.  A STRICT
-- function called with a NULL argument returns NULL without running.
-- The library checks these arguments too (check_arg_not_null), for a
-- database still at 0.1.
--
-- Left as they are, on purpose:
--  * functions where a NULL argument has a meaning: create_stream
--    (time_column, retention), set_stream_retention (retention: keep
--    forever), create_view ("window", retention,
--    time_zone from 0.2 on), set_view_retention
--    (retention: keep for ever), create_subscription (filter, channel;
--    notify and emit: their defaults), adopt_restored (stream: every
--    stream).  Their C code refuses a NULL in the other arguments with
--    ERRCODE_NULL_VALUE_NOT_ALLOWED;
--  * check_setup() and worker_status(), which take no argument;
--  * the trigger and event trigger functions, which SQL cannot call;
--  * the functions already STRICT in 0.1.
------------------------------------------------------------------------
ALTER FUNCTION streamext.drop_stream(regclass) STRICT;
ALTER FUNCTION streamext.drop_view(text) STRICT;
ALTER FUNCTION streamext.wait_caught_up(interval) STRICT;

------------------------------------------------------------------------
-- Dead letters by their view or subscription
--
-- replay_dead_letters, rebuild_view and adopt_view, the dead_letters
-- column of streamext.views, and the ON DELETE CASCADE of a dropped view
-- or subscription each look up the dead letters of one view or
-- subscription: without an index each read the whole table, which grows
-- with every event set aside.  Each row belongs to one of the two (the
-- table's CHECK), so each index holds only its own rows.  A database
-- still at 0.1 works without them, more slowly.
------------------------------------------------------------------------
CREATE INDEX dead_letters_view_id_idx ON streamext.dead_letters (view_id)
    WHERE view_id IS NOT NULL;
CREATE INDEX dead_letters_subscription_id_idx ON streamext.dead_letters (subscription_id)
    WHERE subscription_id IS NOT NULL;

------------------------------------------------------------------------
-- Calendar windows: create_view(..., time_zone)
--
-- A view's windows may be aligned in a named time zone (a day 23 or 25
-- hours long when the clocks change) and sized in months.  The zone is
-- kept in view_def.time_zone (NULL: fixed widths aligned to 2000-01-01
-- 00:00 UTC, as in 0.1), which pg_dump dumps with the rest of view_def,
-- and shown in streamext.views (made again below, in the section on time:
-- its column time_zone).  create_view is dropped and created again
-- with the new argument last: an overload beside 0.1's would make calls
-- without it ambiguous, and every 0.1 call still means the same.
------------------------------------------------------------------------
ALTER TABLE streamext.view_def ADD COLUMN time_zone text;

DROP FUNCTION streamext.create_view(text, text, text, interval, interval);
CREATE FUNCTION streamext.create_view(name text, query text, "window" text DEFAULT NULL,
                                      lateness interval DEFAULT '0',
                                      retention interval DEFAULT NULL,
                                      time_zone text DEFAULT NULL)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_create_view';

------------------------------------------------------------------------
-- Time: windows close when their time has come
--
-- A stream with a time column whose events stop (a quiet device, the end
-- of a load, history backfilled) closes its windows by the clock once it
-- has been quiet for idle_timeout; NULL keeps pure event time (windows
-- close only as later events move the watermark).  A stream without a
-- time column (event time = commit time) always closes by the clock.
-- Events further ahead than streamext.max_future are counted
-- (future_events).  lag_time counts from the last moment the worker had
-- read all the WAL there was, not from this database's last event.
------------------------------------------------------------------------
-- streams made at 0.1 keep pure event time (NULL); new ones get 1 second
ALTER TABLE streamext.stream_def ADD COLUMN idle_timeout interval
    CHECK (idle_timeout >= interval '0');

DROP FUNCTION streamext.create_stream(regclass, name, interval);
CREATE FUNCTION streamext.create_stream(stream regclass, time_column name DEFAULT NULL,
                                        retention interval DEFAULT NULL,
                                        idle_timeout interval DEFAULT '1 second')
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_create_stream';
-- changes how long a stream with a time column must be quiet before the
-- clock closes its windows (NULL: never, pure event time)
CREATE FUNCTION streamext.set_stream_idle_timeout(stream regclass, idle_timeout interval)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_set_stream_idle_timeout';

DROP VIEW streamext.streams;
DROP VIEW streamext.views;
DROP FUNCTION streamext.worker_status();
DROP FUNCTION streamext.view_stats(int);

CREATE FUNCTION streamext.worker_status(
    OUT worker_pid int, OUT slot_name text, OUT decoded_lsn pg_lsn,
    OUT applied_lsn pg_lsn, OUT applied_commit_time timestamptz,
    OUT checkpoint_lsn pg_lsn, OUT checkpoint_time timestamptz,
    OUT events_decoded bigint, OUT transactions bigint,
    OUT restarts int, OUT last_error text, OUT last_error_time timestamptz,
    OUT caught_up_time timestamptz)
    RETURNS record LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_worker_status';

CREATE FUNCTION streamext.view_stats(view_id int,
    OUT groups bigint, OUT windows bigint, OUT memory_bytes bigint,
    OUT events bigint, OUT late_events bigint, OUT dead_letters bigint,
    OUT future_events bigint)
    RETURNS record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_view_stats';

CREATE VIEW streamext.streams AS
SELECT s.relid AS stream,
       s.time_column,
       s.retention,
       w.worker_pid,
       streamext.stream_events(s.relid) AS events,
       w.applied_lsn,
       w.applied_commit_time,
       GREATEST(pg_wal_lsn_diff(pg_current_wal_flush_lsn(), w.decoded_lsn), 0)::bigint AS lag_bytes,
       CASE WHEN w.decoded_lsn >= pg_current_wal_flush_lsn() THEN interval '0'
            ELSE GREATEST(clock_timestamp() - w.caught_up_time, interval '0') END AS lag_time,
       w.checkpoint_lsn,
       w.checkpoint_time,
       w.restarts AS worker_restarts,
       w.last_error,
       w.last_error_time,
       s.created_at,
       s.idle_timeout
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
       v.created_at,
       st.future_events,
       v.time_zone
  FROM streamext.view_def v, LATERAL streamext.view_stats(v.id) st;

GRANT SELECT ON streamext.streams, streamext.views TO PUBLIC;

------------------------------------------------------------------------
-- Closing apart from the checkpoint
--
-- Windows close (their rows, their subscribers' entries) in a short
-- transaction of their own as soon as they are due, without writing the
-- open states: those are written by the periodic checkpoint.  A view's
-- progress then says at which decoding position its windows were closed
-- (closed_lsn) and which horizon its persisted open states go with
-- (states_closed_upto), so that a worker starting again from the
-- checkpoint neither loses nor repeats what was closed after it.  NULL:
-- as of the checkpoint (0.1's rows, and views that never closed early).
------------------------------------------------------------------------
ALTER TABLE streamext.view_progress ADD COLUMN closed_lsn pg_lsn,
    ADD COLUMN states_closed_upto timestamptz,
    -- events further ahead of their commit than streamext.max_future
    ADD COLUMN future_events bigint NOT NULL DEFAULT 0;

------------------------------------------------------------------------
-- Views on views
--
-- A continuous view may read another continuous view's closed windows:
-- view_def.stream is then that view's relation, not a stream's, which
-- view_def's foreign key to stream_def refused (dropped below, with the
-- catalog's other foreign keys between dumped tables).
------------------------------------------------------------------------

------------------------------------------------------------------------
-- replace_view: a continuous view changed in place
--
-- Gives a view a new query, window, lateness, retention and time zone
-- (create_view's arguments, with the same defaults), computed from the
-- events in its stream while producers wait for the scan, as rebuild_view
-- does.  Its relation stays (grants, comments and dependent objects), and
-- so do its id and its subscriptions with their positions; the columns
-- may only grow at the end, as CREATE OR REPLACE VIEW allows.  Not STRICT:
-- a NULL window means none.
------------------------------------------------------------------------
CREATE FUNCTION streamext.replace_view(name text, query text, "window" text DEFAULT NULL,
                                       lateness interval DEFAULT '0',
                                       retention interval DEFAULT NULL,
                                       time_zone text DEFAULT NULL)
    RETURNS void LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_replace_view';

------------------------------------------------------------------------
-- Row estimates of read_view
--
-- The planner asks read_view's support function how many rows it returns:
-- the open groups the worker published for the view, not PostgreSQL's
-- guess of 1,000 for every set-returning function.  The views of 0.1 call
-- read_view too, and get it without a change.
------------------------------------------------------------------------
CREATE FUNCTION streamext.read_view_support(internal) RETURNS internal
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'streamext_read_view_support';
ALTER FUNCTION streamext.read_view(int) SUPPORT streamext.read_view_support;

------------------------------------------------------------------------
-- Parallel restore: pg_restore -j
--
-- pg_dump orders the data of extension configuration tables by their
-- foreign keys, but that order is only the archive's: a parallel
-- pg_restore loads every table's data at once, in any order, and the
-- catalog's foreign keys between dumped tables (view_def -> stream_def,
-- subscription_def -> view_def, subscription_ack and dead_letters ->
-- view_def, subscription_def) refused rows whose parent was not loaded
-- yet.  Only streamext's own functions and worker write these tables (they
-- are closed to everybody else), and they always write a parent before its
-- children: the insert side of those keys checked nothing the code does
-- not ensure.  What the keys did on delete is kept by triggers: the dead
-- letters and acknowledgement of a dropped view or subscription go with
-- it, and a stream with views or a view with subscriptions cannot leave
-- the catalog (drop_stream and drop_view refuse first, with a hint).  The
-- keys towards tables pg_dump does not dump (open_state, view_progress,
-- subscription_progress) stay: their rows are written after the restore.
------------------------------------------------------------------------
ALTER TABLE streamext.view_def DROP CONSTRAINT view_def_stream_fkey;
ALTER TABLE streamext.subscription_def DROP CONSTRAINT subscription_def_view_id_fkey;
ALTER TABLE streamext.subscription_ack DROP CONSTRAINT subscription_ack_subscription_id_fkey;
ALTER TABLE streamext.dead_letters DROP CONSTRAINT dead_letters_view_id_fkey,
    DROP CONSTRAINT dead_letters_subscription_id_fkey;

-- what a deleted catalog row took with it, or refused, as its foreign keys did
CREATE FUNCTION streamext.catalog_deleted() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    child text;
BEGIN
    IF TG_TABLE_NAME = 'stream_def' THEN
        SELECT v.name INTO child FROM gone g JOIN streamext.view_def v ON v.stream = g.relid LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'stream of continuous view "%" cannot leave streamext.stream_def', child
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF TG_TABLE_NAME = 'view_def' THEN
        SELECT s.name INTO child FROM gone g JOIN streamext.subscription_def s ON s.view_id = g.id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'continuous view of subscription "%" cannot leave streamext.view_def', child
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        DELETE FROM streamext.dead_letters d USING gone g WHERE d.view_id = g.id;
    ELSE
        DELETE FROM streamext.subscription_ack a USING gone g WHERE a.subscription_id = g.id;
        DELETE FROM streamext.dead_letters d USING gone g WHERE d.subscription_id = g.id;
        -- after the DELETE, which waited for a worker writing the entries
        -- (it locks the row): this statement's snapshot sees them
        DELETE FROM streamext.subscription_queue q USING gone g WHERE q.subscription_id = g.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER streamext_deleted AFTER DELETE ON streamext.stream_def
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION streamext.catalog_deleted();
CREATE TRIGGER streamext_deleted AFTER DELETE ON streamext.view_def
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION streamext.catalog_deleted();
CREATE TRIGGER streamext_deleted AFTER DELETE ON streamext.subscription_def
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION streamext.catalog_deleted();

------------------------------------------------------------------------
-- Adoption when every piece of a restore is there
--
-- 0.1 adopted a stream's views and subscriptions when pg_restore created
-- the stream's triggers, which a serial restore does after every table's
-- data.  A parallel one creates them as soon as that stream's own data is
-- in, while other jobs may still load streamext's catalog (nothing was
-- adopted), the closed-window tables (adoption computed their rows, then
-- the dumped rows came too) or the queues (positions numbered too low).
-- Now each piece a restore brings notes itself, and whichever comes last
-- adopts:
--  * the dumped catalog tables' data: a statement trigger on each notes it
--    in restore_loaded (rows that streamext's own code writes are not a
--    restore's: streamext_note_restored_rows leaves them at once);
--  * a stream's data: its trigger streamext_wake exists (pg_restore
--    creates it after the table's data);
--  * a view's closed-window table: its primary key exists (likewise).
-- adopt_ready adopts the views and subscriptions whose pieces are all
-- there, once every dumped catalog table is loaded.  It runs after each
-- catalog load and, through the event trigger (streamext_adopt_after_restore
-- in C), after the DDL command that brings a stream's trigger or a closed
-- table's primary key, and after any command of the catalog's owner while
-- a restore waits: restore_loaded has rows and a restored view or
-- subscription is not adopted yet.  Every piece's transaction takes its
-- turn under one transaction-level advisory lock before looking, so that
-- of two pieces committed at the same time the later one sees the earlier
-- (without it, each saw the other's piece missing and nothing was
-- adopted).  An adopter never waits for a stream's or closed table's lock
-- while holding it (NOWAIT): the job holding it ran a command on that
-- table (or one referencing it), takes its turn when the command ends and
-- adopts; so parallel jobs do not deadlock.  The restore is over, and
-- restore_loaded emptied, once every piece is in and no table was busy:
-- from then on, as outside any restore, DDL neither takes that lock nor
-- waits for it (what failed to adopt, with a WARNING, waits for
-- adopt_restored(), which still adopts whatever waits, at any time).
------------------------------------------------------------------------
-- the dumped catalog tables whose data a restore brought (not dumped)
CREATE TABLE streamext.restore_loaded (
    catalog regclass PRIMARY KEY
);
REVOKE ALL ON streamext.restore_loaded FROM PUBLIC;

-- the restored views and subscriptions whose pieces are there, adopted;
-- called by the catalog's owner during a restore only (see above)
CREATE FUNCTION streamext.adopt_ready() RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    busy oid[] := '{}';         -- tables other transactions hold
    waiting int[] := '{}';      -- views that wait for a piece or a busy table
    subscriptions_wait bool := false;
BEGIN
    -- one adopter at a time, each seeing what the ones before committed
    -- (held to the end of the transaction, after the piece it brought)
    PERFORM pg_advisory_xact_lock('streamext.view_def'::regclass::oid::int, 0);
    IF (SELECT count(*) FROM streamext.restore_loaded
         WHERE catalog IN ('streamext.stream_def'::regclass, 'streamext.view_def'::regclass,
                           'streamext.subscription_def'::regclass, 'streamext.subscription_ack'::regclass,
                           'streamext.subscription_queue'::regclass, 'streamext.dead_letters'::regclass)) < 6 THEN
        RETURN;
    END IF;

    FOR r IN
        SELECT d.id, d.name, d.stream, d.closed_relid,
               (EXISTS (SELECT 1 FROM streamext.stream_def s WHERE s.relid = d.stream)
                AND EXISTS (SELECT 1 FROM pg_trigger t
                             WHERE t.tgrelid = d.stream AND t.tgname = 'streamext_wake')
                -- a view on a view: the view it reads is adopted
                OR EXISTS (SELECT 1 FROM streamext.view_def l
                             JOIN streamext.view_progress p ON p.view_id = l.id
                            WHERE l.view_relid = d.stream))
               AND (d.closed_relid IS NULL
                    OR EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = d.closed_relid AND i.indisprimary))
                   AS pieces_in
          FROM streamext.view_def d
         WHERE NOT EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = d.id)
         ORDER BY d.id
    LOOP
        -- adopted meanwhile with the view it reads (adopt_view adopts those on it)
        CONTINUE WHEN EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = r.id);
        IF NOT r.pieces_in OR r.stream = ANY (busy) THEN
            waiting := waiting || r.id;
            CONTINUE;
        END IF;
        BEGIN
            EXECUTE format('LOCK TABLE %s IN SHARE MODE NOWAIT', r.stream);
            IF r.closed_relid IS NOT NULL THEN
                EXECUTE format('LOCK TABLE %s IN ROW EXCLUSIVE MODE NOWAIT', r.closed_relid);
            END IF;
            PERFORM streamext.adopt_view(r.id);
        EXCEPTION
            WHEN lock_not_available THEN
                busy := busy || r.stream::oid;
                waiting := waiting || r.id;
            WHEN OTHERS THEN
                RAISE WARNING 'streamext cannot adopt restored view "%": %', r.name, SQLERRM
                    USING HINT = 'Remove the cause and call SELECT * FROM streamext.adopt_restored(); again, or drop it.';
        END;
    END LOOP;

    FOR r IN
        SELECT s.id, s.name, s.source, s.view_id,
               EXISTS (SELECT 1 FROM streamext.subscription_ack a WHERE a.subscription_id = s.id)
               AND (s.view_id IS NOT NULL
                    OR EXISTS (SELECT 1 FROM streamext.stream_def d WHERE d.relid = s.source)
                       AND EXISTS (SELECT 1 FROM pg_trigger t
                                    WHERE t.tgrelid = s.source AND t.tgname = 'streamext_wake'))
                   AS pieces_in,
               EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = s.view_id) AS view_adopted
          FROM streamext.subscription_def s
         WHERE NOT EXISTS (SELECT 1 FROM streamext.subscription_progress p WHERE p.subscription_id = s.id)
         ORDER BY s.id
    LOOP
        IF NOT r.pieces_in OR (r.view_id IS NOT NULL AND r.view_id = ANY (waiting))
           OR (r.view_id IS NULL AND r.source = ANY (busy)) THEN
            subscriptions_wait := true;
            CONTINUE;
        END IF;
        -- a view that could not be adopted: nor can its subscriptions
        CONTINUE WHEN r.view_id IS NOT NULL AND NOT r.view_adopted;
        BEGIN
            IF r.view_id IS NULL THEN
                EXECUTE format('LOCK TABLE %s IN SHARE MODE NOWAIT', r.source);
            END IF;
            PERFORM streamext.adopt_subscription(r.id);
        EXCEPTION
            WHEN lock_not_available THEN
                busy := busy || r.source::oid;
                subscriptions_wait := true;
            WHEN OTHERS THEN
                RAISE WARNING 'streamext cannot adopt restored subscription "%": %', r.name, SQLERRM
                    USING HINT = 'Remove the cause and call SELECT * FROM streamext.adopt_restored(); again, or drop it.';
        END;
    END LOOP;

    -- every piece is in and no table was busy: the restore is over (what
    -- failed waits for adopt_restored()); forget it, for the next one
    IF cardinality(waiting) = 0 AND NOT subscriptions_wait THEN
        DELETE FROM streamext.restore_loaded;
    END IF;
END $$;
REVOKE ALL ON FUNCTION streamext.adopt_ready() FROM PUBLIC;

-- a dumped catalog table's data arrived: note it, adopt what is ready
CREATE FUNCTION streamext.catalog_loaded(catalog regclass) RETURNS void
    LANGUAGE plpgsql STRICT SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO streamext.restore_loaded VALUES (catalog) ON CONFLICT DO NOTHING;
    PERFORM streamext.adopt_ready();
END $$;
REVOKE ALL ON FUNCTION streamext.catalog_loaded(regclass) FROM PUBLIC;

CREATE FUNCTION streamext.note_restored_rows() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_note_restored_rows';
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.stream_def
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.view_def
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.subscription_def
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.subscription_ack
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.subscription_queue
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();
CREATE TRIGGER streamext_restored AFTER INSERT ON streamext.dead_letters
    FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_restored_rows();

-- the event trigger: after any DDL command, not only CREATE TRIGGER (a
-- closed table's primary key, or a command of a job holding a lock
-- adopt_ready skipped).  Every role's DDL fires it, so it is in C: the
-- DDL of other roles and of streamext's own code leaves at once, the
-- catalog owner's reads restore_loaded (and no other table of the
-- catalog) outside a restore, and only a piece of a restore, or a
-- command while a restore waits, calls adopt_ready
CREATE OR REPLACE FUNCTION streamext.adopt_after_restore() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'streamext_adopt_after_restore';
DROP EVENT TRIGGER streamext_adopt_restored;
CREATE EVENT TRIGGER streamext_adopt_restored ON ddl_command_end
    EXECUTE FUNCTION streamext.adopt_after_restore();

------------------------------------------------------------------------
-- adopt_restored: a view on a view is adopted with the view it reads
--
-- adopt_view adopts the restored views on the view it adopts; 0.1's
-- adopt_restored would then call it again for them and report that they
-- were not restored.  The same function, skipping those.
------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION streamext.adopt_restored(stream regclass DEFAULT NULL,
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
        CONTINUE WHEN r.what = 'view'
            AND EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = r.id);
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

------------------------------------------------------------------------
-- Functions declared deterministic: declare_deterministic()
--
-- A view's query and a subscription's filter call only IMMUTABLE
-- functions, aggregate support functions included (determinism.c).  Some
-- extensions leave deterministic functions VOLATILE: hll's aggregates
-- (hll_add_agg, hll_union_agg) have volatile transition, combine and final
-- functions, and could not be used in a view.  The owner of such a
-- function (the superuser, for an extension's) may declare it
-- deterministic; views and filters defined from then on may call it.  A
-- declaration names the function by its schema-qualified signature (OIDs
-- change in a restore) and is dumped with streamext's catalog; renaming or
-- moving the function forgets it.  Readable by everyone: what may be
-- called in a view is no secret.
------------------------------------------------------------------------
CREATE TABLE streamext.deterministic_functions (
    function text PRIMARY KEY,              -- e.g. public.hll_pack(internal)
    declared_by name NOT NULL,
    declared_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('streamext.deterministic_functions', '');
REVOKE ALL ON streamext.deterministic_functions FROM PUBLIC;
GRANT SELECT ON streamext.deterministic_functions TO PUBLIC;

CREATE FUNCTION streamext.declare_deterministic(func regprocedure,
        deterministic boolean DEFAULT true)
    RETURNS void LANGUAGE C STRICT
    AS 'MODULE_PATHNAME', 'streamext_declare_deterministic';

------------------------------------------------------------------------
-- Lookup joins: views that join their stream to tables
--
-- A continuous view may join its stream to ordinary tables on a unique
-- key (lookup_join.c); each event is joined with the rows the tables held
-- when its transaction committed.  The worker keeps, per view and joined
-- table, the columns the view reads by join key, and persists those that
-- changed with each checkpoint here, so that after a crash it reloads
-- them as of the checkpoint it decodes from.  Like open_state, these rows
-- are the worker's and are not dumped: a restored view is computed again
-- from its stream and the tables as they are then (adopt_restored).
------------------------------------------------------------------------
CREATE TABLE streamext.lookup_rows (
    view_id   int NOT NULL REFERENCES streamext.view_def (id) ON DELETE CASCADE,
    lookup_no smallint NOT NULL,    -- the joined table, in the order of FROM
    join_key  bytea NOT NULL,
    row_data  bytea NOT NULL,
    PRIMARY KEY (view_id, lookup_no, join_key)
);
REVOKE ALL ON streamext.lookup_rows FROM PUBLIC;

------------------------------------------------------------------------
-- Scaling out: shard views on nodes, distributed views on a coordinator
--
-- On every server that holds a shard of a stream, a shard view is an
-- ordinary continuous view plus a relation of its partial states,
-- <view>_partials: per window and group, the aggregates' transition
-- states as servers exchange them (agg_wire_write: each type's binary
-- send format, with a version byte), its closed windows from the closed
-- table and its open ones from read_partials.  It is a plain view, so a
-- coordinator's postgres_fdw foreign table reads it with the group key and
-- window range pushed down to the node.  streamext.shard_views tells a
-- coordinator what each shard view computes (its signature) and how far
-- it has closed its windows.
--
-- On the coordinator a distributed view (distributed_view.c) is a plain
-- view over one foreign table per node, grouping their partial states by
-- window and key, combining them with combine_partials and computing the
-- row (outputs, HAVING) with distributed_row, in streamext's C code.
-- distributed_view_def is its definition, dumped with the rest.
------------------------------------------------------------------------
CREATE FUNCTION streamext.read_partials(view_id int)
    RETURNS SETOF record LANGUAGE c STRICT STABLE
    AS 'MODULE_PATHNAME', 'streamext_read_partials';
CREATE FUNCTION streamext.partial_wire(view_id int, closed_row tid)
    RETURNS bytea LANGUAGE c STRICT STABLE
    AS 'MODULE_PATHNAME', 'streamext_partial_wire';
CREATE FUNCTION streamext.shard_signature(view_id int)
    RETURNS text LANGUAGE c STRICT STABLE
    AS 'MODULE_PATHNAME', 'streamext_shard_signature';
CREATE FUNCTION streamext.publish_partials(view regclass)
    RETURNS regclass LANGUAGE c STRICT
    AS 'MODULE_PATHNAME', 'streamext_publish_partials';
CREATE FUNCTION streamext.create_shard_view(name text, query text, "window" text DEFAULT NULL,
                                            lateness interval DEFAULT '0',
                                            retention interval DEFAULT NULL,
                                            time_zone text DEFAULT NULL)
    RETURNS regclass LANGUAGE sql
    BEGIN ATOMIC
        SELECT streamext.create_view(name, query, "window", lateness, retention, time_zone);
        SELECT streamext.publish_partials(name::regclass);
    END;

-- shard views: a view whose <name>_partials the owner published
-- (those the current role may read)
CREATE VIEW streamext.shard_views AS
SELECT v.id,
       v.name,
       v.view_relid AS view,
       p.oid::regclass AS partials,
       p_ns.nspname AS partials_schema,
       p.relname AS partials_name,
       pr.closed_upto,
       pr.max_event_time
  FROM streamext.view_def v
  JOIN pg_catalog.pg_depend d
    ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = v.view_relid
   AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a'
  JOIN pg_catalog.pg_class p ON p.oid = d.objid AND p.relkind = 'v'
  JOIN pg_catalog.pg_namespace p_ns ON p_ns.oid = p.relnamespace
  LEFT JOIN streamext.view_progress pr ON pr.view_id = v.id
 WHERE has_table_privilege(v.view_relid, 'SELECT');
-- the signature, apart: computing it compiles the view
CREATE VIEW streamext.shard_signatures AS
SELECT s.name, s.partials_schema, s.partials_name, streamext.shard_signature(s.id) AS signature
  FROM streamext.shard_views s;
GRANT SELECT ON streamext.shard_views, streamext.shard_signatures TO PUBLIC;

CREATE TABLE streamext.distributed_view_def (
    id          serial PRIMARY KEY,
    name        text NOT NULL,          -- as created (the relation may be renamed)
    view_relid  regclass NOT NULL,
    source      regclass NOT NULL,      -- the coordinator's table of the stream's shape
    query       text NOT NULL,
    query_tree  text NOT NULL,
    definition  text NOT NULL,
    window_spec text,
    time_zone   text,
    lateness    interval NOT NULL,
    nodes       text[] NOT NULL,        -- postgres_fdw servers, in order
    node_tables regclass[] NOT NULL,    -- each node's partial states, a foreign table
    progress_tables regclass[] NOT NULL, -- and its shard views' progress
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ON streamext.distributed_view_def (view_relid);
SELECT pg_catalog.pg_extension_config_dump('streamext.distributed_view_def', '');
SELECT pg_catalog.pg_extension_config_dump('streamext.distributed_view_def_id_seq', '');
REVOKE ALL ON streamext.distributed_view_def FROM PUBLIC;
GRANT SELECT ON streamext.distributed_view_def TO PUBLIC;

CREATE FUNCTION streamext.create_distributed_view(name text, query text, nodes text[],
                                                  "window" text DEFAULT NULL,
                                                  lateness interval DEFAULT '0',
                                                  time_zone text DEFAULT NULL)
    RETURNS void LANGUAGE c
    AS 'MODULE_PATHNAME', 'streamext_create_distributed_view';
CREATE FUNCTION streamext.drop_distributed_view(name text)
    RETURNS void LANGUAGE c STRICT
    AS 'MODULE_PATHNAME', 'streamext_drop_distributed_view';

CREATE FUNCTION streamext.combine_partials_step(internal, int, bytea)
    RETURNS internal LANGUAGE c
    AS 'MODULE_PATHNAME', 'streamext_combine_partials_step';
CREATE FUNCTION streamext.combine_partials_final(internal)
    RETURNS bytea LANGUAGE c
    AS 'MODULE_PATHNAME', 'streamext_combine_partials_final';
CREATE AGGREGATE streamext.combine_partials(int, bytea) (
    SFUNC = streamext.combine_partials_step,
    STYPE = internal,
    FINALFUNC = streamext.combine_partials_final
);
CREATE FUNCTION streamext.distributed_row(view_id int, states bytea,
                                          window_start timestamptz, window_end timestamptz)
    RETURNS SETOF record LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'streamext_distributed_row';
CREATE FUNCTION streamext.distributed_row(view_id int, states bytea,
                                          window_start timestamptz, window_end timestamptz,
                                          VARIADIC keys "any")
    RETURNS SETOF record LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'streamext_distributed_row';
CREATE FUNCTION streamext.merge_sessions_step(internal, int, timestamptz, timestamptz, bytea)
    RETURNS internal LANGUAGE c
    AS 'MODULE_PATHNAME', 'streamext_merge_sessions_step';
CREATE FUNCTION streamext.merge_sessions_final(internal)
    RETURNS bytea LANGUAGE c
    AS 'MODULE_PATHNAME', 'streamext_merge_sessions_final';
CREATE AGGREGATE streamext.merge_sessions(int, timestamptz, timestamptz, bytea) (
    SFUNC = streamext.merge_sessions_step,
    STYPE = internal,
    FINALFUNC = streamext.merge_sessions_final
);

-- how far every node has closed a distributed view's windows: a window is
-- final once every node's closed_upto has passed its end
CREATE FUNCTION streamext.distributed_progress(name text)
    RETURNS TABLE (node text, closed_upto timestamptz, max_event_time timestamptz)
    LANGUAGE c STRICT STABLE
    AS 'MODULE_PATHNAME', 'streamext_distributed_progress';
-- the end up to which every window of a distributed view is final (NULL:
-- a node has closed none yet)
CREATE FUNCTION streamext.distributed_final_upto(name text)
    RETURNS timestamptz LANGUAGE sql STRICT STABLE
    RETURN (SELECT min(p.closed_upto) FROM streamext.distributed_progress(name) p
             HAVING count(p.closed_upto) = count(*));
CREATE VIEW streamext.distributed_views AS
SELECT d.id, d.name, d.view_relid AS view, d.source, d.nodes, d.window_spec AS "window",
       d.lateness, d.time_zone, d.query, d.created_at
  FROM streamext.distributed_view_def d;
GRANT SELECT ON streamext.distributed_views TO PUBLIC;

-- subscriptions of distributed views: the coordinator's worker delivers each
-- window once every node has closed it; delivered_upto is the end up to
-- which windows were queued, in the same transaction as their entries
CREATE TABLE streamext.distributed_delivery (
    subscription_id int PRIMARY KEY REFERENCES streamext.subscription_def (id) ON DELETE CASCADE,
    distributed_id  int NOT NULL REFERENCES streamext.distributed_view_def (id) ON DELETE CASCADE,
    delivered_upto  timestamptz NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('streamext.distributed_delivery', '');
REVOKE ALL ON streamext.distributed_delivery FROM PUBLIC;
-- the same view, telling subscriptions of distributed views apart
CREATE OR REPLACE VIEW streamext.subscriptions AS
SELECT s.name,
       s.source,
       CASE WHEN s.view_id IS NOT NULL THEN 'view'
            WHEN EXISTS (SELECT 1 FROM streamext.distributed_delivery d
                          WHERE d.subscription_id = s.id) THEN 'distributed view'
            ELSE 'stream' END AS source_kind,
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
