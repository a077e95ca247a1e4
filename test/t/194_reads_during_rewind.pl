# An event that fails after it began to change a view's states makes the
# worker decode again from its checkpoint without it.  Meanwhile readers
# keep what the worker had published: no view of the database goes back
# to its checkpoint while the worker decodes again, whatever its window,
# nor does streamext.streams' count of events, and wait_caught_up() does
# not return before the worker is back where it was.  A worker killed in the middle leaves nothing behind: the next one
# starts afresh and every view is exact.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

# checkpoints far apart: decoding again goes back far
my $node = streamext_node('reads_rewind', "streamext.checkpoint_interval = '60s'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
CREATE FUNCTION picky(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 13 THEN RAISE EXCEPTION ''no thirteens''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE picky_sum(int) (sfunc = picky, stype = int8, combinefunc = int8pl, initcond = '0');
-- count(*) counts the event before picky_sum fails: the view is half changed
SELECT streamext.create_view('poisoned', $$ SELECT count(*) AS n, picky_sum(v) AS s FROM ev $$);
SELECT streamext.create_view('tumb', $$ SELECT k, count(*) AS n FROM ev GROUP BY k $$, 'tumbling 1 hour');
SELECT streamext.create_view('slide', $$ SELECT count(*) AS n FROM ev $$, 'sliding 1 hour step 1 minute');
SELECT streamext.create_view('sess', $$ SELECT k, count(*) AS n FROM ev GROUP BY k $$, 'session 1 hour');
-- reads each view every few ms for secs seconds: the fewest events seen
CREATE FUNCTION watch(secs float8) RETURNS TABLE (view text, fewest bigint, reads int)
LANGUAGE plpgsql AS $$
DECLARE
  stop timestamptz := clock_timestamp() + secs * interval '1 second';
  p bigint; t bigint; sl bigint; se bigint; ev bigint;
  mp bigint; mt bigint; msl bigint; mse bigint; mev bigint;
  r int := 0;
BEGIN
  WHILE clock_timestamp() < stop LOOP
    SELECT n INTO p FROM poisoned;
    SELECT sum(n) INTO t FROM tumb;
    SELECT sum(n) INTO sl FROM slide;
    SELECT sum(n) INTO se FROM sess;
    SELECT events INTO ev FROM streamext.streams WHERE stream = 'ev'::regclass;
    mp := least(coalesce(mp, p), p); mt := least(coalesce(mt, t), t);
    msl := least(coalesce(msl, sl), sl); mse := least(coalesce(mse, se), se);
    mev := least(coalesce(mev, ev), ev);
    r := r + 1;
    PERFORM pg_sleep(0.002);
  END LOOP;
  RETURN QUERY VALUES ('poisoned', mp, r), ('tumb', mt, r), ('slide', msl, r), ('sess', mse, r),
    ('streamext.streams.events', mev, r);
END $$;
});
my $rows = sub {
	my ($from, $to) = @_;
	return "INSERT INTO ev SELECT i % 100, i, '2026-01-01 00:00:00+00'::timestamptz + (i % 3000) * interval '1 second'"
	  . " FROM generate_series($from, $to) i WHERE i <> 13";
};
$node->safe_psql('postgres', $rows->(1, 50000));
wait_caught_up($node);

my %oracle = (
	poisoned => 'SELECT count(*), sum(v) FROM ev WHERE v <> 13',
	tumb => q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00'), date_bin('1 hour', ts, '2000-01-01 00:00+00') + interval '1 hour',
	                 k, count(*) FROM ev GROUP BY 1, 2, 3},
);

# events the last checkpoint does not cover, published, then one that
# fails half-way; a reader reads every view all along
$node->safe_psql('postgres', $rows->(100000, 250000));
wait_caught_up($node);
my %before;
@before{qw(poisoned tumb slide sess streamext.streams.events)} = split /\|/, $node->safe_psql('postgres',
	q{SELECT (SELECT n FROM poisoned), (SELECT sum(n) FROM tumb), (SELECT sum(n) FROM slide), (SELECT sum(n) FROM sess),
	         (SELECT events FROM streamext.streams WHERE stream = 'ev'::regclass)});
my $offset = -s $node->logfile;
my ($out, $err) = ('', '');
my $h = IPC::Run::start(['psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c', 'SELECT * FROM watch(4)'],
	'<', \undef, '>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%watch(4)%' AND pid <> pg_backend_pid()})
  or die 'the watch never started';
$node->safe_psql('postgres', "INSERT INTO ev VALUES (1, 13, '2026-01-01 00:30:00+00')");
ok($node->wait_for_log(qr/sets aside event 1 of the transaction .* no thirteens/, $offset),
	'the event fails half-way and the worker decodes again');
$h->finish;
is($err, '', 'the watch read every view without an error');
for my $line (split /\n/, $out)
{
	my ($view, $fewest, $reads) = split /\|/, $line;
	cmp_ok($fewest, '>=', $before{$view},
		"$view never showed fewer events than before the failing one ($reads reads)");
}
wait_caught_up($node);
check_after('after decoding again', 1);

# once more, the worker killed while it decodes again: the next one starts
# afresh, with every view exact
$node->safe_psql('postgres', $rows->(300000, 450000));
wait_caught_up($node);
$offset = -s $node->logfile;
$node->safe_psql('postgres', "INSERT INTO ev VALUES (2, 13, '2026-01-01 00:40:00+00')");
ok($node->wait_for_log(qr/sets aside event 1 of the transaction .* no thirteens/, $offset),
	'a second event fails half-way');
my $pid = worker_pid($node);
kill 'KILL', $pid if $pid;
$node->poll_query_until('postgres', 'SELECT count(*) = 2 FROM streamext.dead_letters')
  or diag('the second failing event was not set aside');
wait_caught_up($node);
check_after('worker killed while it decoded again', 2);

# check_after: the views equal plain SQL, the failing events set aside once
sub check_after
{
	my ($label, $letters) = @_;
	check_views($node, 'postgres', $label, map { [ $_, $oracle{$_} ] } sort keys %oracle);
	is($node->safe_psql('postgres', 'SELECT (SELECT sum(n) FROM sess) = count(*) AND (SELECT n FROM slide) = count(*) FROM ev'),
		't', "$label: sess and slide count every event");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.dead_letters'), $letters,
		"$label: the failing events are dead letters, each once");
}

ok(!$node->log_contains('terminated by signal [^9]'), 'no process crashed');
done_testing();
