# A query that reads views pins the worker's last publish as it starts, so
# that a cursor reads the views as of its DECLARE (isolation spec
# cursor_vs_producer); that pin keeps the bytes the worker changes.  So it
# is taken only for a caller that may read a view the query names: a role
# with no grant must not make the worker keep copies of other users' views
# by declaring cursors it never fetches from.  And a database without a
# shared slot (more databases than streamext.max_databases) has nothing to
# pin: reading a view there must not crash the server.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('pins_at_start', "streamext.max_databases = 2\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('ev');
SELECT streamext.create_view('wide', $$ SELECT k, count(*) AS n, max(md5(v::text)) AS m FROM ev GROUP BY k $$);
CREATE ROLE mallory LOGIN;
CREATE ROLE reader LOGIN;
GRANT SELECT ON wide TO reader;
INSERT INTO ev SELECT i, i FROM generate_series(1, 20000) i;
});
wait_caught_up($node);
my $id = $node->safe_psql('postgres', "SELECT id FROM streamext.views WHERE name = 'wide'");
my $memory = sub {
	$node->safe_psql('postgres', "SELECT memory_bytes FROM streamext.views WHERE name = 'wide'");
};

# every group changes while role's cursor, declared first, stays open;
# the view's memory after, against before
sub memory_with_cursor_of
{
	my ($role, $query) = @_;
	# a publish with no cursor open drops the copies kept before
	$node->safe_psql('postgres', 'INSERT INTO ev VALUES (1, 1)');
	wait_caught_up($node);
	my $before = $memory->();
	my $cursor = $node->background_psql('postgres', on_error_stop => 0);
	$cursor->query_safe("SET ROLE $role");
	$cursor->query_safe("BEGIN; DECLARE c CURSOR FOR $query;");
	$node->safe_psql('postgres', 'INSERT INTO ev SELECT i, -i FROM generate_series(1, 20000) i');
	wait_caught_up($node);
	my $after = $memory->();
	$cursor->query('ROLLBACK');
	$cursor->quit;
	return $after / $before;
}

my $read = "SELECT * FROM streamext.read_view($id) AS t(k int, n bigint, m text)";
my $kept = memory_with_cursor_of('reader', 'SELECT * FROM wide');
ok($kept > 1.5, sprintf('a reader\'s cursor keeps the groups it may read (memory x%.2f)', $kept));
my $not_kept = memory_with_cursor_of('mallory', $read);
ok($not_kept < 1.2,
	sprintf('a cursor of a role that may not read the view keeps nothing (memory x%.2f)', $not_kept));
$not_kept = memory_with_cursor_of('mallory', 'SELECT * FROM streamext.read_view(999999) AS t(x int)');
ok($not_kept < 1.2, sprintf('nor does one on a view that does not exist (memory x%.2f)', $not_kept));
my ($ret, $out, $err) = $node->psql('postgres', "SET ROLE mallory; $read");
like($err, qr/permission denied/, 'and its read is refused');

# a database made from one with views gets no slot when max_databases
# are taken (here by postgres and the template): its views are read
# without a pin, and the server stays up
$node->safe_psql('postgres', 'CREATE DATABASE tmpl');
$node->safe_psql('tmpl', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL);
SELECT streamext.create_stream('ev');
SELECT streamext.create_view('tot', $$ SELECT count(*) AS n FROM ev $$);
INSERT INTO ev VALUES (1);
});
wait_caught_up($node, 'tmpl');
# the template's worker keeps its slot, but must leave it to be copied
$node->safe_psql('postgres', q{
ALTER DATABASE tmpl WITH ALLOW_CONNECTIONS false;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'tmpl';
});
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'tmpl'")
  or die 'the template\'s worker did not leave';
$node->safe_psql('postgres', 'CREATE DATABASE noslot TEMPLATE tmpl');
($ret, $out, $err) = $node->psql('noslot', 'SELECT n FROM tot');
($ret, $out, $err) = $node->psql('noslot',
	'BEGIN; DECLARE c CURSOR FOR SELECT * FROM tot; FETCH ALL FROM c; COMMIT');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'reads in a database without a slot leave the server up');

# streamext's functions are known by what they run, not by name: a role's
# own streamext.read_view in a database without the extension is its own
$node->safe_psql('postgres', 'CREATE DATABASE noext');
is($node->safe_psql('noext', q{
CREATE SCHEMA streamext;
CREATE FUNCTION streamext.read_view(int) RETURNS SETOF record LANGUAGE sql AS 'SELECT 1';
SELECT * FROM streamext.read_view(1) AS t(a int)
UNION ALL SELECT * FROM streamext.read_view((SELECT 1)) AS t(a int);
BEGIN; DECLARE c CURSOR FOR SELECT * FROM streamext.read_view((SELECT 1)) AS t(a int);
FETCH ALL FROM c; COMMIT;}), "1\n1\n1", "a function of the user's named streamext.read_view is the user's");
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
