# One role's code must not stop the worker that every role's views share:
# "Restarting the worker is for failures of the machinery, never for bad
# data", and "a failure that is one event's fault costs that event".  Each
# case runs in a database of its own (a worker each); alice's view in it
# must keep up while mallory's objects fail.
#  - changes: a 'changes' subscription's output expression failing on one
#    group (subscription.c collect_changes).
#  - json: the role's cast to json failing on an event.
#  - temp_type: a view whose output has a type of the creator's temporary
#    schema (refused: the column would go with the session).
#  - slow: a view's function sleeping longer than streamext.usercode_timeout.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('worker_stalled');
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE mallory LOGIN;
});
my @alice = (extra_params => ['-U', 'alice']);
my @mallory = (extra_params => ['-U', 'mallory']);

my %attack = (
	changes => q{
CREATE TABLE m_events (k int, v int);
SELECT streamext.create_stream('m_events');
SELECT streamext.create_view('m_view', 'SELECT k, 100 / (count(*) - 2) AS r FROM m_events GROUP BY k');
SELECT streamext.create_subscription('m_changes', source => 'm_view', emit => 'changes');
INSERT INTO m_events VALUES (1, 1);
INSERT INTO m_events VALUES (1, 1);
},
	json => q{
CREATE TYPE m_mood AS ENUM ('x');
CREATE FUNCTION m_mood_json(m_mood) RETURNS json LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''no json''; END';
CREATE CAST (m_mood AS json) WITH FUNCTION m_mood_json(m_mood);
CREATE TABLE m_events (m m_mood);
SELECT streamext.create_stream('m_events');
SELECT streamext.create_subscription('m_sub', source => 'm_events');
INSERT INTO m_events VALUES ('x');
},
	temp_type => q{
CREATE TYPE pg_temp.m_tmp AS ENUM ('x');
CREATE TABLE m_events (ts timestamptz NOT NULL, k int);
SELECT streamext.create_stream('m_events', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('m_view', 'SELECT k, ''x''::pg_temp.m_tmp AS e, count(*) AS n FROM m_events GROUP BY k', 'tumbling 1 minute');
INSERT INTO m_events VALUES ('2020-01-01 00:00', 1);
SELECT streamext.wait_caught_up();
},
	slow => q{
CREATE FUNCTION m_slow(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS 'BEGIN PERFORM pg_sleep($1); RETURN $1; END';
CREATE TABLE m_events (k int, v int);
SELECT streamext.create_stream('m_events');
SELECT streamext.create_view('m_view', 'SELECT k, count(*) AS n FROM m_events WHERE m_slow(v) >= 0 GROUP BY k');
INSERT INTO m_events VALUES (1, 120);
});

foreach my $case (sort keys %attack)
{
	$node->safe_psql('postgres', qq{
CREATE DATABASE $case;
GRANT CREATE ON DATABASE $case TO mallory;
});
	$node->safe_psql($case, q{
CREATE EXTENSION streamext;
GRANT CREATE ON SCHEMA public TO alice, mallory;
});
	$node->safe_psql($case, q{
CREATE TABLE clicks (page text);
SELECT streamext.create_stream('clicks');
SELECT streamext.create_view('alice_counts', 'SELECT page, count(*) AS n FROM clicks GROUP BY page');
INSERT INTO clicks VALUES ('before');
SELECT streamext.wait_caught_up();
}, @alice);
	$node->psql($case, $attack{$case}, @mallory);
	# for temp_type: the session has ended, its temporary type is gone
	$node->safe_psql($case, q{INSERT INTO m_events VALUES ('2020-01-01 00:05', 1)}, @mallory)
	  if $case eq 'temp_type';
	sleep 2;
	$node->safe_psql($case, q{INSERT INTO clicks VALUES ('after')}, @alice);
	my $caught = $node->safe_psql($case, q{SELECT streamext.wait_caught_up('20 seconds')}, @alice);
	is($caught . '|' . $node->safe_psql($case,
			q{SELECT string_agg(page || '=' || n, ',' ORDER BY page) FROM alice_counts}, @alice),
		't|after=1,before=1', "$case: alice's view keeps up");
	my $status = $node->safe_psql($case, 'SELECT restarts, last_error FROM streamext.worker_status()');
	like($status, qr/^0\|/, "$case: the worker did not fail") or diag($status);
}

$node->stop('immediate');
done_testing();
