# streamext.max_memory: reaching it warns, reading the view says so (every
# time, also while the worker publishes the view whole again: never a
# partial count), nothing is lost, and raising it makes the view readable
# and exact again.  And CREATE EXTENSION without the settings streamext
# needs names the setting.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('memory', "streamext.max_memory = '1MB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE readings (device int NOT NULL, v float8, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('readings', time_column => 'ts');
SELECT streamext.create_view('per_device', $$ SELECT device, count(*) AS n, sum(v) AS total FROM readings GROUP BY device $$);
INSERT INTO readings (device, v) SELECT i % 40000, i FROM generate_series(1, 80000) i;
});
wait_caught_up($node);

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM per_device');
isnt($ret, 0, 'reading a view over the memory limit fails');
like($err, qr/does not fit in streamext.max_memory/, '... and says why');
like($err, qr/Raise streamext.max_memory/, '... and what to do');
ok($node->log_contains('streamext.max_memory reached'), 'the worker warned in the log');
is($node->safe_psql('postgres',
		q{SELECT events, groups, memory_bytes > 0 FROM streamext.views WHERE name = 'per_device'}),
	'80000|40000|t', 'streamext.views counts the events and groups meanwhile');

# While the view does not fit, every round of the worker publishes it whole
# again and runs out of memory half-way (with these small states, when the
# groups' hash table cannot grow: an error, not the worker's own limit).  Readers racing it, each right
# after wait_caught_up() as in the report of a partial count (12,967 of
# 100,000, no error), must get the error every time.
$node->safe_psql('postgres', q{
CREATE TABLE partial_reads (events bigint, groups bigint);
CREATE FUNCTION try_read() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	events bigint;
	groups bigint;
BEGIN
	PERFORM streamext.wait_caught_up();
	SELECT sum(n), count(*) INTO events, groups FROM per_device;
	INSERT INTO partial_reads VALUES (events, groups);
EXCEPTION WHEN out_of_memory THEN
	NULL;
END $$;});
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/read.sql", "SELECT try_read();\n");
my ($bench_out, $bench_err) = ('', '');
my $bench_ok = IPC::Run::run(['pgbench', '-n', '-c', 4, '-j', 4, '-t', 5000, '-f', "$dir/read.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'],
	'>', \$bench_out, '2>', \$bench_err);
ok($bench_ok, '20000 reads racing the worker ran') or diag($bench_err);
is($node->safe_psql('postgres',
		q{SELECT count(*) || ' reads returned rows' || coalesce(', e.g. ' || min(events) || ' events in ' || min(groups) || ' groups', '')
		  FROM partial_reads}),
	'0 reads returned rows', 'no read of the view returned a partial result');

$node->safe_psql('postgres', "ALTER SYSTEM SET streamext.max_memory = '64MB'; SELECT pg_reload_conf();");
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) VALUES (1, 1)');
# the worker republishes the view once it fits
$node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM ((SELECT device, count(*), sum(v) FROM readings GROUP BY device)
                          EXCEPT ALL (SELECT * FROM per_device)) d})
  or die 'view did not come back';
check_view($node, 'postgres', 'per_device',
	'SELECT device, count(*), sum(v) FROM readings GROUP BY device', 'after raising max_memory');
$node->safe_psql('postgres', 'TRUNCATE partial_reads; SELECT try_read();');
is($node->safe_psql('postgres', 'SELECT events, groups FROM partial_reads'), '80001|40000',
	'a read after raising max_memory counts every event');

# settings streamext needs
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->start;
($ret, $out, $err) = $bare->psql('postgres', 'CREATE EXTENSION streamext');
like($err, qr/shared_preload_libraries/, 'without shared_preload_libraries: names the setting');
$bare->stop;
$bare->append_conf('postgresql.conf', "shared_preload_libraries = 'streamext'\nwal_level = replica\n");
$bare->start;
($ret, $out, $err) = $bare->psql('postgres', 'CREATE EXTENSION streamext');
like($err, qr/wal_level = logical/, 'without wal_level = logical: names the setting');

done_testing();
