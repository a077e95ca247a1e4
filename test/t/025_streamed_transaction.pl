# Transactions larger than the worker's logical_decoding_work_mem are
# streamed to it before they commit and aggregated while they are written:
# subtransactions rolled back inside them count nothing, an aborted one
# counts nothing, a crash in the middle or right after the commit counts
# each event once, and the streaming path was taken (the slot's stats).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('streamed', "logical_decoding_work_mem = '64kB'\n");
create_click_schema($node);

my $slot_stats = q{SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots
                    WHERE slot_name = 'streamext_' || (SELECT oid FROM pg_database WHERE datname = current_database())};
my $rows = sub {
	my ($from, $to) = @_;
	return qq{INSERT INTO clicks (url, user_id, ms, ts)
SELECT '/p' || (i % 97), i % 5000, i % 700, '2026-01-01 00:00:00+00'::timestamptz + (i % 3600) * interval '1 second'
  FROM generate_series($from, $to) i;};
};

# 1. subtransactions, one rolled back, inside a streamed transaction
$node->safe_psql('postgres', "BEGIN;\n" . $rows->(1, 15000)
	  . "SAVEPOINT a;\n" . $rows->(15001, 22500) . "ROLLBACK TO a;\n"
	  . "SAVEPOINT b;\n" . $rows->(22501, 30000) . "SAVEPOINT c;\n" . $rows->(30001, 32500)
	  . "RELEASE c;\nRELEASE b;\n"
	  . "SAVEPOINT d;\n" . $rows->(32501, 35000) . "SAVEPOINT e;\n" . $rows->(35001, 37500)
	  . "RELEASE e;\nROLLBACK TO d;\n"
	  . $rows->(37501, 42500) . "COMMIT;");
check_click_views($node, 'streamed transaction with subtransactions rolled back');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '30000', 'total counts the committed parts only');
cmp_ok($node->safe_psql('postgres', $slot_stats), '>=', 1, 'the transaction was streamed to the worker');

# 2. a streamed transaction rolled back counts nothing
$node->safe_psql('postgres', "BEGIN;\n" . $rows->(1, 20000) . "ROLLBACK;");
$node->safe_psql('postgres', $rows->(1, 10));
check_click_views($node, 'streamed transaction rolled back');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '30010', 'the rolled-back one counts nothing');

# 3. an immediate stop while a streamed transaction is being written
my $before = $node->safe_psql('postgres',
	q{SELECT coalesce(sum(stream_count), 0) FROM pg_stat_replication_slots WHERE slot_name LIKE 'streamext_%'});
my ($out, $err) = ('', '');
my $h = IPC::Run::start(['psql', '-X', '-d', $node->connstr('postgres'), '-c',
		"BEGIN;\n" . $rows->(1, 25000) . "SELECT pg_sleep(60);\nCOMMIT;"], '<', \undef, '>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	qq{SELECT coalesce(sum(stream_count), 0) > $before + 1 FROM pg_stat_replication_slots WHERE slot_name LIKE 'streamext_%'})
  or die 'the transaction was never streamed';
$node->stop('immediate');
$h->kill_kill;
$node->start;
check_click_views($node, 'immediate stop during a streamed transaction');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '30010', 'the transaction cut by the crash counts nothing');

# 4. an immediate stop right after a streamed transaction commits
$node->safe_psql('postgres', "BEGIN;\n" . $rows->(1, 22500) . "COMMIT;");
$node->stop('immediate');
$node->start;
check_click_views($node, 'immediate stop after a streamed commit');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '52510', 'the committed one counts once');

# 5. once more, with the worker's checkpoints likely between its blocks
$node->safe_psql('postgres', "BEGIN;\n" . $rows->(1, 12500) . "SELECT pg_sleep(0.5);\n"
	  . $rows->(12501, 25000) . "COMMIT;");
wait_caught_up($node);
$node->stop('immediate');
$node->start;
check_click_views($node, 'immediate stop after checkpoints of a streamed transaction');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '77510', 'counted once across checkpoints and a crash');

# 6. a view calling a function that reads a table (labelled IMMUTABLE, which
# it is not): PostgreSQL refuses to read a user table while a transaction
# still in progress is streamed (CheckXidAlive), so the transaction is
# decoded again without streaming and the view is still exact.  (One
# committed by the time it is decoded reads the table as the unstreamed
# path does.)  The transaction step 3's stop cut off is forgotten by now
# (the worker logs the running transactions when it starts): the view's
# creation makes no transaction fall back, and streaming stays on.
my $created_at = -s $node->logfile;
$node->safe_psql('postgres', q{
CREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO regions VALUES (0, 'north'), (1, 'south'), (2, 'east');
CREATE FUNCTION region_of(int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN RETURN (SELECT name FROM public.regions WHERE id = $1); END';
SELECT streamext.create_view('by_region',
  $$ SELECT public.region_of((user_id % 3)::int) AS region, count(*) AS n FROM clicks GROUP BY 1 $$);
});
# loaded before the transaction streams: a reload during it falls back too
wait_caught_up($node);
ok(!$node->log_contains(qr/the views were reloaded while it was streamed/, $created_at),
	'no transaction cut by a crash falls back when views are reloaded');
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "BEGIN;\n" . $rows->(1, 10000) . "SELECT pg_sleep(3);\n"
	  . $rows->(10001, 12500) . "COMMIT;");
wait_caught_up($node);
ok($node->log_contains(qr/again without streaming: unexpected .* call during logical decoding/, $offset),
	'a function reading a table makes the streamed transaction be decoded again without streaming');
# what the function returns for those events is the decoder's business (a
# table read with the decoder's catalog snapshot: wrong rows, as without
# streaming); every event is counted once
is($node->safe_psql('postgres', 'SELECT sum(n) FROM by_region'),
	$node->safe_psql('postgres', 'SELECT count(*) FROM clicks'),
	'the view reading a table counts every event once');
check_click_views($node, 'after a transaction decoded again');

done_testing();
