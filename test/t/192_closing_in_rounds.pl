# Closing in rounds: one transaction that makes many windows (or sessions)
# due at once is closed over several transactions of the worker, each of
# about 5,000 groups per view, the oldest windows first, with the WAL after
# it decoded between them (worker.c, view_state_close_horizon).  The
# closed rows come in order of window end, every view equals plain SQL and
# every window reaches its 'final' subscription once, also when the worker
# is killed between two rounds and decodes again from its checkpoint.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('closing_in_rounds');
create_event_stream($node);

my @views = (
	{ name => 'tumb', window => 'tumbling 1 second', keys => ['k'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'hop', window => 'hopping 4 seconds every 2 seconds', keys => ['k'],
	  aggs => ['count(*) AS n', 'max(v) AS hi'] },
	{ name => 'cum', window => 'cumulate 4 seconds every 1 second', lateness => '1 second',
	  keys => ['k'], aggs => ['count(*) AS n'] },
	{ name => 'sess', window => 'session 1 second', keys => ['k'],
	  aggs => ['count(*) AS n', 'min(ts) AS first', 'max(ts) AS last'] },
);
for my $spec (@views)
{
	create_window_view($node, 'postgres', $spec) or BAIL_OUT("view $spec->{name}");
	create_final_subscription($node, $spec->{name});
}
wait_checkpointed($node);
# rounds of closing, not checkpoints, close the windows here
$node->safe_psql('postgres', q{ALTER SYSTEM SET streamext.checkpoint_interval = '1h'; SELECT pg_reload_conf()});
my $t0 = $node->safe_psql('postgres', 'SELECT t0 FROM gen');

# one transaction: 100 keys in every second of $seconds seconds from
# $from, and one event far after them that makes them all due (every
# tumbling window holds 100 groups, every session one)
sub load
{
	my ($from, $seconds) = @_;
	$node->safe_psql('postgres', qq{
BEGIN;
INSERT INTO ev (g, k, v, ts)
  SELECT i % 7, i % 100 + 1000 * (i / 100 % 2), i % 37, '$t0'::timestamptz + interval '$from seconds' + (i / 100) * interval '1 second'
    FROM generate_series(0, 100 * $seconds - 1) i;
INSERT INTO ev (g, k, v, ts) VALUES (1, 1, 1, '$t0'::timestamptz + interval '@{[$from + $seconds + 20]} seconds');
COMMIT;});
}

sub closed_rel
{
	my ($name) = @_;
	return $node->safe_psql('postgres', "SELECT closed_relid FROM streamext.view_def WHERE name = '$name'");
}

# check_all compares each view with plain SQL, and each subscription with
# the view's closed windows: every one queued once, with its final values
sub check_all
{
	my ($label) = @_;
	wait_caught_up($node);
	ok($node->poll_query_until('postgres', q{
SELECT bool_and(p.closed_upto >= (SELECT max(ts) FROM ev) - interval '20 seconds')
  FROM streamext.view_progress p JOIN streamext.view_def d ON d.id = p.view_id
 WHERE d.name IN ('tumb', 'hop', 'cum', 'sess')}), "$label: every view closed its due windows");
	for my $spec (@views)
	{
		check_view($node, 'postgres', $spec->{name}, window_oracle($spec), "$label, $spec->{window}");
		check_final_subscription($node, $spec->{name}, $label);
	}
}

# 1. 12,000 groups of each view due at once: closed in rounds, oldest first
load(0, 120);
check_all('one transaction making 120 seconds due');
for my $spec (@views)
{
	# each round is a transaction of its own
	my ($rounds, $in_order) = split /\|/, $node->safe_psql('postgres', qq{
WITH r AS (
  SELECT q.xmin::text::bigint AS t, min((q.event->>'window_end')::timestamptz) AS lo,
         max((q.event->>'window_end')::timestamptz) AS hi
    FROM streamext.subscription_queue q JOIN streamext.subscription_def s ON s.id = q.subscription_id
   WHERE s.name = '$spec->{name}_final' AND q.kind = 'window' GROUP BY 1)
SELECT count(*), coalesce(bool_and(ok), true)
  FROM (SELECT lo >= lag(hi) OVER (ORDER BY t) IS NOT FALSE AS ok FROM r) o});
	cmp_ok($rounds, '>=', 3, "$spec->{window}: closed in $rounds transactions, not one");
	is($in_order, 't', "$spec->{window}: each round closed windows ending after the last round's");
}
is($node->safe_psql('postgres', 'SELECT sum(late_events) FROM streamext.views'),
	'0', 'no event was late: the closed horizon moved only as far as each round closed');

# 2. killed between rounds: decoding again from the old checkpoint closes
# the windows of the rounds done silently, the others as before
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM ' . closed_rel('sess'));
my $pid = worker_pid($node);
load(300, 120);
$node->poll_query_until('postgres', 'SELECT count(*) > ' . $before . ' FROM ' . closed_rel('sess'));
kill 'KILL', $pid;
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
  or die 'worker did not come back';
check_all('after kill -9 between rounds');

# 3. an immediate stop while rounds go on
$before = $node->safe_psql('postgres', 'SELECT count(*) FROM ' . closed_rel('tumb'));
load(600, 120);
$node->poll_query_until('postgres', 'SELECT count(*) > ' . $before . ' FROM ' . closed_rel('tumb'));
$node->stop('immediate');
$node->start;
check_all('after an immediate stop');

# 4. a catalog change (a new view) decoded while rounds go on: the new
# view's history closes whole, the backlog goes on in rounds
my $from = $node->safe_psql('postgres', q{
SELECT max(q.position) FROM streamext.subscription_queue q
  JOIN streamext.subscription_def s ON s.id = q.subscription_id WHERE s.name = 'tumb_final'});
load(900, 120);
create_window_view($node, 'postgres',
	{ name => 'newer', window => 'tumbling 10 seconds', keys => ['g'], aggs => ['count(*) AS n'] });
check_all('a view created during the rounds');
cmp_ok($node->safe_psql('postgres', qq{
SELECT count(DISTINCT q.xmin::text) FROM streamext.subscription_queue q
  JOIN streamext.subscription_def s ON s.id = q.subscription_id
 WHERE s.name = 'tumb_final' AND q.kind = 'window' AND q.position > $from}),
	'>=', 3, 'tumbling 1 second: still closed in rounds after the catalog change');

done_testing();
