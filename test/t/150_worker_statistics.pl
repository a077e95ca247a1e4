# The worker's writes reach PostgreSQL's statistics, and through them
# autovacuum: a background worker's row counts are flushed only when it
# calls pgstat_report_stat(), and without them autovacuum never sees the
# tables the worker rewrites every checkpoint (open_state) or fills
# (closed tables, subscription_queue).  And pg_stat_activity says what the
# worker does.  Every row count checked here is written by the worker alone
# (the consumer's ack deletes from subscription_queue, so only its inserts
# count).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

# autovacuum wakes every second and vacuums a table after a few dead rows
my $node = streamext_node('worker_statistics', q{
autovacuum_naptime = 1
autovacuum_vacuum_threshold = 10
autovacuum_vacuum_scale_factor = 0
autovacuum_vacuum_insert_threshold = 10
autovacuum_vacuum_insert_scale_factor = 0
autovacuum_analyze_threshold = 10
autovacuum_analyze_scale_factor = 0
});
# stats appear within seconds; do not wait minutes to fail
local $PostgreSQL::Test::Utils::timeout_default = 30;

$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('ev', time_column => 'ts');
SELECT streamext.create_view('per_second', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$,
                             "window" => 'tumbling 1 second');
SELECT streamext.create_subscription('all_ev', source => 'ev', notify => 'none');
CREATE PROCEDURE produce(secs float8) LANGUAGE plpgsql AS $$
DECLARE
  t_end timestamptz := clock_timestamp() + make_interval(secs => secs);
BEGIN
  WHILE clock_timestamp() < t_end LOOP
    INSERT INTO ev (k, v) SELECT k, k FROM generate_series(1, 20) k;
    COMMIT;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
});
wait_caught_up($node);
my $closed = $node->safe_psql('postgres',
	q{SELECT 'streamext.closed_' || id FROM streamext.view_def WHERE name = 'per_second'});

# four seconds of events: windows open and close, groups are upserted at
# every checkpoint (200 ms), the subscription queues every event
$node->safe_psql('postgres', 'CALL produce(4)');
wait_caught_up($node);
my $queued = $node->safe_psql('postgres', q{
WITH p AS (SELECT max(position) AS last, count(*) AS n FROM streamext.poll('all_ev', 100000))
SELECT streamext.ack('all_ev', last) > 0, n FROM p});
like($queued, qr/^t\|[1-9]\d*$/, "the consumer polled and acknowledged ($queued)");

# the rows the worker wrote, as pg_stat_all_tables counts them
my %expect = (
	'streamext.open_state' => 'n_tup_ins > 0 AND n_tup_upd > 0 AND n_tup_del > 0',
	$closed => 'n_tup_ins > 0',
	'streamext.subscription_queue' => 'n_tup_ins > 0',
	'streamext.view_progress' => 'n_tup_upd > 0',
	'streamext.subscription_progress' => 'n_tup_upd > 0',
);
foreach my $table (sort keys %expect)
{
	my $ok = $node->poll_query_until('postgres', qq{
SELECT $expect{$table} FROM pg_stat_all_tables WHERE relid = '$table'::regclass});
	ok($ok, "pg_stat_all_tables counts the worker's writes to $table ($expect{$table})")
	  or diag($node->safe_psql('postgres', qq{
SELECT n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup FROM pg_stat_all_tables WHERE relid = '$table'::regclass}));
}

# autovacuum sees them: open_state has dead rows from the worker only
my $ok = $node->poll_query_until('postgres', q{
SELECT autovacuum_count > 0 FROM pg_stat_all_tables WHERE relid = 'streamext.open_state'::regclass});
ok($ok, 'autovacuum vacuumed streamext.open_state');
$ok = $node->poll_query_until('postgres', qq{
SELECT autovacuum_count > 0 AND autoanalyze_count > 0 FROM pg_stat_all_tables WHERE relid = '$closed'::regclass});
ok($ok, "autovacuum vacuumed and analysed $closed");

# pg_stat_activity: idle between steps, with the last step as its query
my $worker = q{FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND datname = 'postgres'};
$ok = $node->poll_query_until('postgres', qq{
SELECT state = 'idle' AND wait_event = 'Extension' AND query_start IS NOT NULL
       AND query IN ('decoding WAL and applying events', 'checkpoint of views and subscriptions',
                     'retention: dropping expired partitions, creating new ones') $worker});
ok($ok, 'pg_stat_activity shows the worker idle after its last step')
  or diag($node->safe_psql('postgres', "SELECT state, wait_event, query $worker"));

# and active in the step that runs: a view's function sleeping in the worker
$node->safe_psql('postgres', q{
CREATE FUNCTION nap(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
  AS 'BEGIN IF $1 = 999 THEN PERFORM pg_sleep(3); END IF; RETURN $1; END';
CREATE TABLE sleepy (v int NOT NULL);
SELECT streamext.create_stream('sleepy');
SELECT streamext.create_view('sleepy_count', 'SELECT count(*) AS n FROM sleepy WHERE nap(v) >= 0');
INSERT INTO sleepy VALUES (999);
});
$ok = $node->poll_query_until('postgres', qq{
SELECT state = 'active' AND query = 'decoding WAL and applying events'
       AND wait_event = 'PgSleep' $worker});
ok($ok, 'pg_stat_activity shows the worker active while it applies events');
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT n FROM sleepy_count'), '1', 'the sleeping event counted');

$node->stop;
done_testing();
