# The second attack review's findings, each a way one role's code stopped or
# crashed the worker that every role's views share, or outlived a revoked
# privilege:
#  - a cast to json that takes a transaction ID, on an event a view sets
#    aside (crashed the worker in a loop, or restarted it for ever);
#  - the views and subscriptions of one event sharing one clock, so one
#    owner's slow code used up another's streamext.usercode_timeout;
#  - EXECUTE or SELECT held through a role membership, revoked.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('second_review', qq{
streamext.usercode_timeout = '1s'
});
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE att LOGIN;
CREATE ROLE vic LOGIN;
GRANT CREATE ON SCHEMA public TO att, vic;
SET ROLE vic;
CREATE TABLE public.vic_events (v int NOT NULL);
SELECT streamext.create_stream('public.vic_events');
SELECT streamext.create_view('vic_count', $$ SELECT count(*) AS n FROM public.vic_events $$);
});
my @att = (extra_params => ['-c', 'role=att']);

# a cast to json taking an XID, on events views set aside
$node->safe_psql('postgres', q{
SET ROLE att;
CREATE TYPE public.mood AS ENUM ('ok', 'sad');
CREATE FUNCTION public.mood_json(public.mood) RETURNS json LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM txid_current(); RETURN to_json($1::text); END $$;
CREATE CAST (public.mood AS json) WITH FUNCTION public.mood_json(public.mood);
CREATE FUNCTION public.xidf(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN IF $1 = 99 THEN PERFORM txid_current(); END IF; RETURN $1; END $$;
CREATE TABLE public.s6 (m public.mood, v int, ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('public.s6', 'ts');
SELECT streamext.create_view('v_xid', $$ SELECT count(*) AS n, sum(public.xidf(v)) AS s FROM public.s6 $$);
SELECT streamext.create_view('v_div', $$ SELECT count(*) AS n, sum(100 / v) AS s FROM public.s6 $$);
SELECT streamext.create_view('v_all', $$ SELECT count(*) AS n FROM public.s6 $$);
SELECT streamext.create_subscription('s6_sub', 'public.s6', notify => 'none');
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
SET ROLE att;
INSERT INTO public.s6 (m, v) VALUES ('sad', 99), ('ok', 1);
INSERT INTO public.s6 (m, v) VALUES ('sad', 0), ('ok', 2);
});
$node->safe_psql('postgres', 'SET ROLE vic; INSERT INTO public.vic_events VALUES (1)');
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT n FROM vic_count'), '1', "another role's view keeps up");
is($node->safe_psql('postgres', 'SELECT n FROM v_all'), '4', 'a view without bad events counts them all');
is($node->safe_psql('postgres', 'SELECT n, s FROM v_xid'), '3|3', 'the XID-taking event is set aside');
is($node->safe_psql('postgres', 'SELECT n, s FROM v_div'), '3|151', 'the dividing-by-zero event is set aside');
is($node->safe_psql('postgres', q{SELECT string_agg(v.name || ':' || (d.event->>'v'), ',' ORDER BY v.name)
                                   FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id}),
	'v_div:0,v_xid:99', 'their dead letters show the events, written without the cast');
is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.subscription_def s
                                   ON s.id = d.subscription_id WHERE s.name = 's6_sub'}), '4',
	'a subscription whose events take an XID in their cast sets each aside');
is($node->safe_psql('postgres', 'SELECT restarts, last_error IS NULL FROM streamext.worker_status()'), '0|t',
	'the worker neither restarted nor failed');

# one owner's slow code does not use up another's time
$node->safe_psql('postgres', q{
GRANT SELECT ON public.vic_events TO att;
SET ROLE att;
CREATE FUNCTION public.aslow(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM pg_sleep(0.6); RETURN $1; END $$;
SELECT streamext.create_subscription('a_sub', 'public.vic_events', filter => 'public.aslow(v) > 0', notify => 'none');
SET ROLE vic;
CREATE FUNCTION public.vslow(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM pg_sleep(0.6); RETURN $1; END $$;
SELECT streamext.create_subscription('v_sub', 'public.vic_events', filter => 'public.vslow(v) > 0', notify => 'none');
});
wait_caught_up($node);
$node->safe_psql('postgres', 'SET ROLE vic; INSERT INTO public.vic_events VALUES (3)');
wait_caught_up($node);
is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.subscription_def s
                                   ON s.id = d.subscription_id WHERE s.name IN ('a_sub', 'v_sub')}), '0',
	'two subscriptions each under streamext.usercode_timeout: neither is canceled');
is($node->safe_psql('postgres', q{SET ROLE vic; SELECT count(*) FROM streamext.poll('v_sub', 10)}), '1',
	"vic's subscription delivered the event");

# privileges through a role, revoked
$node->safe_psql('postgres', q{
CREATE ROLE grp;
GRANT grp TO att;
CREATE FUNCTION public.secretf(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 1000';
REVOKE EXECUTE ON FUNCTION public.secretf(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.secretf(int) TO grp;
SET ROLE att;
CREATE TABLE public.s3 (v int NOT NULL);
SELECT streamext.create_stream('public.s3');
SELECT streamext.create_view('v3', $$ SELECT count(*) AS n, sum(public.secretf(v)) AS s FROM public.s3 $$);
RESET ROLE;
CREATE TABLE public.s4 (v int NOT NULL);
SELECT streamext.create_stream('public.s4');
GRANT SELECT ON public.s4 TO grp;
SET ROLE att;
SELECT streamext.create_subscription('s4_sub', 'public.s4', notify => 'none');
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
INSERT INTO public.s3 VALUES (1);
INSERT INTO public.s4 VALUES (1);
REVOKE grp FROM att;
INSERT INTO public.s3 VALUES (2);
INSERT INTO public.s4 VALUES (2);
});
wait_caught_up($node);
is($node->safe_psql('postgres', q{SELECT string_agg(d.event->>'v', ',') FROM streamext.dead_letters d
                                   JOIN streamext.view_def v ON v.id = d.view_id WHERE v.name = 'v3'}), '2',
	'EXECUTE lost with a role membership applies to the events after it');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT n, s FROM v3');
like($err, qr/permission denied for function/, 'and reading the view needs it, as a view does');
$node->safe_psql('postgres', 'GRANT grp TO att');
is($node->safe_psql('postgres', 'SELECT n, s FROM v3'), '1|1000', 'granted again: the view reads, without that event');
is($node->safe_psql('postgres', q{SET ROLE att; SELECT string_agg(event->>'v', ',') FROM streamext.poll('s4_sub', 10)}), '1',
	'SELECT lost with a role membership: the events after it are not delivered');
is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters d
                                   JOIN streamext.subscription_def s ON s.id = d.subscription_id WHERE s.name = 's4_sub'}), '1',
	'but set aside');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();
