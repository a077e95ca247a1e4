# streamext.max_memory: reaching it warns, reading the view says so, nothing
# is lost, and raising it makes the view readable and exact again.  And
# CREATE EXTENSION without the settings streamext needs names the setting.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('memory', "streamext.max_memory = '1MB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE readings (device int NOT NULL, v float8, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('readings', time_column => 'ts');
SELECT streamext.create_view('per_device', $$ SELECT device, count(*) AS n, avg(v) AS mean FROM readings GROUP BY device $$);
INSERT INTO readings (device, v) SELECT i % 40000, i FROM generate_series(1, 80000) i;
});
wait_caught_up($node);

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM per_device');
isnt($ret, 0, 'reading a view over the memory limit fails');
like($err, qr/does not fit in streamext.max_memory/, '... and says why');
like($err, qr/Raise streamext.max_memory/, '... and what to do');
ok($node->log_contains('streamext.max_memory reached'), 'the worker warned in the log');

$node->safe_psql('postgres', "ALTER SYSTEM SET streamext.max_memory = '64MB'; SELECT pg_reload_conf();");
$node->safe_psql('postgres', 'INSERT INTO readings (device, v) VALUES (1, 1)');
# the worker republishes the view once it fits
$node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM ((SELECT device, count(*), avg(v) FROM readings GROUP BY device)
                          EXCEPT ALL (SELECT * FROM per_device)) d})
  or die 'view did not come back';
check_view($node, 'postgres', 'per_device',
	'SELECT device, count(*), avg(v) FROM readings GROUP BY device', 'after raising max_memory');

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
