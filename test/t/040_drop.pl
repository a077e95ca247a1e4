# DROP EXTENSION and DROP DATABASE leave no slot, no origin and no worker;
# a database whose stream got events before its worker's slot existed
# counts them once.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('drop');

# everything in one transaction: no slot exists until it commits
$node->safe_psql('postgres', 'CREATE DATABASE d1');
$node->safe_psql('d1', q{
BEGIN;
CREATE EXTENSION streamext;
CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts');
INSERT INTO clicks (url, user_id, ms) SELECT '/p' || (i % 5), i, i FROM generate_series(1, 1000) i;
SELECT streamext.create_view('total', $$ SELECT url, count(*) AS n, sum(ms) AS s FROM clicks GROUP BY url $$);
INSERT INTO clicks (url, user_id, ms) SELECT '/p' || (i % 5), i, i FROM generate_series(1, 1000) i;
COMMIT;
INSERT INTO clicks (url, user_id, ms) SELECT '/p' || (i % 5), i, i FROM generate_series(1, 1000) i;
});
wait_caught_up($node, 'd1');
check_view($node, 'd1', 'total', 'SELECT url, count(*), sum(ms) FROM clicks GROUP BY url',
	'created with the extension');

ok(worker_pid($node, 'd1'), 'd1 has a worker');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE database = 'd1'"),
	'1', 'd1 has a slot');

# DROP DATABASE moves the worker out of the way and drops the slot
$node->safe_psql('postgres', 'DROP DATABASE d1');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'), '0',
	'DROP DATABASE left no slot');
sleep 2;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'streamext worker'"),
	'0', 'DROP DATABASE left no worker');

# DROP EXTENSION: the worker drops slot and origin and leaves
create_click_schema($node);
$node->safe_psql('postgres', "INSERT INTO clicks (url, ms) VALUES ('/x', 1)");
wait_caught_up($node);
ok(worker_pid($node), 'postgres has a worker');

# a stream dropped with CASCADE: the worker skips its view and serves the others
$node->safe_psql('postgres', q{
CREATE TABLE s2 (v int, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('s2', 'ts');
SELECT streamext.create_view('v2', $$ SELECT count(*) AS n, sum(v) AS s FROM s2 $$);
DROP TABLE clicks CASCADE;
});
$node->restart;
$node->safe_psql('postgres', 'INSERT INTO s2 (v) SELECT i FROM generate_series(1, 100) i');
wait_caught_up($node);
check_view($node, 'postgres', 'v2', 'SELECT count(*), sum(v) FROM s2', 'after a stream was dropped with CASCADE');
is($node->safe_psql('postgres', q{
SELECT (SELECT string_agg(name, ',') FROM streamext.views),
       (SELECT string_agg(stream::text, ',') FROM streamext.streams),
       (SELECT count(*) FROM pg_tables WHERE schemaname = 'streamext' AND tablename LIKE 'closed%')}),
	'v2|s2|0', 'CASCADE took the views of the dropped stream, their closed windows and the stream along');
ok(!$node->log_contains('streamext cannot maintain continuous view'), 'the worker had nothing broken to report');
$node->safe_psql('postgres', 'DROP EXTENSION streamext CASCADE');
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'streamext worker'")
  or die 'worker did not leave';
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'), '0',
	'DROP EXTENSION left no slot');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_origin'), '0',
	'DROP EXTENSION left no replication origin');

# the table is an ordinary table again
$node->safe_psql('postgres', 'DELETE FROM s2');
pass('the former stream accepts DELETE');

# A DROP DATABASE that fails (another session is connected) after moving
# the worker out of the way: the launcher starts the worker again only after
# its grace period (10 s) from the request.  It used to count from the
# worker's start, so a worker that had run long came back at once and took
# its slot back, racing the drop.
$node->safe_psql('postgres', 'CREATE DATABASE d2');
$node->safe_psql('d2', 'CREATE EXTENSION streamext');
wait_caught_up($node, 'd2');
sleep(1) while $node->safe_psql('postgres',
	"SELECT now() - backend_start < interval '11 seconds' FROM pg_stat_activity
      WHERE backend_type = 'streamext worker' AND datname = 'd2'") eq 't';
my $visitor = $node->background_psql('d2');
$visitor->query_safe('SELECT 1');
my ($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE d2');
like($err, qr/being accessed by other users/, 'DROP DATABASE failed on the other session');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND datname = 'd2'"),
	'0', 'the worker stays away within the grace period, though it had run long');
$visitor->quit;
$node->safe_psql('postgres', 'DROP DATABASE d2');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots"), '0',
	'then DROP DATABASE works and takes the slot');

done_testing();
