# A worker that fails at start (no replication slot left for it) is
# restarted with a growing delay, never in a tight loop; streamext.streams
# and the server log say why; once the cause is gone it starts and catches up.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StreamextTest;

my $node = streamext_node('backoff', "max_replication_slots = 1\n");
$node->safe_psql('postgres', "SELECT pg_create_physical_replication_slot('taken')");
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE readings (device int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('readings', 'ts');
SELECT streamext.create_view('per_device', $$ SELECT device, count(*) AS n, sum(v) AS s FROM readings GROUP BY device $$);
INSERT INTO readings (device, v) SELECT i % 7, i FROM generate_series(1, 1000) i;
});

my $t0 = time();
$node->poll_query_until('postgres', 'SELECT worker_restarts >= 4 FROM streamext.streams')
  or die 'the worker did not fail as expected';
my $elapsed = time() - $t0;
like($node->safe_psql('postgres', 'SELECT last_error FROM streamext.streams'),
	qr/replication slots are in use/, 'streamext.streams shows why the worker fails');
ok($elapsed >= 2.5, sprintf('four failures took %.1f s: the launcher backs off', $elapsed));

my @waits = (slurp_file($node->logfile, $log_offset) =~ /after another one the launcher waits (\d+) ms/g);
ok(@waits >= 3, 'the launcher logs each restart: ' . join(', ', @waits) . ' ms');
ok($waits[2] > $waits[0], 'and the delay grows');

# a read meanwhile does not wait for a worker that keeps failing (it waited
# 10 s for the slot, twice a statement)
my $t1 = time();
$node->safe_psql('postgres', 'SELECT count(*) FROM per_device');
my $read = time() - $t1;
ok($read < 5, sprintf('a read while the worker fails does not wait for it: %.1f s', $read));

# the cause goes away: the next start succeeds and the view catches up
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('taken')");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name LIKE 'streamext_%'")
  or die 'the worker did not start';
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) SELECT i % 7, i FROM generate_series(1, 500) i');
wait_caught_up($node);
check_view($node, 'postgres', 'per_device',
	'SELECT device, count(*), sum(v) FROM readings GROUP BY device', 'after the failures');

done_testing();
