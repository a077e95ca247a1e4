# The user-code boundary, aggregates and expressions: an ordinary role's
# aggregate support functions (transition, combine, final) and view
# functions run as that role, restricted and read-only, wherever the worker
# or a reader calls them: per event, when panes are combined, when windows
# close, when late events correct a closed window, when sessions merge, and
# at read time.  Each function tries to make its owner a superuser and
# reports who ran it in the view's result; neither may work.  A set_config()
# of one owner's function does not reach another owner's, and a session
# advisory lock taken by a view's function does not stay with the worker.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('usercode_owner');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE mallory LOGIN;
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
GRANT CREATE ON SCHEMA public TO mallory, alice, bob;
});

# mallory's aggregate: every support function tries to become superuser and
# adds a million when it does not run as mallory
$node->safe_psql('postgres', q{
SET ROLE mallory;
CREATE FUNCTION grab() RETURNS int8 LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  EXCEPTION WHEN others THEN NULL;
  END;
  RETURN CASE WHEN current_user = 'mallory' THEN 0 ELSE 1000000 END;
END $$;
CREATE FUNCTION m_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + $2 + public.grab(); END';
CREATE FUNCTION m_combine(int8, int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + $2 + public.grab(); END';
CREATE FUNCTION m_final(int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + public.grab(); END';
CREATE AGGREGATE m_sum(int) (sfunc = m_trans, stype = int8, combinefunc = m_combine,
                             finalfunc = m_final, initcond = '0');
CREATE FUNCTION m_key(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + public.grab(); END';
CREATE TABLE m_events (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('m_events', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('m_running', $$ SELECT m_key(k) AS k, m_sum(v) AS s FROM m_events GROUP BY 1 $$);
SELECT streamext.create_view('m_hop', $$ SELECT k, m_sum(v) AS s FROM m_events GROUP BY k $$,
                             "window" => 'hopping 2 minutes every 1 minute');
SELECT streamext.create_view('m_tumble', $$ SELECT k, m_sum(v) AS s FROM m_events GROUP BY k $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('m_session', $$ SELECT k, m_sum(v) AS s FROM m_events GROUP BY k $$,
                             "window" => 'session 30 seconds');
SELECT streamext.create_view('m_slide', $$ SELECT k, m_sum(v) AS s FROM m_events GROUP BY k $$,
                             "window" => 'sliding 2 minutes step 30 seconds');
});
wait_caught_up($node);

# events over several minutes close windows; a late one corrects a closed
# tumbling window; one bridges two sessions, which merge
$node->safe_psql('postgres', q{
INSERT INTO m_events VALUES (1, 10, '2026-01-01 10:00:05+00'), (2, 20, '2026-01-01 10:00:40+00');
INSERT INTO m_events VALUES (1, 11, '2026-01-01 10:00:50+00'), (1, 12, '2026-01-01 10:01:35+00');
INSERT INTO m_events VALUES (2, 21, '2026-01-01 10:03:10+00'), (1, 13, '2026-01-01 10:04:00+00');
INSERT INTO m_events VALUES (1, 14, '2026-01-01 10:01:10+00');
INSERT INTO m_events VALUES (2, 22, '2026-01-01 10:06:00+00');
});
wait_caught_up($node);
wait_checkpointed($node);

is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), 'f',
	'mallory is not superuser after her functions ran in the worker and in readers');
for my $view (qw(m_running m_hop m_tumble m_session m_slide))
{
	my $bad = $node->safe_psql('postgres', "SELECT count(*) FROM $view WHERE s >= 1000000");
	is($bad, '0', "$view: every support function ran as mallory");
}
check_view($node, 'postgres', 'm_running', 'SELECT k, sum(v) FROM m_events GROUP BY k', 'owner rights');
check_view($node, 'postgres', 'm_tumble',
	q{SELECT date_bin('1 minute', ts, '2000-01-01'), date_bin('1 minute', ts, '2000-01-01') + interval '1 minute',
	         k, sum(v) FROM m_events GROUP BY 1, 2, 3}, 'closed, corrected and open windows');
# group 1: 10:00:05 alone; 10:00:50 and 10:01:35, both closed, merged by the
# late 10:01:10; 10:04:00 alone
is($node->safe_psql('postgres', q{SELECT count(*) FROM m_session WHERE k = 1}), '3',
	'the late bridging event merged two closed sessions of group 1');
is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.dead_letters'), '0',
	'no support function failed');

# a revoked EXECUTE on the aggregate's support function is checked when the
# view is created, as the executor checks it (ExecInitAgg)
$node->safe_psql('postgres', q{
CREATE FUNCTION su_trans(int8, int) RETURNS int8 LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
REVOKE EXECUTE ON FUNCTION su_trans(int8, int) FROM PUBLIC;
CREATE AGGREGATE public.su_sum(int) (sfunc = su_trans, stype = int8, combinefunc = int8pl, initcond = '0');
ALTER AGGREGATE public.su_sum(int) OWNER TO mallory;
});
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT streamext.create_view('m_nope', $$ SELECT k, su_sum(v) AS s FROM m_events GROUP BY k $$)});
like($err, qr/permission denied for function (public\.)?su_trans/,
	'an aggregate whose owner may not execute its transition function is refused');

# set_config() of alice's function stays in alice's call; bob's function
# sees what the server has
$node->safe_psql('postgres', q{
SET ROLE alice;
CREATE FUNCTION alice_set(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM set_config('streamext_test.leak', 'alice', false);
            PERFORM set_config('search_path', 'alice_schema, pg_catalog', false); RETURN $1; END $$;
CREATE FUNCTION alice_lock(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM pg_advisory_lock(4242); RETURN $1; END $$;
CREATE TABLE alice_events (v int NOT NULL);
SELECT streamext.create_stream('alice_events');
SELECT streamext.create_view('alice_view', $$ SELECT count(*) AS n, sum(alice_set(v)) AS s, max(alice_lock(v)) AS l FROM alice_events $$);
SET ROLE bob;
CREATE FUNCTION bob_probe(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN RETURN CASE WHEN current_setting('streamext_test.leak', true) = 'alice'
                         OR current_setting('search_path') LIKE '%alice%' THEN 1 ELSE 0 END; END $$;
CREATE TABLE bob_events (v int NOT NULL);
SELECT streamext.create_stream('bob_events');
SELECT streamext.create_view('bob_view', $$ SELECT count(*) AS n, sum(bob_probe(v)) AS leaked FROM bob_events $$);
});
wait_caught_up($node);
for my $i (1 .. 5)
{
	$node->safe_psql('postgres', "INSERT INTO alice_events VALUES ($i)");
	$node->safe_psql('postgres', "INSERT INTO bob_events VALUES ($i)");
}
$node->safe_psql('postgres', q{BEGIN; INSERT INTO alice_events VALUES (6); INSERT INTO bob_events VALUES (6); COMMIT;});
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT n, s FROM alice_view'), '6|21', "alice's view counts her events");
is($node->safe_psql('postgres', 'SELECT n, leaked FROM bob_view'), '6|0',
	"alice's set_config() did not reach bob's function");
is($node->safe_psql('postgres', 'SELECT pg_try_advisory_lock(4242)'), 't',
	"the session advisory lock alice's function took did not stay with the worker");
is($node->safe_psql('postgres', 'SELECT restarts FROM streamext.worker_status()'), '0',
	'the worker did not restart');

# EXECUTE is checked as of each event: a REVOKE applies to the events
# committed after it, a GRANT again to those after that
$node->safe_psql('postgres', q{
CREATE FUNCTION public.doubled(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
REVOKE EXECUTE ON FUNCTION public.doubled(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.doubled(int) TO mallory;
SET ROLE mallory;
CREATE TABLE public.m_grants (v int NOT NULL);
SELECT streamext.create_stream('public.m_grants');
SELECT streamext.create_view('m_doubled', $$ SELECT count(*) AS n, sum(public.doubled(v)) AS s FROM public.m_grants $$);
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
INSERT INTO m_grants VALUES (1), (2);
REVOKE EXECUTE ON FUNCTION public.doubled(int) FROM mallory;
INSERT INTO m_grants VALUES (100);
GRANT EXECUTE ON FUNCTION public.doubled(int) TO mallory;
INSERT INTO m_grants VALUES (3);
});
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT n, s FROM m_doubled'), '3|12',
	'the event committed while EXECUTE was revoked does not count');
is($node->safe_psql('postgres', q{
SELECT d.message, d.event->>'v' FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
 WHERE v.name = 'm_doubled'}), 'permission denied for function public.doubled(integer)|100',
	'it is a dead letter, with the reason');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();
