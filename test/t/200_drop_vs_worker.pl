# Dropping a subscription, or its stream with CASCADE, while the worker is
# writing what it delivered: nothing it queued or set aside for them stays
# behind.  A session holds the subscription's progress row, so the worker
# waits in the middle of its write (after the entries and dead letters,
# holding its lock on the subscription), and the drop waits for the worker.
# drop_subscription deleted the queue before that wait and left the
# worker's entries (a flaky count in pg_regress subscriptions).  In
# REPEATABLE READ a drop cannot see what the worker wrote after its
# snapshot: the cascade to the progress the worker moved fails with a
# serialization failure.  A database still at 0.1 deletes a dropped
# stream's queue before that wait (its event trigger): the worker deletes
# what is left when it sees the drop.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('drop_vs_worker');
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
	$node->safe_psql($db, q{
SELECT streamext.drop_view('dw_sums') FROM streamext.views WHERE name = 'dw_sums';
SELECT streamext.drop_stream(stream::text) FROM streamext.streams WHERE stream::text = 'dw';
DROP TABLE IF EXISTS dw});
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

done_testing();
