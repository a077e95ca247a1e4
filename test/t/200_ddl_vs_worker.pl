# DDL while the worker is in the middle of a write: a session holds a
# subscription's progress row, so the worker waits in its write (after the
# entries and dead letters, holding its lock on the subscription), and the
# DDL waits for the worker.
#
# Dropping a subscription, or its stream with CASCADE: nothing the worker
# queued or set aside for them stays behind.  drop_subscription deleted
# the queue before that wait and left the worker's entries (a flaky count
# in pg_regress subscriptions).  In REPEATABLE READ a drop cannot see what
# the worker wrote after its snapshot: the cascade to the progress the
# worker moved fails with a serialization failure.  A database still at
# 0.1 deletes a dropped stream's queue before that wait (its event
# trigger): the worker deletes what is left when it sees the drop.
#
# rebuild_view of a view whose windows the stream has made due, not closed
# by the worker yet (it waits): the rebuild closed them, unsent, and their
# 'final' subscribers never got them (helper 58), for every window kind and
# for the views on a rebuilt view.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('ddl_vs_worker');
$node->safe_psql('postgres', 'CREATE EXTENSION streamext');
$node->safe_psql('postgres', 'CREATE DATABASE at01');
$node->safe_psql('at01', "CREATE EXTENSION streamext VERSION '0.1'");

# what the queue and the dead letters hold of views and subscriptions no
# longer in the catalog
my $left = q{
SELECT (SELECT count(*) FROM streamext.subscription_queue q
         WHERE NOT EXISTS (SELECT 1 FROM streamext.subscription_def s WHERE s.id = q.subscription_id))
       || ' entries, ' ||
       (SELECT count(*) FROM streamext.dead_letters d
         WHERE NOT EXISTS (SELECT 1 FROM streamext.view_def v WHERE v.id = d.view_id)
           AND NOT EXISTS (SELECT 1 FROM streamext.subscription_def s WHERE s.id = d.subscription_id))
       || ' dead letters'};

# what the queue and the dead letters hold of the views and subscriptions
my $live = q{
SELECT (SELECT count(*) FROM streamext.subscription_queue q
          JOIN streamext.subscription_def s ON s.id = q.subscription_id)
       || ' entries, ' ||
       (SELECT count(*) FROM streamext.dead_letters d
         WHERE EXISTS (SELECT 1 FROM streamext.view_def v WHERE v.id = d.view_id)
            OR EXISTS (SELECT 1 FROM streamext.subscription_def s WHERE s.id = d.subscription_id))
       || ' dead letters'};

# drops what is left of the test's subscriptions, views, stream and table
sub drop_everything
{
	my ($db, $table) = @_;
	$node->safe_psql($db, qq{
SELECT streamext.drop_subscription(name) FROM streamext.subscriptions;
SELECT streamext.drop_view(name) FROM streamext.views ORDER BY id DESC;
SELECT streamext.drop_stream(stream::text) FROM streamext.streams;
DROP TABLE IF EXISTS $table});
}

sub create_objects
{
	my ($db) = @_;
	$node->safe_psql($db, q{
CREATE TABLE dw (v int NOT NULL);
SELECT streamext.create_stream('dw');
SELECT streamext.create_view('dw_sums', 'SELECT count(*) AS n, sum(100 / v) AS s FROM dw');
SELECT streamext.create_subscription('dw_sub', 'dw', filter => '100 / v > 0', notify => 'none');
});
	wait_caught_up($node, $db);
}

# waits until the backend pid (the worker's when undef) waits for a lock
sub wait_for_lock
{
	my ($db, $pid, $what) = @_;
	my $who = defined $pid ? "pid = $pid" : "backend_type = 'streamext worker' AND datname = '$db'";
	$node->poll_query_until($db,
		"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $who AND wait_event_type = 'Lock')")
	  or die "$what never waited for a lock";
}

for my $case (['postgres', "SELECT streamext.drop_subscription('dw_sub')"],
	['postgres', 'DROP TABLE dw CASCADE'], ['at01', 'DROP TABLE dw CASCADE'])
{
	my ($db, $drop) = @$case;
	create_objects($db);
	my $blocker = $node->background_psql($db);
	$blocker->query_safe(q{BEGIN;
SELECT 1 FROM streamext.subscription_progress p
  JOIN streamext.subscription_def s ON s.id = p.subscription_id
 WHERE s.name = 'dw_sub' FOR UPDATE OF p});
	$node->safe_psql($db, 'INSERT INTO dw VALUES (1), (0), (2)');
	wait_for_lock($db, undef, 'the worker');

	my $dropper = $node->background_psql($db);
	my $dropper_pid = $dropper->query_safe('SELECT pg_backend_pid()');
	$dropper->query_until(qr/dropping/, "\\echo dropping\n$drop;\n");
	wait_for_lock($db, $dropper_pid, 'the drop');
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	$dropper->quit;
	# at 0.1, once the worker has seen the drop
	$node->poll_query_until($db, "SELECT ($left) = '0 entries, 0 dead letters'")
	  if $db eq 'at01';
	is($node->safe_psql($db, $left), '0 entries, 0 dead letters',
		"$db: $drop while the worker writes leaves nothing behind");
	is($node->safe_psql($db,
		"SELECT count(*) FROM streamext.subscriptions WHERE name = 'dw_sub'"), '0',
		"$db: $drop dropped the subscription");
	drop_everything($db, 'dw');
}

# REPEATABLE READ: the drop's snapshot is taken before the worker writes;
# the drop fails, and leaves the subscription and its entries as they were
create_objects('postgres');
for my $case (["SELECT streamext.drop_subscription('dw_sub')", '(1), (0), (2)', 2],
	["SELECT streamext.drop_view('dw_sums')", '(5), (0)', 4])
{
	my ($drop, $events, $dead_letters) = @$case;
	my $dropper = $node->background_psql('postgres', on_error_stop => 0);
	$dropper->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$dropper->query_safe('SELECT count(*) FROM streamext.subscription_queue');
	$node->safe_psql('postgres', "INSERT INTO dw VALUES $events");
	$node->poll_query_until('postgres', "SELECT ($live) LIKE '%, $dead_letters dead letters'")
	  or die 'the worker did not write the dead letters';
	$dropper->query($drop);
	like($dropper->{stderr}, qr/could not serialize access due to concurrent update/,
		"a REPEATABLE READ $drop fails after the worker wrote");
	$dropper->quit;
}
is($node->safe_psql('postgres', $live), '3 entries, 4 dead letters',
	'they left everything as it was');
drop_everything('postgres', 'dw');

# rebuild_view: each round stalls the worker on the stream subscription's
# progress row, commits the event that makes windows due, and rebuilds the
# view (the lower one for views on views) while the worker waits
sub entries_of
{
	my ($sub) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) || ' entries, ' || count(DISTINCT event::text) || ' distinct'
  FROM streamext.poll('$sub', 1000)});
}

# what a 'final' subscription got of a view, against the view: every window
# once, and the last entry of each (a correction after a late event) equal
# to the view's row, for the windows ending by the last event
sub delivered_as_view
{
	my ($sub, $view) = @_;
	return qq{
WITH e AS (SELECT position, kind, event FROM streamext.poll('$sub', 1000)),
     last AS (SELECT DISTINCT ON (event->>'window_start', event->>'k') event
                FROM e ORDER BY event->>'window_start', event->>'k', position DESC),
     v AS (SELECT to_jsonb(r) AS event FROM $view r
            WHERE window_end <= '2026-01-01 00:00:45+00')
SELECT (SELECT count(*) FROM e WHERE kind = 'window') =
         (SELECT count(DISTINCT (event->>'window_start', event->>'k')) FROM e WHERE kind = 'window')
   AND NOT EXISTS (SELECT event FROM last EXCEPT SELECT event FROM v)
   AND NOT EXISTS (SELECT event FROM v EXCEPT SELECT event FROM last)
   AND EXISTS (SELECT 1 FROM v)};
}

my @rounds = (
	# [window, { subscription => view }, window of a view on the view]
	['tumbling 10 seconds', { rv_final => 'rv' }],
	['hopping 10 seconds every 5 seconds', { rv_final => 'rv' }],
	['session 5 seconds', { rv_final => 'rv' }],
	['tumbling 10 seconds', { rv_final => 'rv', up_final => 'up' }, 'tumbling 20 seconds'],
	['hopping 10 seconds every 5 seconds', { rv_final => 'rv' }, undef,
		"replace_view('rv', 'SELECT k, count(*) AS n FROM rs GROUP BY k', 'hopping 10 seconds every 5 seconds')"]);
for my $round (@rounds)
{
	my ($window, $subs, $upper, $ddl) = @$round;
	$ddl //= "rebuild_view('rv')";
	$node->safe_psql('postgres', qq{
CREATE TABLE rs (k int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('rs', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('rv', 'SELECT k, count(*) AS n FROM rs GROUP BY k', '$window');
SELECT streamext.create_subscription('rv_final', 'rv', notify => 'none');
SELECT streamext.create_subscription('rs_events', 'rs', notify => 'none');
INSERT INTO rs VALUES (1, '2026-01-01 00:00:01+00'), (2, '2026-01-01 00:00:12+00');
});
	$node->safe_psql('postgres', qq{
SELECT streamext.create_view('up', 'SELECT k, sum(n) AS n FROM rv GROUP BY k', '$upper');
SELECT streamext.create_subscription('up_final', 'up', notify => 'none');
}) if defined $upper;
	wait_caught_up($node);

	my $blocker = $node->background_psql('postgres');
	$blocker->query_safe(q{BEGIN;
SELECT 1 FROM streamext.subscription_progress p
  JOIN streamext.subscription_def s ON s.id = p.subscription_id
 WHERE s.name = 'rs_events' FOR UPDATE OF p});
	# due: what ends by 00:00:25; and a late event of a delivered window
	$node->safe_psql('postgres', "INSERT INTO rs VALUES (3, '2026-01-01 00:00:25+00')");
	$node->safe_psql('postgres', "INSERT INTO rs VALUES (1, '2026-01-01 00:00:03+00')");
	wait_for_lock('postgres', undef, 'the worker');
	my $rebuilder = $node->background_psql('postgres');
	my $pid = $rebuilder->query_safe('SELECT pg_backend_pid()');
	$rebuilder->query_until(qr/rebuilding/,
		"\\echo rebuilding\nSELECT streamext.$ddl;\n");
	# it waits for the worker to apply what was committed before it
	$node->poll_query_until('postgres', qq{
SELECT state = 'idle' OR wait_event_type IN ('Lock', 'Extension')
  FROM pg_stat_activity WHERE pid = $pid})
	  or die 'rebuild_view neither returned nor waited';
	$blocker->query_safe('COMMIT');
	$blocker->quit;
	$rebuilder->quit;
	# and what the next event makes due, after the rebuild
	$node->safe_psql('postgres', "INSERT INTO rs VALUES (4, '2026-01-01 00:00:45+00')");
	wait_caught_up($node);
	for my $sub (sort keys %$subs)
	{
		ok($node->poll_query_until('postgres', delivered_as_view($sub, $subs->{$sub})),
			"$ddl of a $window view while the worker waits: $sub gets every window once, corrected");
	}
	drop_everything('postgres', 'rs');
}

# rebuild_view and replace_view (the same definition, or a session with a
# longer gap) of a view whose retention took its closed rows: the windows
# it delivered are not sent again (a session view's were, by replace_view)
for my $case (['tumbling 10 seconds', 2], ['hopping 10 seconds every 5 seconds', 4],
	['session 5 seconds', 2, 'session 8 seconds'])
{
	my ($window, $delivered, $longer) = @$case;
	$node->safe_psql('postgres', qq{
CREATE TABLE rs (k int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('rs', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('rv', 'SELECT k, count(*) AS n FROM rs GROUP BY k', '$window',
                             retention => '1 second');
SELECT streamext.create_subscription('rv_final', 'rv', notify => 'none');
INSERT INTO rs VALUES (1, '2026-01-01 00:00:01+00'), (2, '2026-01-01 00:00:12+00');
INSERT INTO rs VALUES (3, '2026-01-01 00:00:45+00');
});
	wait_caught_up($node);
	$node->poll_query_until('postgres', qq{
SELECT (SELECT count(*) FROM streamext.poll('rv_final', 1000)) = $delivered
   AND NOT EXISTS (SELECT 1 FROM rv WHERE window_end < '2026-01-01 00:00:40+00')})
	  or die "the $window view did not deliver its windows, or kept them";
	my @changes = ("rebuild_view('rv')",
		"replace_view('rv', 'SELECT k, count(*) AS n FROM rs GROUP BY k', '$window')");
	push @changes, "replace_view('rv', 'SELECT k, count(*) AS n FROM rs GROUP BY k', '$longer')"
	  if defined $longer;
	for my $change (@changes)
	{
		$node->safe_psql('postgres', "SELECT streamext.$change");
		wait_caught_up($node);
		sleep 0.5;    # the worker's closing after its decoding
		is(entries_of('rv_final'), "$delivered entries, $delivered distinct",
			"$change of a $window view whose retention took its rows sends nothing again");
	}
	drop_everything('postgres', 'rs');
}

done_testing();
