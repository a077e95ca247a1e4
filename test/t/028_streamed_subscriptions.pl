# A stream with event subscriptions is streamed too: the events of a large
# transaction wait for its commit in temporary files, not in the worker's
# memory, and then reach each subscription exactly once, in the
# transaction's order, after the commits before it and before those after
# it, with gap-free positions; rolled-back subtransactions and transactions
# never; a subscription created after the commit does not get it; immediate
# stops in the middle and right after the commit change nothing.  A filter
# failing on some events makes the transaction be decoded again without
# streaming, and those events become dead letters, as without streaming.
# Oracle: plain SQL over the stream, whose column b numbers the
# transactions in the order they commit.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('streamed_subs', "logical_decoding_work_mem = '64kB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE public.ev (b int NOT NULL, id bigint NOT NULL, k int NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('public.ev');
SELECT streamext.create_view('v_sum', $$ SELECT k, count(*) AS n, sum(v) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_subscription('all_ev', 'public.ev', notify => 'none');
SELECT streamext.create_subscription('odd_ev', 'public.ev', filter => 'v % 2 = 1', notify => 'batch');
});
wait_caught_up($node);

# subscriptions checked: name => [filter as SQL over ev, first transaction]
my %subs = (all_ev => ['true', 0], odd_ev => ['v % 2 = 1', 0]);

# rows inserts the events $from..$to of transaction $b
sub rows
{
	my ($b, $from, $to) = @_;
	return "INSERT INTO ev SELECT $b, i, i % 7, i % 97 FROM generate_series($from, $to) i;\n";
}

# check_all: the view equals plain SQL; each subscription's queue holds
# exactly its events, in commit order then insert order, at gap-free
# positions, the entries of one transaction with one commit time
sub check_all
{
	my ($label) = @_;
	wait_caught_up($node);
	check_view($node, 'postgres', 'v_sum', 'SELECT k, count(*), sum(v) FROM ev GROUP BY k', $label);
	for my $sub (sort keys %subs)
	{
		my ($filter, $first) = @{ $subs{$sub} };
		my $r = $node->safe_psql('postgres', qq{
WITH q AS (SELECT position, (event->>'b')::int AS b, (event->>'id')::bigint AS id, committed_at
             FROM streamext.subscription_queue
            WHERE subscription_id = (SELECT id FROM streamext.subscription_def WHERE name = '$sub')),
     a AS (SELECT row_number() OVER (ORDER BY position) AS rn, * FROM q),
     e AS (SELECT row_number() OVER (ORDER BY b, id) AS rn, b, id FROM ev WHERE ($filter) AND b >= $first)
SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM e),
       (SELECT count(*) FROM a FULL JOIN e USING (rn) WHERE a.b IS DISTINCT FROM e.b OR a.id IS DISTINCT FROM e.id),
       (SELECT count(*) FROM a WHERE position <> rn),
       (SELECT count(*) FROM (SELECT b FROM q GROUP BY b HAVING count(DISTINCT committed_at) > 1) t)});
		my ($got, $want, $wrong, $gaps, $times) = split /\|/, $r;
		is("$got|$wrong|$gaps|$times", "$want|0|0|0",
			"$label: $sub has its $want events once, in commit order, at positions 1..$want");
	}
}

# streamed_without_fallback runs $sql and checks that it was streamed and
# not decoded again without streaming
sub streamed_without_fallback
{
	my ($label, $sql) = @_;
	my $before = streamed_txns($node);
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', $sql);
	wait_caught_up($node);
	ok(streamed_since($node, $before), "$label: streamed");
	ok(!$node->log_contains(qr/again without streaming/, $offset), "$label: no fallback");
}

# 1. one large transaction
my $temp_before = $node->safe_psql('postgres',
	'SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()');
streamed_without_fallback('large transaction', "BEGIN;\n" . rows(1, 1, 50000) . "COMMIT;");
check_all('a large streamed transaction');
ok($node->poll_query_until('postgres',
		"SELECT temp_bytes > $temp_before + 1000000 FROM pg_stat_database WHERE datname = current_database()"),
	'its entries waited in temporary files');

# 2. savepoints rolled back and released, nested
streamed_without_fallback('savepoints',
	"BEGIN;\n" . rows(2, 200001, 207500)
	  . "SAVEPOINT a;\n" . rows(2, 230001, 237500) . "ROLLBACK TO a;\n"
	  . "SAVEPOINT b;\n" . rows(2, 260001, 265000) . "SAVEPOINT c;\n" . rows(2, 280001, 282500)
	  . "RELEASE c;\nRELEASE b;\n"
	  . "SAVEPOINT d;\n" . rows(2, 290001, 292500) . "SAVEPOINT e;\n" . rows(2, 300001, 302500)
	  . "RELEASE e;\nROLLBACK TO d;\n"
	  . "SAVEPOINT f;\n" . rows(2, 310001, 311000) . "ROLLBACK TO f;\n"
	  . rows(2, 311001, 318250) . "COMMIT;");
check_all('savepoints in a streamed transaction');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ev WHERE b = 2'), '22250',
	'the rolled-back subtransactions left nothing');

# 3. a streamed transaction rolled back, then a small one
streamed_without_fallback('rolled back', "BEGIN;\n" . rows(3, 340001, 360000) . "ROLLBACK;");
$node->safe_psql('postgres', rows(3, 420001, 420010));
check_all('a streamed transaction rolled back');

# 4. small transactions committed while a large one is streamed, before
# its commit, and after it
{
	my $before = streamed_txns($node);
	my $offset = -s $node->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c',
			"BEGIN;\n" . rows(6, 500001, 515000) . "SELECT pg_sleep(4);\n" . rows(6, 560001, 570000) . "COMMIT;"],
		'<', \undef, '>', \$out, '2>', \$err);
	ok(streamed_since($node, $before), 'the large transaction is streamed before the small ones');
	$node->safe_psql('postgres', rows(4, 450001, 450100));
	$node->safe_psql('postgres', "BEGIN;\n" . rows(5, 450101, 450200) . "SAVEPOINT s;\n"
		  . rows(5, 450201, 450300) . "COMMIT;");
	$h->finish;
	is($err, '', 'the large transaction committed');
	$node->safe_psql('postgres', rows(7, 450301, 450400));
	wait_caught_up($node);
	ok(!$node->log_contains(qr/again without streaming/, $offset), 'interleaved: no fallback');
}
check_all('small transactions around a large one');

# a subscription created while a large transaction is streamed waits for
# it (create_subscription locks the stream) and does not get it
{
	my $before = streamed_txns($node);
	my ($out, $err, $out2, $err2) = ('', '', '', '');
	my $h = IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c',
			"BEGIN;\n" . rows(8, 600001, 610000) . "SELECT pg_sleep(4);\nCOMMIT;"],
		'<', \undef, '>', \$out, '2>', \$err);
	ok(streamed_since($node, $before), 'streamed before the subscription is created');
	my $h2 = IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c',
			"SELECT streamext.create_subscription('late_ev', 'public.ev', notify => 'event')"],
		'<', \undef, '>', \$out2, '2>', \$err2);
	$h->finish;
	$h2->finish;
	is("$err$err2", '', 'the transaction and create_subscription ended');
	$subs{late_ev} = ['true', 9];
	streamed_without_fallback('after a new subscription', "BEGIN;\n" . rows(9, 640001, 655000) . "COMMIT;");
}
check_all('a subscription created during a streamed transaction');

# 5. an immediate stop while a streamed transaction is written, then right
# after one commits
{
	my $before = streamed_txns($node);
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
			"BEGIN;\n" . rows(10, 700001, 725000) . "SELECT pg_sleep(60);\nCOMMIT;"],
		'<', \undef, '>', \$out, '2>', \$err);
	ok(streamed_since($node, $before), 'streamed before the immediate stop');
	$node->stop('immediate');
	$h->kill_kill;
	$node->start;
}
check_all('immediate stop during a streamed transaction');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ev WHERE b = 10'), '0', 'the cut transaction left nothing');
# no file of it stays once a RUNNING_XACTS record (which CHECKPOINT
# writes) shows it cut by the crash
$node->safe_psql('postgres', 'CHECKPOINT');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_ls_tmpdir()'),
	'no temporary file of the cut transaction stays');
$node->safe_psql('postgres', "BEGIN;\n" . rows(11, 800001, 825000) . "COMMIT;");
$node->stop('immediate');
$node->start;
check_all('immediate stop right after a streamed commit');
$node->safe_psql('postgres', "BEGIN;\n" . rows(12, 900001, 912500) . "SELECT pg_sleep(0.5);\n"
	  . rows(12, 950001, 962500) . "COMMIT;");
wait_caught_up($node);
$node->stop('immediate');
$node->start;
check_all('immediate stop after checkpoints of a streamed transaction');

# 6. a filter failing on some events (v = 23): the transaction is decoded
# again without streaming, and those events are the subscription's dead
# letters, each once; the other subscriptions are as before
$node->safe_psql('postgres',
	q{SELECT streamext.create_subscription('picky_ev', 'public.ev', filter => '100 / (v - 23) > 0', notify => 'none')});
$subs{picky_ev} = ['v > 23', 13];
{
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "BEGIN;\n" . rows(13, 1000001, 1015000) . "SAVEPOINT a;\n"
		  . rows(13, 1060001, 1062500) . "ROLLBACK TO a;\n" . rows(13, 1070001, 1072500) . "COMMIT;");
	ok($node->wait_for_log(qr/again without streaming/, $offset), 'a failing filter: decoded again without streaming');
}
$node->safe_psql('postgres', rows(14, 1080001, 1080100));
check_all('a filter failing in a streamed transaction');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ((SELECT id FROM ev WHERE v = 23 AND b >= 13)
                              EXCEPT ALL (SELECT (event->>'id')::bigint FROM streamext.dead_letters)) m),
       (SELECT count(*) FROM ((SELECT (event->>'id')::bigint FROM streamext.dead_letters)
                              EXCEPT ALL (SELECT id FROM ev WHERE v = 23 AND b >= 13)) x),
       (SELECT count(*) FROM streamext.dead_letters
         WHERE subscription_id IS DISTINCT FROM (SELECT id FROM streamext.subscription_def WHERE name = 'picky_ev'))}),
	'0|0|0', 'the failing events are the dead letters of that subscription, each once');

ok(!$node->log_contains('terminated by signal [^9]'), 'no process crashed');
done_testing();
