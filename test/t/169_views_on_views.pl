# Views on views under load, late events, kill -9 and an immediate stop:
# per-second views of the stream (tumbling, hopping) and views on them
# (tumbling per 10 seconds, per site per minute, hopping, no window, and a
# third level), each checked
# against plain SQL over the view it reads, and the lower views against
# plain SQL over the stream.  Late events correct lower windows that views
# on them took already: the upper windows are computed again.  A 'final'
# subscription on a view on a view gets each window once, and its latest
# entry for a window is the window's row.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('views_on_views');
create_event_stream($node);
$node->safe_psql('postgres', q{SELECT streamext.set_stream_idle_timeout('ev', '1 second')});

my @lower = (
	{ name => 'tumb', window => 'tumbling 1 second', lateness => '2 seconds', keys => ['g'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'hop', window => 'hopping 3 seconds every 1 second', lateness => '2 seconds',
	  keys => ['g'], aggs => ['count(*) AS n', 'max(v) AS hi'] },
);
create_window_view($node, 'postgres', $_) or BAIL_OUT("view $_->{name}") for @lower;

# each view on a view, and the plain SQL over the view it reads
my $o = q{'2000-01-01 00:00+00'};
my @upper = (
	{ name => 'up_tumb', window => 'tumbling 10 seconds',
	  query => 'SELECT k1, sum(n) AS n, sum(s) AS s, count(*) AS w FROM tumb GROUP BY k1',
	  oracle => "SELECT date_bin('10 seconds', window_start, $o) AS ws,
	                    date_bin('10 seconds', window_start, $o) + interval '10 seconds',
	                    k1, sum(n), sum(s), count(*) FROM tumb GROUP BY 1, 2, 3" },
	{ name => 'up_site', window => 'tumbling 1 minute',
	  query => 'SELECT k1 % 2 AS site, sum(n) AS n, max(s) AS top FROM tumb WHERE k1 IS NOT NULL GROUP BY 1 HAVING sum(n) > 3',
	  oracle => "SELECT date_bin('1 minute', window_start, $o) AS ws,
	                    date_bin('1 minute', window_start, $o) + interval '1 minute',
	                    k1 % 2, sum(n), max(s) FROM tumb WHERE k1 IS NOT NULL
	              GROUP BY 1, 2, 3 HAVING sum(n) > 3" },
	{ name => 'up_hop', window => 'tumbling 10 seconds',
	  query => 'SELECT sum(n) AS n, max(hi) AS hi, count(*) AS w FROM hop',
	  oracle => "SELECT date_bin('10 seconds', window_start, $o) AS ws,
	                    date_bin('10 seconds', window_start, $o) + interval '10 seconds',
	                    sum(n), max(hi), count(*) FROM hop GROUP BY 1, 2" },
	{ name => 'up_hopping', window => 'hopping 10 seconds every 5 seconds',
	  query => 'SELECT k1, sum(n) AS n, count(*) AS w FROM tumb GROUP BY k1',
	  oracle => "SELECT w AS ws, w + interval '10 seconds', k1, sum(n), count(*)
	               FROM tumb, generate_series(date_bin('5 seconds', window_start, $o) - interval '5 seconds',
	                                          date_bin('5 seconds', window_start, $o), interval '5 seconds') w
	              GROUP BY 1, 2, 3" },
	{ name => 'up_total', window => undef,
	  query => 'SELECT k1, sum(n) AS n, sum(s) AS s FROM tumb GROUP BY k1',
	  oracle => "SELECT k1, sum(n), sum(s) FROM tumb GROUP BY k1" },
	{ name => 'top', window => 'tumbling 1 minute',
	  query => 'SELECT sum(n) AS n, sum(w) AS w FROM up_tumb',
	  oracle => "SELECT date_bin('1 minute', window_start, $o) AS ws,
	                    date_bin('1 minute', window_start, $o) + interval '1 minute',
	                    sum(n), sum(w) FROM up_tumb GROUP BY 1, 2" },
);
for my $u (@upper)
{
	my $w = defined $u->{window} ? "'$u->{window}'" : 'NULL';
	$node->safe_psql('postgres',
		"SELECT streamext.create_view('$u->{name}', \$q\$ $u->{query} \$q\$, \"window\" => $w)");
}
$node->safe_psql('postgres',
	"SELECT streamext.create_subscription('up_tumb_final', 'up_tumb', notify => 'none')");

# quiet for a second, every lower window closes by the clock: the views on
# them equal plain SQL over the whole lower views
sub check_all
{
	my ($label, $db) = @_;
	$db //= 'postgres';
	wait_caught_up($node, $db);
	check_view($node, $db, $_->{name}, window_oracle($_), "$label, $_->{window}") for @lower;
	for my $u (@upper)
	{
		my $diff = "SELECT (SELECT count(*) FROM (($u->{oracle}) EXCEPT ALL (SELECT * FROM $u->{name})) a)
		                 + (SELECT count(*) FROM ((SELECT * FROM $u->{name}) EXCEPT ALL ($u->{oracle})) b)";
		$node->poll_query_until($db, "$diff = 0", 't')
		  or diag("$u->{name} still differs");
		check_view($node, $db, $u->{name}, $u->{oracle}, "$label, view on a view");
	}
	is($node->safe_psql($db, 'SELECT count(*) FROM streamext.dead_letters'), '0',
		"$label: no dead letter (a window closed twice would be one)");
	my $sub = $node->safe_psql($db, q{
WITH q AS (
  SELECT q.kind, q.event::jsonb AS row, q.position FROM streamext.subscription_queue q
    JOIN streamext.subscription_def d ON d.id = q.subscription_id
   WHERE d.name = 'up_tumb_final'),
latest AS (
  SELECT DISTINCT ON (row->>'window_start', row->>'k1') row FROM q
   ORDER BY row->>'window_start', row->>'k1', position DESC),
closed AS (
  SELECT to_jsonb(v) AS row FROM up_tumb v, streamext.view_progress p, streamext.view_def d
   WHERE d.name = 'up_tumb' AND p.view_id = d.id AND v.window_end <= p.closed_upto)
SELECT (SELECT count(*) FROM closed),
       (SELECT count(*) FROM (SELECT row->>'window_start', row->>'k1' FROM q WHERE kind = 'window'
                               GROUP BY 1, 2 HAVING count(*) > 1) t),
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT row FROM latest) m)});
	my ($closed, $twice, $stale) = split /\|/, $sub;
	ok($closed > 0, "$label: windows of a view on a view closed ($closed)");
	is("$twice $stale", '0 0',
		"$label: each queued once, the latest entry of each is its row");
}

my $p = start_event_producers($node, seconds => 5, rate => 300);
finish_producers($p);
check_all('under load with late events');
ok($node->safe_psql('postgres', q{SELECT sum(late_events) FROM streamext.views WHERE name IN ('tumb', 'hop')}) > 0,
	'some events came after their windows closed');

# kill -9 of the worker while events come
$p = start_event_producers($node, seconds => 5, rate => 300);
sleep 2;
my $pid = worker_pid($node);
kill 'KILL', $pid;
finish_producers($p, 1);
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
  or die 'worker did not come back';
check_all('after kill -9 of the worker');

# an immediate stop while events come
$p = start_event_producers($node, seconds => 5, rate => 300);
sleep 2;
$node->stop('immediate');
finish_producers($p, 1);
$node->start;
check_all('after an immediate stop');

# a rebuild of the lower view computes the views on it again, exactly
$node->safe_psql('postgres', q{SELECT streamext.rebuild_view('tumb')});
check_all('after rebuild_view of the lower view');

# dumped and restored, serially and with a plain pg_restore -j 4: the views
# on views are adopted once the views they read are, and equal plain SQL
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($out, $err) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port,
	'-Fc', '-f', "$dir/vv.dump", 'postgres']);
is($err, '', 'pg_dump -Fc');
for my $jobs (1, 4)
{
	$node->safe_psql('postgres', "CREATE DATABASE restored_$jobs");
	($out, $err) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
		'-j', $jobs, '-d', "restored_$jobs", "$dir/vv.dump"]);
	is($err, '', "pg_restore -j $jobs");
	is($node->safe_psql("restored_$jobs",
		'SELECT count(*) FROM streamext.view_def d WHERE NOT EXISTS
		   (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = d.id)'),
		'0', "pg_restore -j $jobs: every view adopted");
	check_all("restored with pg_restore -j $jobs", "restored_$jobs");
}

done_testing();
