# Closing in rounds meets late events, calendar windows and views on views:
# a day view in Europe/Paris across a DST change, 1-second tumbling
# windows, sessions and a view reading the tumbling view, each with a
# 'final' subscription.  One transaction makes 12,000 groups of each due;
# late events come while the rounds close them (for windows closed by an
# early round and for windows due but not closed yet), and the worker is
# killed between rounds.  Every view equals plain SQL, no closed window is
# written twice, and each window's last queued entry is its closed row.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes;
use StreamextTest;

my $node = streamext_node('rounds_late_cal');
create_event_stream($node);
my $o = q{'2000-01-01 00:00+00'};

my @views = (
	{ name => 'day', window => 'tumbling 1 day', time_zone => 'Europe/Paris', keys => ['k'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'tumb', window => 'tumbling 1 second', keys => ['k'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'sess', window => 'session 1 second', keys => ['k'],
	  aggs => ['count(*) AS n', 'min(ts) AS first', 'max(ts) AS last'] },
);
for my $spec (@views)
{
	create_window_view($node, 'postgres', $spec) or BAIL_OUT("view $spec->{name}");
}
$node->safe_psql('postgres', q{SELECT streamext.create_view('up',
  $q$ SELECT k1 % 10 AS m, sum(n)::bigint AS n FROM tumb GROUP BY 1 $q$, "window" => 'tumbling 10 seconds')});
for my $name ('day', 'tumb', 'sess', 'up')
{
	create_final_subscription($node, $name);
}
wait_checkpointed($node);
$node->safe_psql('postgres', q{ALTER SYSTEM SET streamext.checkpoint_interval = '1h'; SELECT pg_reload_conf()});

my %oracle = (
	day => q{SELECT ws, we, k AS k1, count(*) AS n, sum(coalesce(v, 0)) AS s FROM
  (SELECT ev.*, date_trunc('day', ts, 'Europe/Paris') AS ws,
          ((date_trunc('day', ts, 'Europe/Paris') AT TIME ZONE 'Europe/Paris') + interval '1 day') AT TIME ZONE 'Europe/Paris' AS we
     FROM ev) e GROUP BY 1, 2, 3},
	tumb => window_oracle($views[1]),
	sess => window_oracle($views[2]),
	up => qq{SELECT date_bin('10 seconds', ts, $o) AS ws, date_bin('10 seconds', ts, $o) + interval '10 seconds' AS we,
  k % 10 AS m, count(*) AS n FROM ev
  WHERE ts < (SELECT closed_upto FROM streamext.view_progress p JOIN streamext.view_def d ON d.id = p.view_id WHERE d.name = 'tumb')
  GROUP BY 1, 2, 3},
);

sub closed_rel
{
	my ($name) = @_;
	return $node->safe_psql('postgres', "SELECT closed_relid::regclass FROM streamext.view_def WHERE name = '$name'");
}

# every closed window of a view has exactly one 'window' entry, and its
# last entry (window or correction) is the closed row
sub check_sub
{
	my ($view, $label) = @_;
	my $r = $node->safe_psql('postgres', qq{
CREATE TEMP TABLE q AS
  SELECT q.position, q.kind, q.event::jsonb AS row, q.event::jsonb ->> 'window_start' AS ws,
         coalesce(q.event::jsonb ->> 'k1', q.event::jsonb ->> 'm') AS key
    FROM streamext.subscription_queue q JOIN streamext.subscription_def s ON s.id = q.subscription_id
   WHERE s.name = '${view}_final';
CREATE TEMP TABLE closed AS
  SELECT to_jsonb(v) AS row FROM $view v, streamext.view_progress p, streamext.view_def d
   WHERE d.name = '$view' AND p.view_id = d.id AND v.window_end <= p.closed_upto;
CREATE TEMP TABLE lasts AS SELECT DISTINCT ON (ws, key) row FROM q ORDER BY ws, key, position DESC;
SELECT (SELECT count(*) FROM closed), (SELECT count(*) FROM q),
       (SELECT count(*) FROM (SELECT 1 FROM q WHERE kind = 'window' GROUP BY ws, key HAVING count(*) > 1) t),
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT row FROM lasts) m),
       (SELECT count(*) FROM (SELECT row FROM lasts EXCEPT SELECT row FROM closed) x)});
	my ($closed, $queued, $twice, $missing, $extra) = split /\|/, $r;
	$extra = 0 if $view eq 'sess';		# merged sessions leave without an entry
	is("$twice $missing $extra", '0 0 0', "$label, $view: closed $closed, queued $queued: no window queued twice as 'window', last entry = closed row")
	  or diag($node->safe_psql('postgres', qq{
CREATE TEMP TABLE q AS
  SELECT q.position, q.kind, q.event::jsonb AS row, q.event::jsonb ->> 'window_start' AS ws,
         coalesce(q.event::jsonb ->> 'k1', q.event::jsonb ->> 'm') AS key
    FROM streamext.subscription_queue q JOIN streamext.subscription_def s ON s.id = q.subscription_id
   WHERE s.name = '${view}_final';
SELECT q.* FROM q JOIN (SELECT ws, key FROM q WHERE kind = 'window' GROUP BY ws, key HAVING count(*) > 1 LIMIT 5) t USING (ws, key) ORDER BY position}));
	is($node->safe_psql('postgres', qq{SELECT count(*) FROM streamext.dead_letters l JOIN streamext.view_def d ON d.id = l.view_id WHERE d.name = '$view'}),
		'0', "$label, $view: no dead letter");
	my $dup = $node->safe_psql('postgres', "SELECT count(*) FROM (SELECT 1 FROM " . closed_rel($view) . " GROUP BY window_start, window_end, _group HAVING count(*) > 1) d");
	is($dup, '0', "$label, $view: no duplicate in the closed table");
}

sub check_all
{
	my ($label) = @_;
	wait_caught_up($node);
	$node->poll_query_until('postgres', q{
SELECT bool_and(p.closed_upto >= (SELECT max(ts) FROM ev) - interval '1 day')
  FROM streamext.view_progress p JOIN streamext.view_def d ON d.id = p.view_id
 WHERE d.name IN ('day', 'tumb', 'sess')});
	wait_caught_up($node);
	for my $name ('day', 'tumb', 'sess', 'up')
	{
		check_view($node, 'postgres', $name, $oracle{$name}, "$label, $name");
		check_sub($name, $label);
	}
}

# one transaction: 200 keys on each of 60 days from $from (a date), then one
# event at $trigger that makes them all due
sub load
{
	my ($from, $trigger) = @_;
	$node->safe_psql('postgres', qq{
INSERT INTO ev (g, k, v, ts)
  SELECT d % 7, k, (d * k) % 37, timestamptz '$from 00:00 Europe/Paris' + d * interval '1 day' + k * interval '7 minutes' + d * interval '1 second'
    FROM generate_series(0, 59) d, generate_series(1, 200) k;
INSERT INTO ev (g, k, v, ts) VALUES (1, 1, 1, '$trigger');});
}

# late events while the backlog closes: one for the oldest window (closed by
# then, or soon), one for the newest (due, not closed yet)
sub late_burst
{
	my ($from, $n) = @_;
	for my $i (1 .. $n)
	{
		$node->safe_psql('postgres', qq{
INSERT INTO ev (g, k, v, ts) VALUES
  (2, 3, $i, timestamptz '$from 00:00 Europe/Paris' + interval '10 minutes' + $i * interval '1 millisecond'),
  (2, 1, $i, timestamptz '$from 00:00 Europe/Paris' + interval '7 minutes' + interval '200 milliseconds'),
  (2, 4, $i, timestamptz '$from 00:00 Europe/Paris' + 58 * interval '1 day' + interval '3 hours' + $i * interval '1 millisecond'),
  (2, 200, $i, timestamptz '$from 00:00 Europe/Paris' + 59 * interval '1 day' + 200 * interval '7 minutes' + interval '59 seconds' + interval '500 milliseconds')});
		Time::HiRes::usleep(15_000);
	}
}

# 1. a backlog with late events sent while it closes
load('2026-02-01', '2026-04-15 00:00+00');
late_burst('2026-02-01', 12);
check_all('late events during the backlog');

# 2. kill -9 between rounds, with late events before it
for my $cycle ([ '2026-07-20', '2026-09-25 00:00+00' ])
{
	my ($from, $trigger) = @$cycle;
	my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM ' . closed_rel('tumb'));
	my $pid = worker_pid($node);
	load($from, $trigger);
	$node->poll_query_until('postgres', 'SELECT count(*) > ' . $before . ' FROM ' . closed_rel('tumb'));
	late_burst($from, 3);
	kill 'KILL', $pid;
	$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
	  or die 'worker did not come back';
	late_burst($from, 3);
	check_all("kill -9 between rounds from $from");
}

done_testing();
