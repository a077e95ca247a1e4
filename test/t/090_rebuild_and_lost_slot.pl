# rebuild_view recomputes views exactly while producers go on; a worker
# stalled long enough for max_slot_wal_keep_size to invalidate its slot says
# so, recomputes every view from the stream tables and goes on exactly.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

# only the test's CHECKPOINT invalidates the slot: a checkpoint the WAL
# volume starts (Cluster.pm's 128MB) could do it before the launcher, which
# looks once a second, warned about the lag
my $node = streamext_node('rebuild', qq{
max_slot_wal_keep_size = '16MB'
streamext.max_lag_warning = '8MB'
max_wal_size = '1GB'
});
create_click_schema($node);
# a view on a view: recomputed after the view it reads when the slot is lost
$node->safe_psql('postgres', q{SELECT streamext.create_view('per_10s',
  $$ SELECT url, sum(hits) AS hits, max(worst) AS worst FROM per_second GROUP BY url $$,
  'tumbling 10 seconds')});
# it equals its query over the closed windows of per_second, all of them
# before the first window per_second's closed_upto leaves open
sub check_per_10s
{
	my ($label) = @_;
	my $oracle = q{
SELECT date_bin('10 seconds', window_start, '2000-01-01 00:00+00'),
       date_bin('10 seconds', window_start, '2000-01-01 00:00+00') + interval '10 seconds',
       url, sum(hits), max(worst)
  FROM per_second
 WHERE window_start < date_bin('1 second', (SELECT p.closed_upto FROM streamext.view_progress p
                                             JOIN streamext.view_def d ON d.id = p.view_id
                                            WHERE d.name = 'per_second'), '2000-01-01 00:00+00')
 GROUP BY 1, 2, 3};
	$node->poll_query_until('postgres', qq{
SELECT (SELECT count(*) FROM (($oracle) EXCEPT ALL (SELECT * FROM per_10s)) a)
     + (SELECT count(*) FROM ((SELECT * FROM per_10s) EXCEPT ALL ($oracle)) b) = 0});
	check_view($node, 'postgres', 'per_10s', $oracle, $label);
}

# 1. rebuild_view under load
my $p = start_producers($node, seconds => 4);
sleep 1;
$node->safe_psql('postgres', "SELECT streamext.rebuild_view('per_second')");
sleep 1;
$node->safe_psql('postgres', "SELECT streamext.rebuild_view('per_user')");
finish_producers($p);
check_click_views($node, 'after rebuild_view under load');
$node->safe_psql('postgres', "SELECT streamext.rebuild_view('total')");
check_click_views($node, 'after rebuild_view at rest');
check_per_10s('after rebuild_view at rest');

# 2. the worker stalls (a session holds a lock its checkpoint needs) while
# WAL grows past max_slot_wal_keep_size, and a checkpoint invalidates the slot
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE streamext.view_progress IN ACCESS EXCLUSIVE MODE;');
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres',
	"INSERT INTO clicks (url, user_id, ms) SELECT '/stalled', i, i % 500 FROM generate_series(1, 2000) i");
# the worker stalls only once its checkpoint of those events waits for the
# lock: WAL written before that it decodes and publishes, without lag
$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE a.backend_type = 'streamext worker' AND NOT l.granted
   AND l.relation = 'streamext.view_progress'::regclass})
  or die 'the worker did not wait for the lock';
for my $i (1 .. 4)
{
	$node->safe_psql('postgres',
		"CREATE TABLE filler_$i AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 20000) g; SELECT pg_switch_wal();");
}
$node->wait_for_log(qr/streamext worker for database \d+ is \d+ kB of WAL behind/, $log_offset);
ok(1, 'the launcher warned about the lag');
$node->safe_psql('postgres', 'CHECKPOINT');
$node->wait_for_log(qr/streamext replication slot "streamext_\d+" was invalidated/, $log_offset);
ok(1, 'the worker found its slot invalidated');
$blocker->query_safe('ROLLBACK;');
$blocker->quit;

check_click_views($node, 'after the slot was lost');
check_per_10s('after the slot was lost');
like($node->safe_psql('postgres', 'SELECT DISTINCT last_error FROM streamext.streams'),
	qr/replication slot invalidated at .* views recomputed/, 'streamext.streams says what happened');
is($node->safe_psql('postgres',
	"SELECT wal_status FROM pg_replication_slots WHERE slot_name LIKE 'streamext_%'"),
	'reserved', 'a new slot serves the database');

$p = start_producers($node, seconds => 2);
finish_producers($p);
check_click_views($node, 'producing again');
check_per_10s('producing again');

done_testing();
