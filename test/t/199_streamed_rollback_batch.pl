# A large transaction whose subtransaction, rolled back, begins with a
# change of a table decoding has not seen.  Decoding it after the rollback
# (the worker lags behind the events before), PostgreSQL finds the
# subtransaction rolled back as it looks that table up, and stops the
# stream without a historic snapshot while the worker holds a batch of the
# transaction's own events, not folded yet.  The worker crashed the server
# there; dropping the batch lost its events (292 of 40,100 here).  The
# transaction is decoded again without streaming, and the views equal
# plain SQL.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('streamed_rollback_batch',
	"logical_decoding_work_mem = '64kB'\nstreamext.stream_work_mem = '64kB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('ev', time_column => 'ts');
SELECT streamext.create_view('per_key', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$);
SELECT streamext.create_view('per_minute', $$ SELECT k, count(*) AS n FROM ev GROUP BY k $$,
                             "window" => 'tumbling 1 minute');
});
wait_caught_up($node);

my $offset = -s $node->logfile;
for my $round (1 .. 2)
{
	$node->safe_psql('postgres', qq{
BEGIN;
INSERT INTO ev (k, v) SELECT i % 50, i FROM generate_series(1, 30000) i;
INSERT INTO ev (k, v) SELECT i % 50, i FROM generate_series(1, 100) i;
SAVEPOINT a;
CREATE TABLE side_$round (x int);
INSERT INTO side_$round VALUES (1);
INSERT INTO ev (k, v) SELECT i % 50, i FROM generate_series(1, 20000) i;
ROLLBACK TO a;
INSERT INTO ev (k, v) SELECT i % 50, i FROM generate_series(1, 10000) i;
COMMIT;});
	wait_caught_up($node);
	check_view($node, 'postgres', 'per_key', 'SELECT k, count(*), sum(v) FROM ev GROUP BY k',
		"round $round");
	is($node->safe_psql('postgres', 'SELECT sum(n) = (SELECT count(*) FROM ev) FROM per_minute'),
		't', "round $round: per_minute counts every event");
}
# whether decoding met the rollback there depends on its lag: said, not
# required
diag('decoded again after a rollback met while streaming: '
	  . ($node->log_contains('a part of it was rolled back', $offset) ? 'yes' : 'no'));
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
