# rebuild_view recomputes views exactly while producers go on; a worker
# stalled long enough for max_slot_wal_keep_size to invalidate its slot says
# so, recomputes every view from the stream tables and goes on exactly.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('rebuild', qq{
max_slot_wal_keep_size = '16MB'
streamext.max_lag_warning = '8MB'
});
create_click_schema($node);

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

# 2. the worker stalls (a session holds a lock its checkpoint needs) while
# WAL grows past max_slot_wal_keep_size, and a checkpoint invalidates the slot
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN; LOCK TABLE streamext.view_progress IN ACCESS EXCLUSIVE MODE;');
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres',
	"INSERT INTO clicks (url, user_id, ms) SELECT '/stalled', i, i % 500 FROM generate_series(1, 2000) i");
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
like($node->safe_psql('postgres', 'SELECT DISTINCT last_error FROM streamext.streams'),
	qr/replication slot invalidated at .* views recomputed/, 'streamext.streams says what happened');
is($node->safe_psql('postgres',
	"SELECT wal_status FROM pg_replication_slots WHERE slot_name LIKE 'streamext_%'"),
	'reserved', 'a new slot serves the database');

$p = start_producers($node, seconds => 2);
finish_producers($p);
check_click_views($node, 'producing again');

done_testing();
