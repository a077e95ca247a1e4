# StreamextTest.pm: what every streamext TAP test shares: a node set up for
# streamext, the schema of a click stream with three views, a load of
# concurrent producers, and the oracle (each view equals plain SQL).
package StreamextTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(streamext_node create_click_schema start_producers
  finish_producers wait_caught_up check_click_views check_view worker_pid);

# streamext_node starts a node with what streamext needs
sub streamext_node
{
	my ($name, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'streamext'
max_worker_processes = 16
max_replication_slots = 10
streamext.checkpoint_interval = '200ms'
restart_after_crash = on
} . ($extra // ''));
	$node->start;
	return $node;
}

# create_click_schema: the stream of the issue and three views over it:
# tumbling 1-second windows (many close and get late events), a running
# aggregate with WHERE and expressions, and a grand total
sub create_click_schema
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts');
SELECT streamext.create_view('per_second',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total, avg(ms) AS avg_ms, max(ms) AS worst FROM clicks GROUP BY url $$,
  'tumbling 1 second');
SELECT streamext.create_view('per_user',
  $$ SELECT user_id % 50 AS u, count(*) AS n, min(ms) AS best, round(stddev(ms)::numeric, 6) AS sd FROM clicks WHERE ms >= 10 GROUP BY 1 $$);
SELECT streamext.create_view('total', $$ SELECT count(*) AS n, sum(ms) AS s FROM clicks $$);
});
	# the worker has its slot before the test produces anything
	wait_caught_up($node, $db);
}

my %oracle = (
	per_second => q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'),
	                       date_bin('1 second', ts, '2000-01-01 00:00+00') + interval '1 second',
	                       url, count(*), sum(ms), avg(ms), max(ms) FROM clicks GROUP BY 1, 2, 3},
	per_user => q{SELECT user_id % 50, count(*), min(ms), round(stddev(ms)::numeric, 6)
	                FROM clicks WHERE ms >= 10 GROUP BY 1},
	total => q{SELECT count(*), sum(ms) FROM clicks},
);

# start_producers runs pgbench in the background: single-row, 10-row and
# rolled-back transactions from several clients
sub start_producers
{
	my ($node, %opts) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $rnd = q{'/p' || (random() * 20)::int, (random() * 1000)::int, (random() * 500)::int};
	PostgreSQL::Test::Utils::append_to_file("$dir/single.sql",
		"INSERT INTO clicks (url, user_id, ms) VALUES ($rnd);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/multi.sql",
		"INSERT INTO clicks (url, user_id, ms) SELECT $rnd FROM generate_series(1, 10);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/rollback.sql",
		"BEGIN;\nINSERT INTO clicks (url, user_id, ms) SELECT $rnd FROM generate_series(1, 5);\nROLLBACK;\n");
	my @cmd = ('pgbench', '-n', '-c', $opts{clients} // 4, '-j', 2,
		'-T', $opts{seconds} // 4,
		'-f', "$dir/single.sql\@5", '-f', "$dir/multi.sql\@3", '-f', "$dir/rollback.sql\@2",
		'-h', $node->host, '-p', $node->port, $opts{db} // 'postgres');
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	return { handle => $h, out => \$out, err => \$err };
}

# finish_producers waits for pgbench; with $may_fail, a crash may end it
sub finish_producers
{
	my ($p, $may_fail) = @_;
	my $ok = eval { $p->{handle}->finish; 1 };
	if (!$may_fail)
	{
		ok($ok && $p->{handle}->result == 0, 'producers finished')
		  or diag(${ $p->{err} });
	}
	return ${ $p->{out} };
}

sub wait_caught_up
{
	my ($node, $db) = @_;
	my $r = $node->safe_psql($db // 'postgres', "SELECT streamext.wait_caught_up('180s')");
	is($r, 't', 'worker caught up');
}

# check_view compares a view with its oracle both ways with EXCEPT ALL
sub check_view
{
	my ($node, $db, $view, $oracle_sql, $label) = @_;
	my $res = $node->safe_psql($db, qq{
SELECT (SELECT count(*) FROM (($oracle_sql) EXCEPT ALL (SELECT * FROM $view)) a),
       (SELECT count(*) FROM ((SELECT * FROM $view) EXCEPT ALL ($oracle_sql)) b),
       (SELECT count(*) FROM $view)});
	my ($missing, $extra, $rows) = split /\|/, $res;
	is("$missing|$extra", '0|0', "$label: $view equals plain SQL ($rows rows)");
	return $rows;
}

sub check_click_views
{
	my ($node, $label, $db) = @_;
	$db //= 'postgres';
	wait_caught_up($node, $db);
	check_view($node, $db, $_, $oracle{$_}, $label) for qw(per_second per_user total);
}

sub worker_pid
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND datname = current_database()");
}

1;
