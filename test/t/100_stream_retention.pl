# Stream retention: events go to time partitions the worker creates ahead;
# partitions older than the retention are dropped whole, and no view or
# subscription changes, also across a worker restart.  An event in the
# default partition moves into its partition once that exists, without
# being counted again.  A partition dropped before its inserts were
# checkpointed is decoded from the WAL by the next worker all the same.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('retention', qq{
streamext.maintenance_interval = '200ms'
});
# retention 8 s: partitions of 2 s, from now() - 8 s to now() + 60 s;
# a dropped column makes the partitions' rows differ from the stream's
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (id bigserial, gone int, k text NOT NULL, v int,
                 ts timestamptz NOT NULL DEFAULT clock_timestamp()) PARTITION BY RANGE (ts);
ALTER TABLE ev DROP COLUMN gone;
SELECT streamext.create_stream('ev', 'ts', retention => '8 seconds');
SELECT streamext.create_view('ev_sec', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$,
                             'tumbling 1 second');
SELECT streamext.create_view('ev_tot', $$ SELECT k, count(*) AS n, sum(v) AS s, max(v) AS mx FROM ev GROUP BY k $$);
});
$node->safe_psql('postgres', q{SELECT streamext.create_subscription('ev_sub', 'ev', notify => 'none')});
wait_caught_up($node);

my %view = (
	ev_sec => 'SELECT window_start, k, n, s FROM ev_sec ORDER BY 1, 2',
	ev_tot => 'SELECT k, n, s, mx FROM ev_tot ORDER BY 1');
my %oracle = (
	ev_sec => q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'), k, count(*), sum(v) FROM ev GROUP BY 1, 2 ORDER BY 1, 2},
	ev_tot => 'SELECT k, count(*), sum(v), max(v) FROM ev GROUP BY 1 ORDER BY 1');
my $sub_sql = q{SELECT newest_position, (SELECT md5(string_agg(position || ':' || event::text, ',' ORDER BY position))
                                          FROM streamext.poll('ev_sub', 100000))
                  FROM streamext.subscriptions WHERE name = 'ev_sub'};
my $where_sql = q{SELECT CASE WHEN pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' THEN 'default' ELSE 'range' END
                    FROM ev JOIN pg_class c ON c.oid = ev.tableoid WHERE k = '%s'};

# events: now, late ones in an old partition, one beyond the partitions
$node->safe_psql('postgres', q{
INSERT INTO ev (k, v) SELECT 'a' || (i % 5), i FROM generate_series(1, 200) i;
INSERT INTO ev (k, v, ts) SELECT 'late', i, clock_timestamp() - interval '5 seconds' FROM generate_series(1, 5) i;
INSERT INTO ev (k, v, ts) VALUES ('future', 1000, clock_timestamp() + interval '63 seconds');
});
wait_caught_up($node);
is($node->safe_psql('postgres', sprintf($where_sql, 'future')), 'default',
	'an event beyond the partitions goes to the default partition');
is($node->safe_psql('postgres', "SELECT DISTINCT " . substr(sprintf($where_sql, 'late'), 7)), 'range',
	'late events go to their (old) partition');

my %before;
for my $v (sort keys %view)
{
	$before{$v} = $node->safe_psql('postgres', $oracle{$v});
	is($node->safe_psql('postgres', $view{$v}), $before{$v}, "$v equals plain SQL before any drop");
}
my $sub_before = $node->safe_psql('postgres', $sub_sql);
like($sub_before, qr/^206\|/, 'the subscription delivered every event');
my @first = split /\n/, $node->safe_psql('postgres',
	q{SELECT DISTINCT tableoid::regclass FROM ev WHERE k LIKE 'a%' OR k = 'late'});
ok(@first >= 1, 'events are in partitions: ' . join(',', @first));

# the worker drops the partitions as they expire, and moves the future
# event into its partition once the clock comes near
my $gone = join(' AND ', map { "to_regclass('$_') IS NULL" } @first);
ok($node->poll_query_until('postgres', "SELECT $gone"), 'the worker dropped the expired partitions');
ok($node->poll_query_until('postgres', sprintf("SELECT (%s) = 'range'", sprintf($where_sql, 'future'))),
	'the future event moved from the default partition into its partition');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ev'), '1', 'the stream kept only the future event');
wait_caught_up($node);
for my $v (sort keys %view)
{
	is($node->safe_psql('postgres', $view{$v}), $before{$v}, "$v unchanged after the drop");
	isnt($node->safe_psql('postgres', $oracle{$v}), $before{$v}, "$v: the stream itself lost the events");
}
is($node->safe_psql('postgres', $sub_sql), $sub_before, 'the subscription is unchanged');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                   WHERE i.inhparent = 'ev'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'}),
	'1', 'one default partition');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'ev'::regclass}) >= 30,
	'partitions exist ahead of the clock');

# a worker restart: the views come back from their checkpoint, unchanged
my $pid = worker_pid($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid"),
	'a new worker runs');
wait_caught_up($node);
for my $v (sort keys %view)
{
	is($node->safe_psql('postgres', $view{$v}), $before{$v}, "$v unchanged after a worker restart");
}
is($node->safe_psql('postgres', $sub_sql), $sub_before, 'the subscription is unchanged after a restart');

# a partition dropped before the inserts into it were checkpointed: the
# next worker decodes them again from the WAL, with the historic catalog
$node->safe_psql('postgres', q{
ALTER SYSTEM SET streamext.checkpoint_interval = '1h';
SELECT pg_reload_conf();
});
sleep 1;
$node->safe_psql('postgres', q{
CREATE TABLE ev2 (k text NOT NULL, v int, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT streamext.create_stream('ev2', 'ts', retention => '8 seconds');
SELECT streamext.create_view('ev2_tot', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev2 GROUP BY k $$);
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
INSERT INTO ev2 (k, v, ts) SELECT 'old' || (i % 2), i, clock_timestamp() - interval '7 seconds' FROM generate_series(1, 10) i;
});
wait_caught_up($node);
my $ev2_expected = "old0|5|30\nold1|5|25";
is($node->safe_psql('postgres', 'SELECT * FROM ev2_tot ORDER BY 1'), $ev2_expected, 'ev2_tot counts the events');
my $part = $node->safe_psql('postgres', 'SELECT DISTINCT tableoid::regclass FROM ev2');
ok($node->poll_query_until('postgres', "SELECT to_regclass('$part') IS NULL"),
	"the worker dropped $part");
my $confirmed = $node->safe_psql('postgres', q{
SELECT confirmed_flush_lsn < (SELECT applied_lsn FROM streamext.streams LIMIT 1)
  FROM pg_replication_slots WHERE slot_name LIKE 'streamext_%'});
is($confirmed, 't', 'the inserts into the dropped partition are not checkpointed');
$pid = worker_pid($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid"),
	'a new worker runs');
$node->safe_psql('postgres', q{
ALTER SYSTEM RESET streamext.checkpoint_interval;
SELECT pg_reload_conf();
});
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT count(*) FROM ev2'), '0', 'ev2 holds no event');
is($node->safe_psql('postgres', 'SELECT * FROM ev2_tot ORDER BY 1'), $ev2_expected,
	'the next worker decoded the inserts into the dropped partition, once');
for my $v (sort keys %view)
{
	is($node->safe_psql('postgres', $view{$v}), $before{$v}, "$v still unchanged");
}
is($node->safe_psql('postgres', $sub_sql), $sub_before, 'the subscription still unchanged');
unlike(slurp_file($node->logfile), qr/could not maintain the partitions/, 'no maintenance round failed');

done_testing();
