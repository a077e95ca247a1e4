# Windows closed apart from the checkpoint, at two edges of decoding again
# from the checkpoint:
#
# 1. a catalog updated from 0.1 has view_progress rows without
#    states_closed_upto: a window closed after the update and before any
#    checkpoint must still be closed again silently after kill -9, not have
#    the events after the checkpoint counted a second time as late ones;
# 2. a view dropped or rebuilt while the worker decodes again towards the
#    position it closed windows at must not hold decoding there: every
#    other view goes on (here: the worker rewinds for a poison event, and
#    the view is dropped or rebuilt after it loaded the view again).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('closing_apart_edges');

# 1. 0.1 -> 0.2 with windows open
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{
CREATE EXTENSION streamext VERSION '0.1';
CREATE TABLE ev (id bigserial PRIMARY KEY, g int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts');
SELECT streamext.create_view('tumb', $$ SELECT g, count(*) AS n, sum(v) AS s FROM ev GROUP BY g $$,
                             'tumbling 1 second');
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:00.2+00');
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:01.2+00');
});
wait_caught_up($node, 'old');
# at 0.1 the window [0, 1) closed in a checkpoint, whose open states hold [1, 2)
ok($node->poll_query_until('old',
	q{SELECT count(*) = 1 FROM streamext.open_state WHERE window_start = '2024-01-01 00:00:01+00'}),
	'the checkpoint at 0.1 holds the open window');
$node->safe_psql('old', q{ALTER SYSTEM SET streamext.checkpoint_interval = '1h'; SELECT pg_reload_conf()});
$node->safe_psql('old', "ALTER EXTENSION streamext UPDATE TO '0.2'");
$node->safe_psql('old', q{
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:01.7+00');
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:02.5+00');
});
wait_caught_up($node, 'old');
ok($node->poll_query_until('old', q{
SELECT p.closed_lsn > w.checkpoint_lsn FROM streamext.view_progress p, streamext.worker_status() w}),
	'[1, 2) closed apart from the checkpoint');
my $tumb_sql = q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'),
                        date_bin('1 second', ts, '2000-01-01 00:00+00') + interval '1 second',
                        g, count(*), sum(v) FROM ev GROUP BY 1, 2, 3};
check_view($node, 'old', 'tumb', $tumb_sql, 'updated from 0.1, before the crash');

my $pid = worker_pid($node, 'old');
kill 'KILL', $pid;
$node->poll_query_until('old',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND datname = 'old' AND pid <> $pid")
  or die 'worker did not come back';
wait_caught_up($node, 'old');
check_view($node, 'old', 'tumb', $tumb_sql, 'updated from 0.1, after kill -9');
is($node->safe_psql('old', 'SELECT late_events FROM streamext.views'), '0',
	'decoded again, no event is late');

# 2. dropped or rebuilt while decoding again
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (id bigserial PRIMARY KEY, g int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('tumb', $$ SELECT g, count(*) AS n, sum(v) AS s FROM ev GROUP BY g $$,
                             'tumbling 1 second');
CREATE TABLE p (x int NOT NULL);
SELECT streamext.create_stream('p');
-- a transition function that fails after count(*) counted: the worker rewinds
CREATE FUNCTION p_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 0 THEN RAISE EXCEPTION ''zero''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE p_sum(int) (sfunc = p_trans, stype = int8, combinefunc = int8pl, initcond = '0');
SELECT streamext.create_view('pv', $$ SELECT count(*) AS n, p_sum(x) AS s FROM p $$);
INSERT INTO p VALUES (1);
});
wait_caught_up($node);
$node->safe_psql('postgres', q{ALTER SYSTEM RESET streamext.checkpoint_interval; SELECT pg_reload_conf()});
wait_checkpointed($node);
$node->safe_psql('postgres', q{ALTER SYSTEM SET streamext.checkpoint_interval = '1h'; SELECT pg_reload_conf()});

my $second = 0;
for my $what ('rebuild_view', 'drop_view')
{
	$node->safe_psql('postgres', qq{
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:0$second.2+00');
INSERT INTO ev (g, v, ts) VALUES (1, 10, '2024-01-01 00:00:0@{[$second + 1]}.5+00');
});
	$second += 2;
	wait_caught_up($node);
	ok($node->poll_query_until('postgres', q{
SELECT p.closed_lsn > w.checkpoint_lsn
  FROM streamext.view_progress p JOIN streamext.view_def d ON d.id = p.view_id,
       streamext.worker_status() w WHERE d.name = 'tumb'}),
		"$what: a window of tumb closed apart from the checkpoint");

	# the worker rewinds for the poison event and loads the views again,
	# held while it reads their open states; tumb changes meanwhile
	my $bg = $node->background_psql('postgres');
	$bg->query_safe('BEGIN');
	$bg->query_safe('LOCK TABLE streamext.open_state IN ACCESS EXCLUSIVE MODE');
	$node->safe_psql('postgres', 'INSERT INTO p VALUES (0)');
	ok($node->poll_query_until('postgres', q{
SELECT wait_event_type = 'Lock' FROM pg_stat_activity
 WHERE backend_type = 'streamext worker' AND datname = current_database()}),
		"$what: the worker rewinds and waits to load the views");
	$bg->query_safe("SELECT streamext.$what('tumb')");
	$bg->query_safe('COMMIT');
	$bg->quit;

	$node->safe_psql('postgres', 'INSERT INTO p VALUES (5)');
	is($node->safe_psql('postgres', "SELECT streamext.wait_caught_up('30s')"), 't',
		"$what: the worker decodes on past where tumb closed windows");
	check_view($node, 'postgres', 'pv', 'SELECT count(*), sum(x) FROM p WHERE x <> 0',
		"$what: the other view goes on");
	if ($what eq 'rebuild_view')
	{
		check_view($node, 'postgres', 'tumb', $tumb_sql, 'rebuilt while decoding again');
		is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters WHERE view_id =
                                          (SELECT id FROM streamext.view_def WHERE name = 'tumb')}),
			'0', 'rebuilt: no dead letter');
	}
}

done_testing();
