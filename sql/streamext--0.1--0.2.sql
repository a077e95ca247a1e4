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
--    forever), create_view ("window", retention), set_view_retention
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
