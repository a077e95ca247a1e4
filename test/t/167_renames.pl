# Renames that continuous views and subscriptions follow: a stream's
# columns (its time column too), the stream itself and its schema, a
# continuous view (ALTER VIEW ... RENAME); views keep running, the SQL
# functions find a renamed view by its new name, and a dump taken after the
# renames restores every view and subscription, equal to plain SQL.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('renames');
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION streamext;
CREATE TABLE clicks (url text NOT NULL, user_id int, ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('clicks', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('per_url',
  $$ SELECT url, count(*) AS n, sum(ms) AS total FROM clicks WHERE ms > 0 GROUP BY url $$,
  'tumbling 1 minute');
SELECT streamext.create_view('slow_users',
  $$ SELECT user_id, max(ms) AS worst FROM clicks GROUP BY user_id HAVING max(ms) > 500 $$);
SELECT streamext.create_subscription('slow', 'clicks', filter => 'ms > 900', notify => 'none');
INSERT INTO clicks SELECT '/p' || (i % 7), i % 13, i % 1000,
  '2026-01-01 00:00+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 600) i;
});
wait_caught_up($node, 'src');

# the oracles name the columns as they are when checked
my %oracle = (
	per_url => sub {
		my ($url, $ms, $ts, $table) = @_;
		return "SELECT date_bin('1 minute', $ts, '2000-01-01 00:00+00') AS window_start,
		               date_bin('1 minute', $ts, '2000-01-01 00:00+00') + interval '1 minute' AS window_end,
		               $url, count(*) AS n, sum($ms) AS total FROM $table WHERE $ms > 0 GROUP BY 1, 2, 3";
	},
	slow_users => sub {
		my ($url, $ms, $ts, $table) = @_;
		return "SELECT user_id, max($ms) AS worst FROM $table GROUP BY user_id HAVING max($ms) > 500";
	});

sub check_renamed_views
{
	my ($db, $label, $names, @cols) = @_;
	wait_caught_up($node, $db);
	check_views($node, $db, $label, map { [ $names->{$_}, $oracle{$_}->(@cols) ] } sort keys %oracle);
}

my %names = (per_url => 'per_url', slow_users => 'slow_users');
check_renamed_views('src', 'before the renames', \%names, 'url', 'ms', 'ts', 'clicks');

# 1. columns: one a view groups by, one the filter and the views read, the
# time column
$node->safe_psql('src', q{
ALTER TABLE clicks RENAME COLUMN url TO page;
ALTER TABLE clicks RENAME COLUMN ms TO duration;
ALTER TABLE clicks RENAME COLUMN ts TO at;
});
is($node->safe_psql('src', 'SELECT time_column FROM streamext.streams'), 'at',
	'the time column is known by its new name');
like($node->safe_psql('src', q{SELECT definition FROM streamext.view_def WHERE name = 'per_url'}),
	qr/page.*duration.*public\.clicks/s, 'the definition a restore analyses names the new columns');
like($node->safe_psql('src', q{SELECT filter_definition FROM streamext.subscription_def WHERE name = 'slow'}),
	qr/duration > 900/, "the subscription's filter names the new column");
$node->safe_psql('src', q{
INSERT INTO clicks (page, user_id, duration, at) SELECT '/p' || (i % 5), i % 17, (i * 7) % 1000,
  '2026-01-01 00:10+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 300) i;
});
check_renamed_views('src', 'after renaming columns', \%names, 'page', 'duration', 'at', 'clicks');

# 2. the stream and its schema
$node->safe_psql('src', q{
CREATE SCHEMA web;
ALTER TABLE clicks RENAME TO hits;
ALTER TABLE hits SET SCHEMA web;
});
like($node->safe_psql('src', q{SELECT definition FROM streamext.view_def WHERE name = 'per_url'}),
	qr/web\.hits/, 'the definition names the stream where it is now');
$node->safe_psql('src', q{
INSERT INTO web.hits (page, user_id, duration, at) SELECT '/q' || (i % 3), i % 11, (i * 13) % 1000,
  '2026-01-01 00:20+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 200) i;
});
check_renamed_views('src', 'after renaming and moving the stream', \%names, 'page', 'duration', 'at', 'web.hits');

# 3. a continuous view
$node->safe_psql('src', 'ALTER VIEW per_url RENAME TO per_page');
$names{per_url} = 'per_page';
is($node->safe_psql('src', q{SELECT string_agg(name, ',' ORDER BY name) FROM streamext.views}),
	'per_page,slow_users', 'streamext.views lists the view by its new name');
$node->safe_psql('src', q{SELECT streamext.set_view_retention('per_page', NULL)});
my ($rc, $out, $err) = $node->psql('src', q{SELECT streamext.drop_view('per_url')});
like($err, qr/continuous view "per_url" does not exist/, 'the old name is gone');
# a name another continuous view has is refused
$node->safe_psql('src', q{
CREATE SCHEMA other;
SET search_path = other, public;
SELECT streamext.create_view('slow_pages', $$ SELECT page, count(*) AS n FROM web.hits GROUP BY page $$);
});
($rc, $out, $err) = $node->psql('src', 'ALTER VIEW slow_users RENAME TO slow_pages');
like($err, qr/a continuous view is named "slow_pages" already/, 'a rename onto another view\'s name is refused');
is($node->safe_psql('src', q{SELECT count(*) FROM pg_class WHERE relname = 'slow_users'}), '1',
	'and the view keeps its name');
$node->safe_psql('src', q{SELECT streamext.drop_view('slow_pages')});
# its columns are its query's: renaming one is refused
($rc, $out, $err) = $node->psql('src', 'ALTER VIEW per_page RENAME COLUMN n TO clicks');
like($err, qr/cannot rename column "n" of continuous view "per_page"/,
	"renaming a continuous view's column is refused");
check_renamed_views('src', 'after renaming a view', \%names, 'page', 'duration', 'at', 'web.hits');
my $queued = $node->safe_psql('src', q{SELECT newest_position FROM streamext.subscriptions WHERE name = 'slow'});
is($queued, $node->safe_psql('src', 'SELECT count(*) FROM web.hits WHERE duration > 900'),
	'the subscription queued every event its filter passes');

# 4. a dump taken after the renames restores everything
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($dout, $derr) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port,
	'-Fc', '-f', "$dir/src.dump", 'src']);
is($derr, '', 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
($dout, $derr) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
	'-j', '4', '-d', 'restored', "$dir/src.dump"]);
is($derr, '', 'pg_restore -j 4');
is($node->safe_psql('restored', 'SELECT count(*) FROM streamext.adopt_restored()'), '0',
	'nothing is left to adopt');
check_renamed_views('restored', 'restored', \%names, 'page', 'duration', 'at', 'web.hits');
$node->safe_psql('restored', q{
INSERT INTO web.hits (page, user_id, duration, at) VALUES ('/new', 1, 950, '2026-01-01 00:30+00');
});
check_renamed_views('restored', 'restored, then new events', \%names, 'page', 'duration', 'at', 'web.hits');
is($node->safe_psql('restored', q{SELECT count(*) FROM streamext.poll('slow', 100000) WHERE kind = 'event'}),
	$node->safe_psql('restored', 'SELECT count(*) FROM web.hits WHERE duration > 900'),
	'the restored subscription delivers through its renamed filter');

# 5. a view moved to another schema keeps its name in the catalog; the
# functions also find it by its relation's name, qualified or not
$node->safe_psql('src', 'ALTER VIEW per_page SET SCHEMA web');
$node->safe_psql('src', q{SELECT streamext.set_view_retention('web.per_page', '1 day')});
is($node->safe_psql('src', q{SELECT retention FROM streamext.views WHERE view = 'web.per_page'::regclass}),
	'1 day', 'a moved view is found by its qualified name');
$node->safe_psql('src', q{SET search_path = web, public; SELECT streamext.rebuild_view('per_page')});
is($node->safe_psql('src', 'SELECT count(*) > 0 FROM web.per_page'), 't',
	'and rebuilt by its name on the search_path');
$node->safe_psql('src', q{SELECT streamext.drop_view('web.per_page')});
is($node->safe_psql('src', q{SELECT count(*) FROM streamext.views WHERE name = 'per_page'}), '0',
	'and dropped by its qualified name');
($rc, $out, $err) = $node->psql('src', q{SELECT streamext.drop_view('no such view')});
like($err, qr/continuous view "no such view" does not exist/, 'a name that is no identifier: does not exist');

done_testing();
