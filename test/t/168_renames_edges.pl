# Renames that 167 does not cover, each of which left a dump unrestorable,
# a view computing the wrong windows, or renames failing for everybody:
# - ALTER TYPE ... RENAME VALUE (an AlterEnumStmt, not a RenameStmt) of an
#   enum label a view's query and a filter name;
# - a time column renamed on the inheritance parent of a stream (the rename
#   recurses to the stream): stream_def kept the old name, so after a
#   restart the worker put events in windows of their commit time, and the
#   restored view could not be adopted;
# - a function a view calls dropped (nothing holds it): every later rename
#   in the database, by any role, failed with "cache lookup failed";
# - a stream named like a catalog table of streamext, renamed with
#   streamext on search_path: its old name found streamext's table after the
#   rename, and the definitions were not written again.
# A dump taken after them restores every other view, equal to plain SQL.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('renames_edges');
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
GRANT CREATE ON SCHEMA public TO alice, bob;
CREATE EXTENSION streamext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE clicks (url text NOT NULL, m mood, ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('clicks', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('happy_urls',
  $$ SELECT url, count(*) AS n FROM clicks WHERE m = 'happy'::mood GROUP BY url $$);
SELECT streamext.create_subscription('sad', 'clicks', filter => $$m = 'sad'$$, notify => 'none');
-- a stream that inherits its time column
CREATE TABLE base (x int, ts timestamptz NOT NULL);
CREATE TABLE child () INHERITS (base);
SELECT streamext.create_stream('child', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('child_per_minute',
  $$ SELECT x, count(*) AS n FROM child GROUP BY x $$, 'tumbling 1 minute');
-- a stream named like streamext's dead_letters
CREATE TABLE dead_letters (k text NOT NULL, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('dead_letters', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('per_k', $$ SELECT k, sum(v) AS s FROM dead_letters GROUP BY k $$);
INSERT INTO clicks SELECT '/p' || (i % 5), (enum_range(NULL::mood))[1 + i % 3], i % 1000,
  '2026-01-01 00:00+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 300) i;
INSERT INTO child SELECT i % 4, '2026-01-01 00:00+00'::timestamptz + i * interval '5 seconds'
  FROM generate_series(1, 100) i;
INSERT INTO dead_letters SELECT 'k' || (i % 3), i, '2026-01-01 00:00+00'::timestamptz + i * interval '1 second'
  FROM generate_series(1, 50) i;
});
# alice's view calls a function of hers, which she then drops
$node->safe_psql('src', q{
CREATE TABLE a_ev (x int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('a_ev', time_column => 'ts', idle_timeout => NULL);
CREATE FUNCTION half(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 / 2';
SELECT streamext.create_view('halves', $$ SELECT public.half(x) AS h, count(*) AS n FROM a_ev GROUP BY 1 $$);
DROP FUNCTION half(int);
}, extra_params => ['-U', 'alice']);
wait_caught_up($node, 'src');

# 1. an enum label renamed
$node->safe_psql('src', q{ALTER TYPE mood RENAME VALUE 'happy' TO 'glad'});
$node->safe_psql('src', q{ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'});
like($node->safe_psql('src', q{SELECT definition FROM streamext.view_def WHERE name = 'happy_urls'}),
	qr/'glad'::public\.mood/, 'the definition names the renamed enum label');
like($node->safe_psql('src', q{SELECT filter_definition FROM streamext.subscription_def WHERE name = 'sad'}),
	qr/'blue'::public\.mood/, 'the filter names the renamed enum label');

# 2. the time column renamed on the parent
$node->safe_psql('src', 'ALTER TABLE base RENAME COLUMN ts TO at');
is($node->safe_psql('src', q{SELECT time_column FROM streamext.stream_def WHERE relid = 'child'::regclass}),
	'at', "the inheriting stream's time column is known by its new name");

# 3. a rename by another role, and by the superuser, despite alice's view
my ($rc, $out, $err) = $node->psql('src', 'CREATE TABLE bobs (a int); ALTER TABLE bobs RENAME TO bobs2',
	extra_params => ['-U', 'bob']);
is($rc, 0, "bob's rename is not failed by alice's view") or diag($err);
like($err, qr/could not write the definition of continuous view "halves"/, 'which is warned about');
($rc, $out, $err) = $node->psql('src', 'ALTER TABLE clicks RENAME COLUMN ms TO duration');
is($rc, 0, 'a rename of a stream column is not failed by it') or diag($err);

# 4. the stream named like a catalog table
$node->safe_psql('src', 'SET search_path = public, streamext; ALTER TABLE dead_letters RENAME TO kv');
like($node->safe_psql('src', q{SELECT definition FROM streamext.view_def WHERE name = 'per_k'}),
	qr/public\.kv/, 'the definition names the renamed stream');

# a restart: the worker loads the streams' time columns by name
$node->restart;
$node->safe_psql('src', q{
INSERT INTO child VALUES (9, '2026-01-01 00:30+00');
INSERT INTO clicks VALUES ('/new', 'glad', 5, '2026-01-01 00:40+00');
});
my %oracle = (
	happy_urls => q{SELECT url, count(*) AS n FROM clicks WHERE m = 'glad' GROUP BY url},
	child_per_minute => q{SELECT date_bin('1 minute', at, '2000-01-01 00:00+00') AS window_start,
		date_bin('1 minute', at, '2000-01-01 00:00+00') + interval '1 minute' AS window_end,
		x, count(*) AS n FROM child GROUP BY 1, 2, 3},
	per_k => q{SELECT k, sum(v) AS s FROM kv GROUP BY k});
sub check_all
{
	my ($db, $label) = @_;
	wait_caught_up($node, $db);
	check_view($node, $db, $_, $oracle{$_}, "$label, $_") for sort keys %oracle;
}
check_all('src', 'after the renames and a restart');

# a dump restores every view but alice's, whose function is gone
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($dout, $derr) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port,
	'-Fc', '-f', "$dir/src.dump", 'src']);
is($derr, '', 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
($dout, $derr) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
	'-j', '4', '-d', 'restored', "$dir/src.dump"]);
is($derr, '', 'pg_restore -j 4');
# the restore is over: the superuser's DDL neither waits for another's nor
# tries that view again
check_ddl_does_not_wait($node, 'restored', 'after a restore that left a view out',
	'CREATE TABLE t1 (a int)', 'CREATE TABLE t2 (a int)');
is($node->safe_psql('restored', q{SELECT string_agg(name, ',' ORDER BY name) FROM streamext.adopt_restored()}),
	'halves', 'every view but the one whose function was dropped is adopted');
check_all('restored', 'restored');
is($node->safe_psql('restored', q{SELECT count(*) FROM streamext.poll('sad', 100000) WHERE kind = 'event'}),
	$node->safe_psql('restored', q{SELECT count(*) FROM clicks WHERE m = 'blue'}),
	'the restored subscription delivers through its renamed label');

done_testing();
