# Windows close apart from the checkpoint: with checkpoints an hour apart,
# windows of every kind still close as the watermark passes them, and
# their final rows reach subscribers, in transactions of their own.  The
# worker is then killed (and the server stopped at once) between those
# closings and any checkpoint: decoding again from the old checkpoint, it
# must close the same windows silently, so that every view still equals
# plain SQL and every closed window reaches its subscription exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('closing_apart');
create_event_stream($node);
# quiet for a second, the stream's windows close by the clock: the last
# sessions of a load close without a later event
$node->safe_psql('postgres', q{SELECT streamext.set_stream_idle_timeout('ev', '1 second')});

my @views = (
	{ name => 'tumb', window => 'tumbling 1 second', lateness => '2 seconds', keys => ['g'],
	  aggs => ['count(*) AS n', 'sum(coalesce(v, 0)) AS s'] },
	{ name => 'hop', window => 'hopping 3 seconds every 1 second', lateness => '2 seconds',
	  keys => ['g'], aggs => ['count(*) AS n', 'max(v) AS hi'] },
	{ name => 'cum', window => 'cumulate 4 seconds every 1 second', lateness => '2 seconds',
	  keys => ['g'], aggs => ['count(*) AS n'] },
	{ name => 'sess', window => 'session 1 second', lateness => '2 seconds', keys => ['k % 50'],
	  aggs => ['count(*) AS n', 'min(ts) AS first', 'max(ts) AS last'] },
);
for my $spec (@views)
{
	create_window_view($node, 'postgres', $spec) or BAIL_OUT("view $spec->{name}");
	create_final_subscription($node, $spec->{name});
}
wait_checkpointed($node);
$node->safe_psql('postgres', q{ALTER SYSTEM SET streamext.checkpoint_interval = '1h'; SELECT pg_reload_conf()});

# events in commit order (event time: the clock when inserted), from two clients
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/now.sql",
	"INSERT INTO ev (g, k, v, ts) SELECT gen_g(), gen_k(), gen_v(), clock_timestamp() FROM generate_series(1, 2);\n");

sub produce
{
	my ($seconds) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(['pgbench', '-n', '-c', 2, '-j', 2, '-T', $seconds, '-R', 100, '-f', "$dir/now.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'], '>', \$out, '2>', \$err)
	  or diag("pgbench: $err");
}

sub entries
{
	my ($view, $kind) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM streamext.subscription_queue q JOIN streamext.subscription_def d
    ON d.id = q.subscription_id
 WHERE d.name = '${view}_final' AND q.kind = '$kind'});
}

# 1. windows close with no checkpoint
my $checkpoint = $node->safe_psql('postgres', 'SELECT checkpoint_lsn FROM streamext.worker_status()');
produce(4);
wait_caught_up($node);
for my $spec (@views)
{
	ok($node->poll_query_until('postgres', "SELECT (" . q{
SELECT count(*) FROM streamext.subscription_queue q JOIN streamext.subscription_def d
    ON d.id = q.subscription_id} . " WHERE d.name = '$spec->{name}_final') > 0"),
		"$spec->{window}: final rows queued");
}
is($node->safe_psql('postgres', 'SELECT checkpoint_lsn FROM streamext.worker_status()'),
	$checkpoint, 'no checkpoint since: they were closed apart from it');
is($node->safe_psql('postgres', 'SELECT sum(late_events) FROM streamext.views'),
	'0', 'no late event (which would make the worker checkpoint)');

# check_all compares each view with plain SQL, and each subscription with
# the view's closed windows: every one queued once, with its final values
sub check_all
{
	my ($label) = @_;
	wait_caught_up($node);
	for my $spec (@views)
	{
		check_view($node, 'postgres', $spec->{name}, window_oracle($spec), "$label, $spec->{window}");
		check_final_subscription($node, $spec->{name}, $label);
	}
}
check_all('closed apart from checkpoints');

# 2. SIGKILL of the worker: the server restarts every process, the worker
# decodes again from the checkpoint before the closings
my $pid = worker_pid($node);
kill 'KILL', $pid;
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
  or die 'worker did not come back';
produce(3);
check_all('after kill -9 of the worker');
is($node->safe_psql('postgres', 'SELECT sum(late_events) FROM streamext.views'),
	'0', 'decoded again, no event is late');

# 3. the same with an immediate stop, while events come
my $h = IPC::Run::start(['pgbench', '-n', '-c', 2, '-j', 2, '-T', 4, '-R', 100, '-f', "$dir/now.sql",
	'-h', $node->host, '-p', $node->port, 'postgres'], '>', \my $out, '2>', \my $err);
sleep 2;
$node->stop('immediate');
$h->finish;
$node->start;
produce(3);
check_all('after an immediate stop');

done_testing();
