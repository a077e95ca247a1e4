# A view dropped, replaced or rebuilt while readers have pins keeps its
# groups only while a pin they were lent to may be left
# (state_shmem_drop_view): a cursor open on another view must not keep
# them, or a rebuilt view would count twice against streamext.max_memory
# and readers would get "does not fit" until the cursor closes.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('lent_memory', "streamext.max_memory = '64MB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('small', $$ SELECT k % 10 AS b, count(*) AS n FROM ev GROUP BY 1 $$);
SELECT streamext.create_view('big1', $$ SELECT k, count(*) AS n, max(md5(v::text)) AS m FROM ev GROUP BY k $$);
SELECT streamext.create_view('big2', $$ SELECT k, count(*) AS n, max(md5(v::text)) AS m FROM ev GROUP BY k $$);
INSERT INTO ev SELECT i, i, now() FROM generate_series(1, 70000) i;
});
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT (SELECT count(*) FROM big1) + (SELECT count(*) FROM big2)'),
	'140000', 'both views fit');

# a cursor lent the groups of another view, at a later publish than the
# reads above
$node->safe_psql('postgres', 'INSERT INTO ev VALUES (1, 1, now())');
wait_caught_up($node);
my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe(q{BEGIN;
DECLARE c NO SCROLL CURSOR FOR SELECT * FROM small;
FETCH 1 FROM c;});
for my $view (qw(big1 big2))
{
	$node->safe_psql('postgres', "SELECT streamext.rebuild_view('$view')");
	$node->safe_psql('postgres', 'INSERT INTO ev VALUES (1, 1, now())');
	wait_caught_up($node);
}
# the worker publishes the rebuilt views as the catalog shows them
my ($ret, $out, $err);
for (1 .. 20)
{
	$ret = $node->psql('postgres',
		'SELECT (SELECT count(*) FROM big1) + (SELECT count(*) FROM big2)',
		stdout => \$out, stderr => \$err);
	last if $ret == 0 && $out eq '140000';
	sleep 1;
}
is($out, '140000', "rebuilt views read while another view's cursor is open")
  or diag($err);
$reader->query_safe('COMMIT');
$reader->quit;
$node->stop;
done_testing();
