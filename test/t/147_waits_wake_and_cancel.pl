# A backend that waits for the worker sleeps on a condition variable that
# the worker broadcasts: wait_caught_up(), replay_dead_letters(),
# create_subscription's wait for the replication slot and DROP DATABASE's
# wait for the worker to leave return as soon as the worker has answered,
# long before their timeouts (a missed broadcast would sleep until then).
# While the worker is stalled (a session holds a lock it needs), a waiting
# call ends at once on pg_cancel_backend or statement_timeout, and a timed
# wait returns false on time.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StreamextTest;

my $node = streamext_node('waits');

# timed runs a query and returns its stdout, stderr and seconds taken
sub timed
{
	my ($db, $sql) = @_;
	my $start = time;
	my ($ret, $out, $err) = $node->psql($db, $sql);
	return ($out, $err, time - $start);
}

# 1. create_subscription right after the first stream: it waits for the
# worker to create its slot, and wakes when it has
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE readings (device int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('readings', 'ts');
});
my ($out, $err, $secs) = timed('postgres',
	"SELECT streamext.create_subscription('everything', 'readings', notify => 'none')");
is($err, '', 'create_subscription waited for the worker\'s slot');
cmp_ok($secs, '<', 15, '... and was woken when the slot was made (it waits up to 30 s)');
$node->safe_psql('postgres', q{
SELECT streamext.create_view('per_device', $$ SELECT device, count(*) AS n, sum(100 / v) AS s FROM readings GROUP BY device $$);
});
wait_caught_up($node);

# 2. wait_caught_up wakes when the worker publishes
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) SELECT i % 5, 1 + i % 7 FROM generate_series(1, 1000) i');
($out, $err, $secs) = timed('postgres', "SELECT streamext.wait_caught_up('60 s')");
is($out, 't', 'wait_caught_up returns true');
cmp_ok($secs, '<', 10, '... as soon as the worker published, not at its timeout');
check_view($node, 'postgres', 'per_device',
	'SELECT device, count(*), sum(100 / v) FROM readings GROUP BY device', 'the view is caught up');

# 3. replay_dead_letters wakes when the worker answers
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) VALUES (1, 0)');
wait_caught_up($node);
$node->poll_query_until('postgres', 'SELECT count(*) = 1 FROM streamext.dead_letters')
  or die 'no dead letter';
($out, $err, $secs) = timed('postgres', "SELECT * FROM streamext.replay_dead_letters('per_device')");
is($out, '0|1', 'replay_dead_letters answers: the poison event still fails');
cmp_ok($secs, '<', 10, '... as soon as the worker answered (it waits up to 60 s)');

# 4. the worker stalls: a session holds the subscription queue, which the
# worker writes before it publishes how far it decoded
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE streamext.subscription_queue IN ACCESS EXCLUSIVE MODE;');
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) VALUES (2, 2)');

($out, $err, $secs) = timed('postgres', "SELECT streamext.wait_caught_up('300 ms')");
is($out, 'f', 'a stalled worker: wait_caught_up returns false at its timeout');
cmp_ok($secs, '>=', 0.3, '... not before');
cmp_ok($secs, '<', 10, '... nor long after');

($out, $err, $secs) = timed('postgres',
	"SET statement_timeout = '500ms'; SELECT streamext.wait_caught_up('60 s')");
like($err, qr/canceling statement due to statement timeout/,
	'statement_timeout ends wait_caught_up');
cmp_ok($secs, '<', 10, '... at once');

($out, $err, $secs) = timed('postgres',
	"SET statement_timeout = '500ms'; SELECT * FROM streamext.replay_dead_letters('per_device')");
like($err, qr/canceling statement due to statement timeout/,
	'statement_timeout ends replay_dead_letters\' wait');
cmp_ok($secs, '<', 10, '... at once');

# pg_cancel_backend, while the call sleeps on its condition variable
for my $call ("SELECT streamext.wait_caught_up('60 s')",
	"SELECT * FROM streamext.replay_dead_letters('per_device')")
{
	my $waiter = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $waiter->query_safe('SELECT pg_backend_pid()');
	$waiter->query_until(qr/waiting/, "\\echo waiting\n$call;\n");
	$node->poll_query_until('postgres', qq{
SELECT wait_event_type = 'Extension' FROM pg_stat_activity WHERE pid = $pid AND state = 'active'})
	  or die "$call does not wait";
	my $start = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$waiter->query('SELECT 1');
	my $took = time - $start;
	like($waiter->{stderr}, qr/canceling statement due to user request/,
		"pg_cancel_backend ends $call");
	cmp_ok($took, '<', 10, '... at once');
	$waiter->quit;
}

# the worker goes on once the lock is gone, and answers the replays asked meanwhile
$blocker->query_safe('ROLLBACK;');
$blocker->quit;
($out, $err, $secs) = timed('postgres', "SELECT streamext.wait_caught_up('60 s')");
is($out, 't', 'the worker caught up once the lock was gone');
cmp_ok($secs, '<', 10, '... and wait_caught_up saw it at once');
($out, $err, $secs) = timed('postgres', "SELECT * FROM streamext.replay_dead_letters('per_device')");
is($out, '0|1', 'replay_dead_letters answers again');
check_view($node, 'postgres', 'per_device',
	'SELECT device, count(*), sum(100 / v) FROM readings WHERE v <> 0 GROUP BY device',
	'the view counted every good event once');
is($node->safe_psql('postgres', 'SELECT worker_restarts FROM streamext.streams LIMIT 1'), '0',
	'no wait made the worker fail');

# 5. DROP DATABASE wakes when the worker has left
$node->safe_psql('postgres', 'CREATE DATABASE d2');
$node->safe_psql('d2', 'CREATE EXTENSION streamext');
wait_caught_up($node, 'd2');
($out, $err, $secs) = timed('postgres', 'DROP DATABASE d2');
is($err, '', 'DROP DATABASE moved the worker out of the way');
cmp_ok($secs, '<', 8, '... and went on as soon as it left (it waits up to 10 s)');

done_testing();
