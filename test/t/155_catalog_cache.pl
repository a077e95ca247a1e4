# The catalog layer keeps, per process, the OIDs of streamext's tables and
# the plans of its statements.  A session that saw the extension dropped and
# created again (by itself, in one transaction, or by another session) finds
# the new tables; a view's closed table renamed and moved to another schema
# is still written, rebuilt and dropped; a catalog table whose columns are
# not those the library reads fails with an error instead of being misread.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('catalog_cache');

# one long session, as a pooled connection would be
my $s = $node->background_psql('postgres', on_error_stop => 0);
$s->query_safe('SET client_min_messages = warning');

# the extension with a stream, a view without windows, a windowed view and
# a subscription; $first says which view is made first (and gets id 1)
sub setup
{
	my ($session, $first) = @_;
	my %views = (
		per_g => q{SELECT streamext.create_view('per_g',
			$$ SELECT g, count(*) AS n, sum(v) AS s FROM ev GROUP BY g $$)},
		per_sec => q{SELECT streamext.create_view('per_sec',
			$$ SELECT g, count(*) AS n FROM ev GROUP BY g $$, 'tumbling 1 second')});
	$session->query_safe(q{
CREATE EXTENSION streamext;
CREATE TABLE ev (g int, v int, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('ev', 'ts');});
	$session->query_safe($views{$first});
	$session->query_safe($views{$first eq 'per_g' ? 'per_sec' : 'per_g'});
}

my $per_g = 'SELECT g, count(*), sum(v) FROM ev GROUP BY g';
my $per_sec = q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'),
	date_bin('1 second', ts, '2000-01-01 00:00+00') + interval '1 second', g, count(*)
	FROM ev GROUP BY 1, 2, 3};

# events an hour ago, then one now: the watermark passes their windows
sub produce
{
	my ($session, $n) = @_;
	$session->query_safe(qq{
INSERT INTO ev (g, v, ts) SELECT i % 7, i, now() - interval '1 hour' + i * interval '10 ms'
  FROM generate_series(1, $n) i;
INSERT INTO ev (g, v) VALUES (0, 0);});
}

# compares a view with plain SQL in the session itself
sub session_check
{
	my ($session, $view, $oracle, $label) = @_;
	my $res = $session->query_safe(qq{
SELECT (SELECT count(*) FROM (($oracle) EXCEPT ALL (SELECT * FROM $view)) a),
       (SELECT count(*) FROM ((SELECT * FROM $view) EXCEPT ALL ($oracle)) b)});
	is($res, '0|0', "$label: $view equals plain SQL");
}

setup($s, 'per_g');
produce($s, 500);
wait_caught_up($node);
session_check($s, 'per_g', $per_g, 'first extension');
session_check($s, 'per_sec', $per_sec, 'first extension');
$s->query_safe(q{SELECT streamext.create_subscription('sub', 'ev', notify => 'none')});
$s->query_safe("INSERT INTO ev (g, v) VALUES (1, 1), (2, 2)");
wait_caught_up($node);
is($s->query_safe(q{SELECT count(*) FROM streamext.poll('sub')}), '2',
	'first extension: the subscription delivers');

# the same session drops the extension and creates it again: view ids start
# over, now per_sec is view 1.  (The closed tables are not members of the
# extension: DROP EXTENSION leaves them, and the schema, behind.)
my $drop = 'DROP EXTENSION streamext CASCADE; DROP SCHEMA streamext CASCADE; DROP TABLE ev';
$s->query_safe($drop);
setup($s, 'per_sec');
$s->query_safe(q{SELECT streamext.create_subscription('sub', 'ev', notify => 'none')});
produce($s, 300);
wait_caught_up($node);
session_check($s, 'per_g', $per_g, 'created again in the same session');
session_check($s, 'per_sec', $per_sec, 'created again in the same session');
is($s->query_safe(q{SELECT count(*) FROM streamext.poll('sub', 1000)}), '301',
	'created again in the same session: the subscription delivers');
is($s->query_safe(q{SELECT string_agg(name, ' ' ORDER BY id) FROM streamext.views}),
	'per_sec per_g', 'the views are those of the new extension');

# dropped and created again in one transaction
$s->query_safe("BEGIN; $drop");
setup($s, 'per_g');
$s->query_safe('COMMIT');
produce($s, 200);
wait_caught_up($node);
session_check($s, 'per_g', $per_g, 'created again in one transaction');
session_check($s, 'per_sec', $per_sec, 'created again in one transaction');

# another session drops and creates it while this one keeps its caches
$node->safe_psql('postgres', "SET client_min_messages = warning; $drop");
my $other = $node->background_psql('postgres');
$other->query_safe('SET client_min_messages = warning');
setup($other, 'per_sec');
$other->quit;
produce($s, 100);
wait_caught_up($node);
session_check($s, 'per_g', $per_g, 'created again by another session');
session_check($s, 'per_sec', $per_sec, 'created again by another session');
$s->query_safe(q{SELECT streamext.set_view_retention('per_sec', '1 day')});
is($s->query_safe(q{SELECT retention FROM streamext.views WHERE name = 'per_sec'}),
	'1 day', 'created again by another session: set_view_retention finds the view');

# the closed table of per_sec renamed and moved: the worker writes it by its
# OID, rebuild_view clears it, drop_view drops it
my $closed = $s->query_safe(q{
SELECT closed_relid::regclass FROM streamext.view_def WHERE name = 'per_sec'});
$s->query_safe(qq{
CREATE SCHEMA elsewhere;
ALTER TABLE $closed RENAME TO per_sec_closed;});
$s->query_safe('ALTER TABLE streamext.per_sec_closed SET SCHEMA elsewhere');
my $before = $s->query_safe('SELECT count(*) FROM elsewhere.per_sec_closed');
produce($s, 400);
wait_checkpointed($node);
session_check($s, 'per_sec', $per_sec, 'closed table renamed and moved');
cmp_ok($s->query_safe('SELECT count(*) FROM elsewhere.per_sec_closed'), '>', $before,
	'the worker writes closed windows into the renamed table');
$s->query_safe(q{SELECT streamext.rebuild_view('per_sec')});
session_check($s, 'per_sec', $per_sec, 'rebuilt after the rename');
$s->query_safe(q{SELECT streamext.drop_view('per_sec')});
is($s->query_safe(q{SELECT to_regclass('elsewhere.per_sec_closed') IS NULL}), 't',
	'drop_view drops the renamed closed table');

# a catalog table of another shape is refused, not misread; columns after
# those the library reads (a later version's) are no obstacle
$node->safe_psql('postgres', 'CREATE DATABASE drift');
$node->safe_psql('drift', q{
CREATE EXTENSION streamext;
ALTER TABLE streamext.stream_def ADD COLUMN later int;
CREATE TABLE ev2 (v int, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('ev2', 'ts');});
is($node->safe_psql('drift', q{SELECT time_column FROM streamext.streams}), 'ts',
	'a column added after those read is no obstacle');
$node->safe_psql('drift', q{
ALTER TABLE streamext.stream_def RENAME COLUMN time_column TO tc;
CREATE TABLE ev3 (v int);});
my ($ret, $out, $err) = $node->psql('drift', q{SELECT streamext.create_stream('ev3')});
like($err, qr/streamext catalog table "stream_def" does not have the columns this library reads.*\n.*DETAIL:  Its column 2 is "tc"; the library reads "time_column" there/,
	'a renamed column is refused');

$s->query_safe('INSERT INTO ev (g, v) VALUES (3, 3)');
wait_caught_up($node);
session_check($s, 'per_g', $per_g, 'at the end');

$s->quit;
ok(slurp_file($node->logfile) !~ /terminated by signal/, 'no process crashed');
$node->stop;
done_testing();
