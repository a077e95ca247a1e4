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
    ADD COLUMN states_closed_upto timestamptz;

------------------------------------------------------------------------
-- Views on views
--
-- A continuous view may read another continuous view's closed windows:
-- view_def.stream is then that view's relation, not a stream's.
------------------------------------------------------------------------
ALTER TABLE streamext.view_def DROP CONSTRAINT IF EXISTS view_def_stream_fkey;

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
