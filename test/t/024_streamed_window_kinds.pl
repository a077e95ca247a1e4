# Large transactions streamed to the worker, for every window kind: at the
# commit a pane whose window the view does not have becomes the view's
# window as it is (view_partial.c), one whose window exists is combined
# into it, a late one corrects closed windows.  Each transaction here has
# all three, in two subtransactions (one rolled back to a savepoint), and
# each view must equal plain SQL over the stream after it, and after an
# immediate stop and restart.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('streamed_kinds', "streamext.stream_work_mem = '64kB'\n");
create_event_stream($node);
my @views = every_window_kind();
create_window_view($node, 'postgres', $_) for @views;
wait_caught_up($node);
my $t0 = $node->safe_psql('postgres', 'SELECT t0 FROM gen');

# windows the view has before: events from t0 + 60 s to t0 + 120 s
$node->safe_psql('postgres', qq{
INSERT INTO ev (g, k, v, ts)
  SELECT i % 7, i % 150, i % 101 - 50, '$t0'::timestamptz + interval '60 seconds' + i * interval '60 ms'
    FROM generate_series(0, 999) i});
wait_checkpointed($node);

# one transaction: panes whose windows exist (60-120 s), new ones after
# (120-300 s), late ones before (0-60 s, late for the windows that closed
# up to the watermark), and a subtransaction rolled back in the middle,
# with $ddl and more events after it when given: PostgreSQL then finds the
# subtransaction rolled back as it streams its changes (their relation is
# looked up again), and stops the stream outside any transaction, on a
# batch of its events not folded yet (the worker crashed there)
sub large_transaction
{
	my ($from, $ddl) = @_;
	my $after_ddl = !$ddl ? '' : qq{$ddl
INSERT INTO ev (g, k, v, ts)
  SELECT i % 7, i % 150, 1000, '$t0'::timestamptz + interval '$from seconds' + (i % 4000) * interval '45 ms'
    FROM generate_series(1, 5000) i;};
	my $before = streamed_txns($node);
	$node->safe_psql('postgres', qq{
BEGIN;
INSERT INTO ev (g, k, v, ts)
  SELECT CASE WHEN i % 29 = 0 THEN NULL ELSE i % 7 END, i % 150, i % 101 - 50,
         '$t0'::timestamptz + interval '$from seconds' + (i % 4000) * interval '45 ms'
    FROM generate_series(1, 20000) i;
SAVEPOINT s;
INSERT INTO ev (g, k, v, ts)
  SELECT i % 7, i % 150, 1000, '$t0'::timestamptz + interval '$from seconds' + (i % 4000) * interval '45 ms'
    FROM generate_series(1, 20000) i;
$after_ddl
ROLLBACK TO SAVEPOINT s;
INSERT INTO ev (g, k, v, ts)
  SELECT i % 5, i % 150, i % 13, '$t0'::timestamptz + (i % 300) * interval '1 second'
    FROM generate_series(1, 20000) i;
COMMIT;});
	ok(streamed_since($node, $before), "the transaction from $from s was streamed");
}

sub check_all
{
	my ($label) = @_;
	my $lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
	wait_caught_up($node);
	wait_checkpointed($node, 'postgres', $lsn);
	check_view($node, 'postgres', $_->{name}, window_oracle($_), "$label, $_->{name}") for @views;
}

large_transaction(60);
check_all('after a streamed transaction');
large_transaction(150);
check_all('after a second one, into windows the first made');
large_transaction(240, 'ALTER TABLE ev ADD COLUMN extra int;');
check_all('after one whose rolled back subtransaction altered the stream');
$node->stop('immediate');
$node->start;
check_all('after an immediate stop');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
