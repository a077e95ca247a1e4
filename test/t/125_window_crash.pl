# Hopping and session windows (and tumbling, as the control) through
# crashes under load, with aggregates over DISTINCT values in a view of
# every kind (their states are sets, combined by union): the worker killed with SIGKILL (the server restarts
# every process) and an immediate server stop, each while producers insert
# late, out-of-order events.  The worker decodes again from its last
# checkpoint; once it has checkpointed the last event, each view equals
# plain SQL: no event lost, none counted twice, open windows, closed ones
# and sessions alike.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('window_crash');
create_event_stream($node);

# sums over coalesce(v, 0): NULL partial states are 120_window_oracle's
my @views = (
	{ name => 'tumb', window => 'tumbling 5 seconds', lateness => '10 seconds', keys => ['g'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s', 'max(v) AS hi', 'count(DISTINCT k) AS dk'] },
	{ name => 'hop', window => 'hopping 10 seconds every 1 second', lateness => '5 seconds',
	  keys => ['g'], aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s', 'max(ts) AS last'] },
	{ name => 'hop_k', window => 'hopping 20 seconds every 5 seconds', keys => ['k % 10'],
	  aggs => ['count(*) AS n', 'min(v) AS lo'], where => 'v >= 0' },
	# calendar code (a zone whose offset changes), UTC's windows
	{ name => 'hop_zone', window => 'hopping 10 seconds every 2 seconds', time_zone => 'Europe/Paris',
	  lateness => '5 seconds', keys => ['g'], aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'sess', window => 'session 3 seconds', keys => ['k'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s', 'min(ts) AS first', 'max(ts) AS last',
			   'count(DISTINCT v) AS dv', 'sum(DISTINCT v) AS sdv'] },
	{ name => 'dist_hop', window => 'hopping 10 seconds every 2 seconds', lateness => '5 seconds',
	  keys => ['g'], aggs => ['count(DISTINCT k) AS dk', 'count(DISTINCT v % 7) AS dv', 'count(*) AS n'] },
	{ name => 'dist_cum', window => 'cumulate 20 seconds every 5 seconds', keys => ['g'],
	  aggs => ['count(DISTINCT k) AS dk', 'array_agg(DISTINCT v % 5) AS vs'] },
	{ name => 'dist_slide', window => 'sliding 20 seconds step 2 seconds', keys => ['g'],
	  aggs => ['count(DISTINCT k) AS dk', 'count(*) AS n'] },
	{ name => 'dist_all', keys => ['g'], aggs => ['count(DISTINCT k) AS dk', 'sum(DISTINCT v) AS sdv',
												 'count(*) AS n'] },
	{ name => 'sess_late', window => 'session 2 seconds', lateness => '10 seconds',
	  keys => ['k % 40'], aggs => ['count(*) AS n', 'max(v) AS hi'], where => 'v >= 0',
	  having => 'count(*) >= 2' },
);
my %created;
$created{ $_->{name} } = create_window_view($node, 'postgres', $_) for @views;
wait_caught_up($node);

# check_all waits for a checkpoint after the last event and compares
sub check_all
{
	my ($label) = @_;
	wait_checkpointed($node);
	for my $spec (@views)
	{
	  SKIP:
		{
			skip "view $spec->{name} was not created", 1 unless $created{ $spec->{name} };
			check_view($node, 'postgres', $spec->{name}, window_oracle($spec),
				"$label, $spec->{window}");
		}
	}
}

# 1. SIGKILL of the worker during load: the postmaster restarts everything
my $p = start_event_producers($node, seconds => 4, rate => 300);
sleep 2;
my $pid = worker_pid($node);
ok($pid, "worker runs (pid $pid)");
kill 'KILL', $pid;
finish_producers($p, 1);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
$p = start_event_producers($node, seconds => 2, rate => 300);
finish_producers($p);
check_all('after kill -9 of the worker');

# 2. immediate stop during load, then restart and more load
$p = start_event_producers($node, seconds => 4, rate => 300);
sleep 2;
$node->stop('immediate');
finish_producers($p, 1);
$node->start;
$p = start_event_producers($node, seconds => 2, rate => 300);
finish_producers($p);
check_all('after immediate stop');

my $late = $node->safe_psql('postgres',
	q{SELECT string_agg(name || '=' || late_events, ' ' ORDER BY name) FROM streamext.views});
note("late events: $late");
note('events: ' . $node->safe_psql('postgres', 'SELECT count(*) FROM ev'));

done_testing();
