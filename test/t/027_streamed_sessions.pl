# Session views take streamed transactions too: each transaction's events
# are folded into runs per group while it is written and join the view's
# open sessions at its commit.  Runs that merge inside the transaction and
# bridge sessions of earlier ones, savepoints rolled back between runs,
# events without a time (their commit's), a transaction older than the
# watermark (decoded again without streaming), immediate stops during and
# after a streamed transaction and a killed worker: the session view and a
# tumbling view beside it equal plain SQL, and the streaming path was taken
# without falling back wherever it can be.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('streamed_sessions',
	"logical_decoding_work_mem = '64kB'\ntrack_commit_timestamp = on\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (id bigserial PRIMARY KEY, k int NOT NULL, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
-- a stream without a time column: its events have their commit's time
CREATE TABLE ev2 (k int NOT NULL, v int);
SELECT streamext.create_stream('ev2', idle_timeout => NULL);
SELECT streamext.create_view('sess',
  $$ SELECT k, count(*) AS n, sum(v) AS s, min(ts) AS first, max(ts) AS last FROM ev GROUP BY k $$,
  "window" => 'session 10 seconds', lateness => '5 minutes');
SELECT streamext.create_view('tumb',
  $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$,
  "window" => 'tumbling 1 minute', lateness => '5 minutes');
SELECT streamext.create_view('sess2',
  $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev2 GROUP BY k $$, "window" => 'session 10 seconds');
-- the oracle's events, with their times
CREATE VIEW evt AS SELECT k, v, ts, ts AS t FROM ev;
CREATE VIEW evt2 AS SELECT k, v, pg_xact_commit_timestamp(xmin) AS t FROM ev2;
});
wait_caught_up($node);

# event times are seconds after t0, two days ago
my $t0 = $node->safe_psql('postgres',
	q{SELECT date_bin('1 hour', now() - interval '2 days', '2000-01-01 00:00+00')});
my $at = sub { return "'$t0'::timestamptz + ($_[0]) * interval '1 second'" };

# rows: events i = from..to of group k, value v and time (seconds after t0)
sub rows
{
	my ($from, $to, $k, $secs) = @_;
	return "INSERT INTO ev (k, v, ts) SELECT $k, i % 101, " . $at->($secs)
	  . " FROM generate_series($from, $to) i;\n";
}

# a gap of 10 s or more starts a session (window_oracle's, over evt)
my $g = q{interval '10 seconds'};
my $sessions = qq{
  (SELECT s.*, min(t) OVER (PARTITION BY k, sid) AS ws, max(t) OVER (PARTITION BY k, sid) + $g AS we
     FROM (SELECT f.*, sum(new) OVER (PARTITION BY k ORDER BY t) AS sid
             FROM (SELECT e.*, CASE WHEN t - lag(t) OVER (PARTITION BY k ORDER BY t) < $g
                                    THEN 0 ELSE 1 END AS new
                     FROM EVENTS e) f) s) x
  GROUP BY ws, we, k};
my %oracle = (
	sess => 'SELECT ws, we, k, count(*), sum(v), min(ts), max(ts) FROM' . ($sessions =~ s/EVENTS/evt/r),
	sess2 => 'SELECT ws, we, k, count(*), sum(v) FROM' . ($sessions =~ s/EVENTS/evt2/r),
	tumb => q{SELECT date_bin('1 minute', t, '2000-01-01 00:00+00'),
                 date_bin('1 minute', t, '2000-01-01 00:00+00') + interval '1 minute',
                 k, count(*), sum(v) FROM evt GROUP BY 1, 2, 3},
);

sub check_all
{
	my ($label) = @_;
	wait_caught_up($node);
	check_view($node, 'postgres', $_, $oracle{$_}, $label) for sort keys %oracle;
}

# streamed runs a transaction that must be streamed and folded, not
# decoded again without streaming
sub streamed
{
	my ($label, $sql) = @_;
	my $before = streamed_txns($node);
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', $sql);
	wait_caught_up($node);
	ok(streamed_since($node, $before), "$label: streamed");
	ok(!$node->log_contains(qr/again without streaming/, $offset), "$label: not decoded again")
	  or diag(PostgreSQL::Test::Utils::slurp_file($node->logfile, $offset) =~ /(.*again without streaming.*)/);
}

# the sessions of a group range whose window_start and window_end are
sub sessions_at
{
	my ($where, $start, $end) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM sess WHERE $where AND window_start = " . $at->($start)
		  . ' AND window_end = ' . $at->($end));
}

# 0. small transactions open two sessions in groups 0-9, one in 10-19
$node->safe_psql('postgres', rows(0, 19, 'i', 100));
$node->safe_psql('postgres', rows(0, 9, 'i', 130));
check_all('small transactions');
is(sessions_at('k < 10', 100, 110) . '|' . sessions_at('k < 10', 130, 140), '10|10',
	'groups 0-9 have two sessions');

# 1. one streamed transaction, 50 groups: times 95..134 in an order that
# makes runs apart first and bridges them later, bridging the two open
# sessions of groups 0-9; one event in 7 makes a run of its own at 200
streamed('bridging runs', "BEGIN;\n"
	  . rows(1, 60000, 'i % 50', 'CASE WHEN i % 7 = 0 THEN 200 + i % 3 ELSE 95 + ((i / 50) * 13) % 40 END')
	  . "COMMIT;");
check_all('a streamed transaction bridging sessions');
is(sessions_at('k < 50', 95, 144), '50', 'one session of 95..134 per group, the earlier ones in it');
is(sessions_at('k < 50', 200, 212), '50', 'one session of 200..202 per group');

# 2. savepoints: runs 300..320 and 321..340 in the top transaction and a
# released one, 341..410 (which would bridge to 410..420) rolled back
streamed('savepoints', "BEGIN;\n"
	  . rows(1, 30000, 'i % 30', '300 + (i / 30) % 21')
	  . "SAVEPOINT a;\n" . rows(30001, 60000, 'i % 30', '321 + (i / 30) % 20') . "RELEASE a;\n"
	  . "SAVEPOINT b;\n" . rows(60001, 100000, 'i % 30', '341 + (i / 30) % 70') . "ROLLBACK TO b;\n"
	  . "SAVEPOINT c;\n" . rows(100001, 130000, 'i % 30', '410 + (i / 30) % 11')
	  . "SAVEPOINT d;\n" . rows(130001, 140000, 'i % 30', '335') . "RELEASE d;\n"
	  . "RELEASE c;\nCOMMIT;");
check_all('a streamed transaction with savepoints rolled back');
is(sessions_at('k < 30', 300, 350) . '|' . sessions_at('k < 30', 410, 430), '30|30',
	'the rolled-back part bridges nothing');

# 3. events older than the watermark (420 - 5 minutes): decoded again
# without streaming, where they join the sessions they are late for
{
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "BEGIN;\n" . rows(1, 40000, 'i % 50', 'i % 91') . "COMMIT;");
	ok($node->wait_for_log(qr/again without streaming: an event of session view "sess" is older than its watermark/, $offset),
		'late events: decoded again without streaming');
	wait_checkpointed($node);
	check_all('a streamed transaction of late events');
}

# 4. an immediate stop while a streamed transaction is written; then one
# right after a streamed commit (bridging to the sessions of 410..420);
# then the worker killed right after another
{
	my $before = $node->safe_psql('postgres',
		q{SELECT coalesce(sum(stream_count), 0) FROM pg_stat_replication_slots WHERE slot_name LIKE 'streamext_%'});
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
			"BEGIN;\n" . rows(1, 100000, 'i % 40', '425 + (i / 40) % 136') . "SELECT pg_sleep(60);\nCOMMIT;"],
		'<', \undef, '>', \$out, '2>', \$err);
	$node->poll_query_until('postgres',
		qq{SELECT coalesce(sum(stream_count), 0) > $before + 1 FROM pg_stat_replication_slots WHERE slot_name LIKE 'streamext_%'})
	  or die 'the transaction was never streamed';
	$node->stop('immediate');
	$h->kill_kill;
	$node->start;
}
check_all('immediate stop during a streamed transaction');
$node->safe_psql('postgres', "BEGIN;\n" . rows(1, 90000, 'i % 40', '425 + (i / 40) % 136') . "COMMIT;");
$node->stop('immediate');
$node->start;
check_all('immediate stop after a streamed commit');
is(sessions_at('k < 30', 410, 570), '30', 'the sessions of 410..420 joined 425..560');
{
	$node->safe_psql('postgres', "BEGIN;\n" . rows(1, 60000, 'i % 40', '600 + (i / 40) % 51') . "COMMIT;");
	my $pid = worker_pid($node);
	kill 'KILL', $pid if $pid;
	$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
}
check_all('worker killed after a streamed commit');

# 5. events of a stream without a time column take their commit's,
# unknown while the transaction is streamed: they join the sessions a
# small transaction just opened (in groups 0-19 of 30)
$node->safe_psql('postgres', 'INSERT INTO ev2 SELECT i, 1 FROM generate_series(0, 19) i');
streamed('commit times', "BEGIN;\n"
	  . "INSERT INTO ev2 SELECT i % 30, i % 101 FROM generate_series(1, 60000) i;\n"
	  . rows(1, 20000, 'i % 40', '700 + (i / 40) % 20') . "COMMIT;");
check_all('a streamed transaction with events at its commit time');
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT k), sum(n) FROM sess2'), '30|30|60020',
	'one session per group, the small transaction\'s in it');
wait_checkpointed($node);
$node->stop('immediate');
$node->start;
check_all('after a last immediate stop');

ok(!$node->log_contains('terminated by signal [^9]'), 'no process crashed');
done_testing();
