# Late events of a session view join closed sessions by spans of the gap
# (window_session.c, session_note_late): a group's late events less than a
# span apart are merged with the sessions they join as a whole.  Here they
# fall inside closed sessions, bridge two closed sessions with events
# across span boundaries and on them, start sessions of their own, join an
# open session, come in one large transaction (which is applied event by
# event at its commit) and in small ones in any order, and one group has a
# NULL key.  The view must equal plain SQL, every closed session must
# reach a 'final' subscriber with its last values, and the
# sessions are taken out of the closed table once a span, not once an
# event (one by one, 100,000 late events took minutes and gigabytes).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StreamextTest;

my $node = streamext_node('session_late_spans', "logical_decoding_work_mem = '64kB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('sess', $$ SELECT k, count(*) AS n, sum(v) AS s, min(ts) AS first FROM ev GROUP BY k $$,
                             "window" => 'session 5 seconds');});
create_final_subscription($node, 'sess');

# 1 s bursts 20 s apart, 7 groups (one of them NULL): sessions that close
$node->safe_psql('postgres', q{
INSERT INTO ev SELECT nullif(i % 7, 6), i % 13,
       '2026-01-01 00:00:00+00'::timestamptz + (i / 700) * interval '20 seconds' + (i % 700) * interval '1 ms'
  FROM generate_series(0, 69999) i;});
wait_caught_up($node);

my $oracle = window_oracle({ window => 'session 5 seconds', keys => ['k'],
	aggs => ['count(*) AS n', 'sum(v) AS s', 'min(ts) AS first'] });
check_views($node, 'postgres', 'before the late events', [ 'sess', $oracle ]);

# one large transaction of late events, out of order: inside closed
# sessions, bridging bursts 3 and 4 (events every 4 s from the end of one to
# the start of the next, across the 5 s spans), on span boundaries (whole
# multiples of 5 s), and sessions of their own between bursts 10 and 11
my $t0 = time();
$node->safe_psql('postgres', q{
INSERT INTO ev
SELECT k, v, ts FROM (
  SELECT nullif(i % 7, 6) AS k, i % 5 AS v,
         '2026-01-01 00:00:00+00'::timestamptz + ((i * 7919) % 100) * interval '20 seconds'
           + ((i * 104729) % 1000) * interval '1 ms' AS ts
    FROM generate_series(1::bigint, 60000) i
  UNION ALL
  SELECT k, 100, '2026-01-01 00:01:00.7+00'::timestamptz + s * interval '4 seconds'
    FROM generate_series(0, 5) k, generate_series(0, 4) s
  UNION ALL
  SELECT nullif(k, 6), 200, '2026-01-01 00:00:00+00'::timestamptz + m * interval '5 seconds'
    FROM generate_series(0, 6) k, generate_series(0, 40) m
  UNION ALL
  SELECT k, 300, '2026-01-01 00:03:28+00'::timestamptz + interval '300 ms' * k
    FROM generate_series(0, 5) k
) late ORDER BY md5(ts::text || coalesce(k, -1)::text);});
is($node->safe_psql('postgres', q{SELECT streamext.wait_caught_up('120s')}), 't',
	'the worker caught up with the late events');
diag(sprintf('60,000 late events of a session view applied in %.1f s', time() - $t0));
check_views($node, 'postgres', 'after one large transaction of late events', [ 'sess', $oracle ]);

# each span took its group's sessions out of the closed table once, not
# each event (the worker's table statistics come within a second)
my $closed = $node->safe_psql('postgres',
	q{SELECT closed_relid::oid FROM streamext.view_def WHERE name = 'sess'});
$node->poll_query_until('postgres',
	"SELECT n_tup_del > 0 FROM pg_stat_all_tables WHERE relid = $closed")
  or diag('no table statistics of the closed table');
sleep(2);
my $deleted = $node->safe_psql('postgres',
	"SELECT n_tup_del FROM pg_stat_all_tables WHERE relid = $closed");
ok($deleted < 2500, "closed sessions taken out $deleted times for 60,317 late events");

# small transactions of late events in any order, and events at the end of
# the stream that keep the last sessions open and join them
for my $round (1 .. 5)
{
	$node->safe_psql('postgres', qq{
INSERT INTO ev SELECT nullif(i % 7, 6), $round,
       '2026-01-01 00:00:00+00'::timestamptz + ((i * 31 + $round * 17) % 2000) * interval '1 second'
  FROM generate_series(1, 40) i;
INSERT INTO ev VALUES (1, $round, '2026-01-01 00:33:19+00'::timestamptz + $round * interval '1 second');});
}
wait_caught_up($node);
wait_checkpointed($node);
check_views($node, 'postgres', 'after small transactions of late events', [ 'sess', $oracle ]);
# every closed session reached the subscriber with its final values, as a
# window or, when late events changed it after it closed, as a correction;
# no window was queued twice
is( $node->safe_psql(
		'postgres', q{
WITH closed AS (
  SELECT to_jsonb(v) AS row FROM sess v, streamext.view_progress p, streamext.view_def d
   WHERE d.name = 'sess' AND p.view_id = d.id AND v.window_end <= p.closed_upto),
queued AS (
  SELECT q.kind, q.event AS row FROM streamext.subscription_queue q
    JOIN streamext.subscription_def s ON s.id = q.subscription_id
   WHERE s.name = 'sess_final')
SELECT (SELECT count(*) > 800 FROM closed),
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT row FROM queued) m),
       (SELECT count(*) FROM (SELECT row FROM queued WHERE kind = 'window'
                               GROUP BY row HAVING count(*) > 1) t),
       (SELECT count(*) FROM streamext.dead_letters)}),
	't|0|0|0',
	'every closed session queued with its final values, no window twice, no dead letter');
$node->stop;
done_testing();
