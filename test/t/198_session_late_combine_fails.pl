# A session view whose combine function fails while a closing merges late
# events with the sessions they join (window_session.c, resolve_late): the
# late events of that group and span are set aside as a dead letter, the
# closed sessions they were to join stay as they were, the open ones too,
# and the worker goes on with the other groups.  Before, the closing
# failed as a whole and the worker restarted without end.  So it did when
# compacting the open sessions (which combines their states into fresh
# memory) failed: now they stay where they are.
#
# The combine function refuses a state of 13, in either argument.  Late
# events fail when their state is 13 and they join a closed session (g 1),
# when a closed session's state is 13 (g 3, bridging two closed sessions),
# and when an open session's state is 13 (g 4); g 2's late events in the
# same transactions merge as usual.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use StreamextTest;

my $node = streamext_node('session_late_combine_fails');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int, v int, ts timestamptz NOT NULL, aside bool NOT NULL DEFAULT false);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
CREATE FUNCTION plus(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN RETURN $1 + $2; END';
CREATE FUNCTION picky_combine(int8, int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $1 = 13 OR $2 = 13 THEN RAISE EXCEPTION ''no thirteens''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE picky_sum(int) (sfunc = plus, stype = int8, combinefunc = picky_combine,
                                 initcond = '0');
SELECT streamext.create_view('sess', $$ SELECT k, count(*) AS n, picky_sum(v) AS s FROM ev GROUP BY k $$,
                             "window" => 'session 10 seconds');
SELECT streamext.create_subscription('sess_final', 'sess', notify => 'none');
-- closed sessions: g 1 and 2 at 10:00:00-05 and 10:00:30-35 (states 6),
-- g 3 at 10:01:00 (state 13) and 10:01:15 (state 1)
INSERT INTO ev (k, v, ts)
SELECT k, 1, '2026-01-01 10:00:00+00'::timestamptz + b * interval '30 seconds' + s * interval '1 second'
  FROM generate_series(1, 2) k, generate_series(0, 1) b, generate_series(0, 5) s;
INSERT INTO ev (k, v, ts) VALUES (3, 13, '2026-01-01 10:01:00+00'), (3, 1, '2026-01-01 10:01:15+00');
-- the watermark at 10:05:00; g 4's session (state 13) stays open
INSERT INTO ev (k, v, ts) VALUES (4, 13, '2026-01-01 10:04:58+00'), (9, 1, '2026-01-01 10:05:00+00');
});
wait_caught_up($node);
my $pid = worker_pid($node);

my $oracle = window_oracle({ window => 'session 10 seconds', keys => ['k'],
	aggs => ['count(*) AS n', 'picky_sum(v) AS s'], where => 'NOT aside' });
check_views($node, 'postgres', 'before the late events', [ 'sess', $oracle ]);

my $dead = q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
              WHERE v.name = 'sess'};
my $n = 0;
for my $late (
	[ 'a late state of 13 joins a closed session',
	  q{(1, 13, '2026-01-01 10:00:07+00', true), (2, 2, '2026-01-01 10:00:07+00', false)} ],
	[ 'a late event bridges two closed sessions, one of state 13',
	  q{(3, 2, '2026-01-01 10:01:08+00', true), (2, 1, '2026-01-01 10:00:25+00', false)} ],
	[ 'a late event joins an open session of state 13',
	  q{(4, 1, '2026-01-01 10:04:50+00', true), (2, 1, '2026-01-01 10:00:42+00', false)} ])
{
	my ($label, $rows) = @$late;
	$n++;
	$node->safe_psql('postgres', "INSERT INTO ev (k, v, ts, aside) VALUES $rows");
	is($node->safe_psql('postgres', q{SELECT streamext.wait_caught_up('60s')}), 't',
		"$label: the worker caught up");
	is(worker_pid($node), $pid, "$label: the worker did not restart");
	is($node->safe_psql('postgres', $dead), $n, "$label: the group's late events are a dead letter");
	check_views($node, 'postgres', $label, [ 'sess', $oracle ]);
}
like($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT message, ',') FROM streamext.dead_letters}),
	qr/no thirteens/, 'the dead letters say why');

# the sessions go on: more late events merge, the open session closes
$node->safe_psql('postgres', q{
INSERT INTO ev (k, v, ts) VALUES (1, 1, '2026-01-01 10:00:12+00'), (3, 1, '2026-01-01 10:01:20+00');
INSERT INTO ev (k, v, ts) VALUES (9, 1, '2026-01-01 10:10:00+00');
});
wait_caught_up($node);
check_views($node, 'postgres', 'after more late events', [ 'sess', $oracle ]);
is($node->safe_psql('postgres', q{SELECT s FROM sess WHERE k = 4}), '13',
	'the open session of state 13 closed as it was');
# every closed session reached the subscriber once, with its last values
is($node->safe_psql('postgres', q{
WITH closed AS (SELECT to_jsonb(v) AS row FROM sess v WHERE v.window_end <= '2026-01-01 10:10:00+00'),
queued AS (SELECT q.event::jsonb AS row FROM streamext.subscription_queue q
             JOIN streamext.subscription_def s ON s.id = q.subscription_id
            WHERE s.name = 'sess_final' AND q.kind IN ('window', 'correction'))
SELECT (SELECT count(*) FROM closed) || ' ' ||
       (SELECT count(*) FROM (SELECT row FROM queued GROUP BY row HAVING count(*) > 1) d) || ' ' ||
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT row FROM queued) m)}),
	'8 0 0', 'every closed session reached the subscriber, none twice');

# sessions closing by the thousand make the worker compact the open ones,
# which combines each open session's states into fresh memory: g 5's open
# session of state 13 fails that, and must stay as it was
$node->safe_psql('postgres', q{
INSERT INTO ev (k, v, ts) VALUES (5, 13, '2026-01-01 10:20:00+00');
INSERT INTO ev (k, v, ts) SELECT k, 1, '2026-01-01 10:19:55+00' FROM generate_series(100, 2599) k;
INSERT INTO ev (k, v, ts) VALUES (9, 1, '2026-01-01 10:20:06+00');
});
wait_caught_up($node);
is(worker_pid($node), $pid, 'compacting the open sessions: the worker did not restart');
check_views($node, 'postgres', 'after 2,500 sessions closed', [ 'sess', $oracle ]);
$node->safe_psql('postgres', q{INSERT INTO ev (k, v, ts) VALUES (5, 1, '2026-01-01 10:20:09+00'), (9, 1, '2026-01-01 10:30:00+00')});
wait_caught_up($node);
check_views($node, 'postgres', 'the session kept open closes', [ 'sess', $oracle ]);

# late events merged into an open session again and again leave no states
# behind: the session's window memory stays as it was (with the states of
# each merge copied and left behind, 30 merges of a 20,000-value DISTINCT
# set took 7.9 MB more)
$node->safe_psql('postgres', q{
ALTER SYSTEM SET streamext.checkpoint_interval = '100ms';
SELECT pg_reload_conf();
CREATE TABLE big (k int, x int, ts timestamptz NOT NULL, v int NOT NULL DEFAULT 1,
                  aside bool NOT NULL DEFAULT false);
SELECT streamext.create_stream('big', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('big_sess', $$ SELECT k, count(*) AS n, count(DISTINCT x) AS dx, picky_sum(v) AS s FROM big GROUP BY k $$,
                             "window" => 'session 1 hour');
INSERT INTO big SELECT 1, x, '2026-01-01 10:00:00+00' FROM generate_series(1, 20000) x;
});
wait_caught_up($node);

# window_memory dumps the worker's memory contexts into the log and returns
# the bytes its session windows use
sub window_memory
{
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
	my $log = '';
	for (1 .. 100)
	{
		$log = slurp_file($node->logfile, $offset);
		last if $log =~ /Grand total/;
		usleep(100_000);
	}
	my $used = 0;
	$used += $1 while $log =~ /streamext window: \d+ total in \d+ blocks; \d+ free \(\d+ chunks\); (\d+) used/g;
	return $used;
}
sub late_merges
{
	my ($from, $to) = @_;
	for my $r ($from .. $to)
	{
		$node->safe_psql('postgres', "INSERT INTO big VALUES (1, 1, '2026-01-01 10:00:00+00'::timestamptz + $r * interval '2 s')");
		wait_caught_up($node);
		usleep(300_000);
		$node->safe_psql('postgres', "INSERT INTO big VALUES (1, 2, '2026-01-01 10:00:00+00'::timestamptz + $r * interval '2 s' - interval '1 s')");
		wait_caught_up($node);
	}
}
late_merges(1, 3);
my $before = window_memory();
late_merges(4, 23);
my $after = window_memory();
ok($before > 0 && $after - $before < 2_000_000,
	"20 late merges into an open session: its window uses $before, then $after bytes");
is($node->safe_psql('postgres', q{SELECT late_events FROM streamext.views WHERE name = 'big_sess'}), '23',
	'the late events were late');
check_views($node, 'postgres', 'after the late merges', [ 'big_sess',
	q{SELECT min(ts), max(ts) + interval '1 hour', k, count(*), count(DISTINCT x), picky_sum(v)
        FROM big WHERE NOT aside GROUP BY k} ]);

# late events refused by the combine function after the DISTINCT set took
# them: the session gets its states back, and the states the failed merge
# left are freed (each failure left a copy of the set behind before)
for my $r (24 .. 29)
{
	$node->safe_psql('postgres', "INSERT INTO big VALUES (1, 3, '2026-01-01 10:00:00+00'::timestamptz + $r * interval '2 s')");
	wait_caught_up($node);
	usleep(300_000);
	$node->safe_psql('postgres', "INSERT INTO big VALUES (1, 20000 + $r, '2026-01-01 10:00:00+00'::timestamptz + $r * interval '2 s' - interval '1 s', 13, true)");
	wait_caught_up($node);
}
my $failed = window_memory();
ok($failed - $after < 500_000, "6 failed late merges: its window uses $after, then $failed bytes");
is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
                                   WHERE v.name = 'big_sess'}), '6', 'each failed merge is a dead letter');
check_views($node, 'postgres', 'after the failed late merges', [ 'big_sess',
	q{SELECT min(ts), max(ts) + interval '1 hour', k, count(*), count(DISTINCT x), picky_sum(v)
        FROM big WHERE NOT aside GROUP BY k} ]);

is($node->safe_psql('postgres', q{SELECT sum(worker_restarts) FROM streamext.streams}), '0',
	'no worker restart');

done_testing();
