# 160_time.pl: windows close when their time has come, without a later
# event: by the clock for a stream whose event time is the commit time, and
# for a stream with a time column once it has been quiet for its
# idle_timeout; final rows reach a subscriber soon after; backfilled history
# closes at once; events far in the future are counted; lag reads 0 once
# the worker has caught up; the README's quick start prints its rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use StreamextTest;

# the periodic checkpoint is far away: closing must not wait for it
my $node = streamext_node('time', "streamext.checkpoint_interval = '30s'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION streamext');

# wait_for_entry polls a subscription until it has an entry of kind whose
# window ends at $end, and returns when that was first seen (epoch seconds)
sub wait_for_entry
{
	my ($sub, $kind, $where, $timeout) = @_;
	my $deadline = time() + $timeout;
	while (time() < $deadline)
	{
		my $n = $node->safe_psql('postgres', qq{
SELECT count(*) FROM streamext.poll('$sub', 1000) WHERE kind = '$kind' AND $where});
		return time() if $n > 0;
		usleep(20_000);
	}
	return undef;
}

# the end of the current 2-second window, as epoch seconds, and a moment
# to insert that leaves at least a second before it
sub next_window_end
{
	my $now = time();
	my $end = (int($now / 2) + 1) * 2;
	if ($end - $now < 1.0)
	{
		usleep(int(($end - $now) * 1_000_000) + 10_000);
		$end += 2;
	}
	return $end;
}

# 1. commit time: the last window of a stream that goes quiet
$node->safe_psql('postgres', q{
CREATE TABLE taps (k text NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('taps');
SELECT streamext.create_view('taps_2s', $$ SELECT k, count(*) AS n, sum(v) AS s FROM taps GROUP BY k $$,
                             "window" => 'tumbling 2 seconds');
SELECT streamext.create_subscription('taps_final', 'taps_2s', notify => 'none');
});
my $end = next_window_end();
$node->safe_psql('postgres', "INSERT INTO taps VALUES ('a', 1), ('a', 2), ('b', 5)");
my $seen = wait_for_entry('taps_final', 'window',
	"(event->>'window_end')::timestamptz = to_timestamp($end)", 30);
ok(defined $seen, 'commit time: the quiet stream\'s last window reached the subscriber');
diag(sprintf('commit time: seen %.0f ms after the window end', (($seen // 0) - $end) * 1000));
cmp_ok(($seen // 1e12) - $end, '<', 1.0,
	'commit time: within its end + lateness + 1 s, with no later event');
is($node->safe_psql('postgres', q{SELECT open_windows FROM streamext.views WHERE name = 'taps_2s'}),
	'0', 'commit time: the view shows it closed');
is($node->safe_psql('postgres', q{SELECT string_agg(k || n || ':' || s, ',' ORDER BY k) FROM taps_2s}),
	'a2:3,b1:5', 'commit time: its closed rows');

# 2. event time, idle_timeout: the last window closes once the stream is quiet
$node->safe_psql('postgres', q{
CREATE TABLE readings (device text NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('readings', 'ts', idle_timeout => '1 second');
SELECT streamext.create_view('readings_2s', $$ SELECT device, count(*) AS n FROM readings GROUP BY device $$,
                             "window" => 'tumbling 2 seconds');
SELECT streamext.create_subscription('readings_final', 'readings_2s', notify => 'none');
-- a lateness longer than the idle_timeout: quiet that long, the stream
-- waits no longer for late events
SELECT streamext.create_view('readings_late', $$ SELECT device, count(*) AS n FROM readings GROUP BY device $$,
                             "window" => 'hopping 2 seconds every 1 second', lateness => '5 seconds');
SELECT streamext.create_subscription('readings_late_final', 'readings_late', notify => 'none');
});
$end = next_window_end();
$node->safe_psql('postgres', "INSERT INTO readings VALUES ('d1', 1, clock_timestamp()), ('d2', 1, clock_timestamp())");
$seen = wait_for_entry('readings_final', 'window',
	"(event->>'window_end')::timestamptz = to_timestamp($end)", 30);
ok(defined $seen, 'idle_timeout: the quiet stream\'s last window reached the subscriber');
diag(sprintf('idle_timeout: seen %.0f ms after the window end', (($seen // 0) - $end) * 1000));
cmp_ok(($seen // 1e12) - $end, '<', 1.0 + 1.0, 'idle_timeout: within its end + idle_timeout + 1 s');
$seen = wait_for_entry('readings_late_final', 'window',
	"(event->>'window_end')::timestamptz = to_timestamp($end)", 30);
cmp_ok(($seen // 1e12) - $end, '<', 1.0 + 1.0,
	'idle_timeout: within its end + idle_timeout + 1 s with a longer lateness');
is($node->safe_psql('postgres', q{SELECT open_windows FROM streamext.views WHERE name = 'readings_2s'}),
	'0', 'idle_timeout: the view shows it closed');

# a late event after that still corrects the closed window
$node->safe_psql('postgres',
	"INSERT INTO readings VALUES ('d1', 1, to_timestamp($end) - interval '1 second')");
ok(defined wait_for_entry('readings_final', 'correction',
		"(event->>'window_end')::timestamptz = to_timestamp($end) AND event->>'device' = 'd1'", 30),
	'idle_timeout: a late event corrects the closed window');
is($node->safe_psql('postgres', "SELECT n FROM readings_2s WHERE device = 'd1' AND window_end = to_timestamp($end)"),
	'2', 'idle_timeout: the view counts the late event in its window');

# pure event time (NULL): the window stays open without a later event
$node->safe_psql('postgres', q{
CREATE TABLE ticks (v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ticks', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('ticks_1s', $$ SELECT count(*) AS n FROM ticks $$, "window" => 'tumbling 1 second');
INSERT INTO ticks VALUES (1, clock_timestamp());
});
sleep(3);
is($node->safe_psql('postgres', q{SELECT open_windows FROM streamext.views WHERE name = 'ticks_1s'}),
	'1', 'idle_timeout NULL: pure event time, the window stays open');
$node->safe_psql('postgres', q{SELECT streamext.set_stream_idle_timeout('ticks', '500 ms')});
ok($node->poll_query_until('postgres',
		q{SELECT open_windows = 0 FROM streamext.views WHERE name = 'ticks_1s'}),
	'set_stream_idle_timeout: the clock closes it once set');

# 3. history loaded before create_view closes its windows at once
$node->safe_psql('postgres', q{
CREATE TABLE history (v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('history', 'ts', retention => NULL);
INSERT INTO history SELECT i, timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 5000) i;
SELECT streamext.create_view('history_hourly', $$ SELECT count(*) AS n, sum(v) AS s FROM history $$,
                             "window" => 'tumbling 1 hour');
});
ok($node->poll_query_until('postgres',
		q{SELECT open_windows = 0 FROM streamext.views WHERE name = 'history_hourly'}),
	'backfilled history: every past window closed with no later event');
check_view($node, 'postgres', 'history_hourly',
	q{SELECT date_trunc('hour', ts), date_trunc('hour', ts) + interval '1 hour', count(*), sum(v)
        FROM history GROUP BY 1}, 'backfilled history');

# 4. an event far ahead of its commit is counted and warned about
$node->safe_psql('postgres', "INSERT INTO readings VALUES ('d9', 1, '2030-01-01')");
ok($node->poll_query_until('postgres',
		q{SELECT future_events = 1 FROM streamext.views WHERE name = 'readings_2s'}),
	'an event beyond max_future is counted in future_events');
ok($node->log_contains('continuous view "readings_2s" got an event further ahead of its commit'),
	'and warned about');
# one loaded before its view: counted by the backfill, and kept, like the
# warning, across a restart of the worker
$node->safe_psql('postgres', q{
CREATE TABLE hist (k text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('hist', time_column => 'ts');
INSERT INTO hist VALUES ('far', now() + interval '3 hours'), ('now', now());
SELECT streamext.create_view('hist_10s', $$ SELECT k, count(*) AS n FROM hist GROUP BY k $$,
                             "window" => 'tumbling 10 seconds');});
wait_caught_up($node);
my $old_worker = worker_pid($node);
kill 'TERM', $old_worker;
$node->poll_query_until('postgres', qq{SELECT coalesce((SELECT pid FROM pg_stat_activity
  WHERE backend_type = 'streamext worker' AND datname = 'postgres'), $old_worker) <> $old_worker});
$node->safe_psql('postgres', "INSERT INTO hist VALUES ('far', now() + interval '4 hours')");
wait_caught_up($node);
is($node->safe_psql('postgres', q{SELECT future_events FROM streamext.views WHERE name = 'hist_10s'}),
	'2', 'future events of a backfill are counted, and kept across a restart');
my @warnings = slurp_file($node->logfile) =~ /continuous view "hist_10s" got an event further ahead/g;
is(scalar(@warnings), 1, 'and the view is warned about once');

# 5. lag: an idle database beside a busy one reads (near) 0 once caught up
$node->safe_psql('postgres', 'CREATE DATABASE idle');
$node->safe_psql('idle', q{
CREATE EXTENSION streamext;
CREATE TABLE quiet (v int NOT NULL);
SELECT streamext.create_stream('quiet');
INSERT INTO quiet VALUES (1);
});
$node->safe_psql('idle', q{SELECT streamext.wait_caught_up()});
$node->safe_psql('postgres', q{CREATE TABLE filler (x text)});
my $max_lag_time = 0;
my $max_lag_bytes = 0;
for my $i (1 .. 8)
{
	$node->safe_psql('postgres',
		q{INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 20000)});
	$node->safe_psql('idle', q{SELECT streamext.wait_caught_up()});
	my ($lag_time, $lag_bytes) = split /\|/, $node->safe_psql('idle',
		q{SELECT extract(epoch FROM lag_time), lag_bytes FROM streamext.streams});
	$max_lag_time = $lag_time if $lag_time > $max_lag_time;
	$max_lag_bytes = $lag_bytes if $lag_bytes > $max_lag_bytes;
}
cmp_ok($max_lag_time, '<', 1.0, "an idle database beside a busy one: lag_time near 0 ($max_lag_time s)");
cmp_ok($max_lag_bytes, '<', 8 * 1024 * 1024,
	"right after wait_caught_up: lag_bytes small ($max_lag_bytes bytes)");
# and while the busy one writes, read as a monitor would, every 100 ms
my $busy = $node->background_psql('postgres');
$busy->query_until(qr/^/, q{DO $$ BEGIN FOR i IN 1..40 LOOP
  INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 5000); COMMIT;
  PERFORM pg_sleep(0.05); END LOOP; END $$;
});
my @lags;
for (1 .. 30)
{
	push @lags, $node->safe_psql('idle', q{SELECT extract(epoch FROM lag_time) FROM streamext.streams});
	Time::HiRes::usleep(100_000);
}
$busy->quit;
my $max_sampled = (sort { $b <=> $a } @lags)[0];
cmp_ok($max_sampled, '<', 0.5,
	"an idle database beside a busy one, sampled during the load: lag_time at most $max_sampled s");
my $settled = $node->poll_query_until('idle',
	q{SELECT lag_bytes = 0 AND lag_time = interval '0' FROM streamext.streams});
ok($settled, 'once the busy database stops: lag reads 0');

# 6. the README's quick start, pasted as is, prints its two rows
my $readme = slurp_file("$ENV{TESTDIR}/README.md");
my ($quick) = $readme =~ /## Quick start.*?```sql\n(.*?)```/s;
ok(defined $quick, 'the README has a quick start');
$node->safe_psql('postgres', 'CREATE DATABASE quick');
my ($rc, $out, $err) = $node->psql('quick', $quick);
is($rc, 0, 'the quick start runs') or diag($err);
like($out, qr{\|/cart\|1\|40\.0+\|40\n.*\|/home\|2\|21\.0+\|30}s, 'the quick start prints its two rows');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();
